// The text encoder's safetensors file stayed open from load until dispose() (a fresh user's list, session 16): each
// encode reads embedding rows (and, streamed, layers) from it, and a user who never disposed left a FileHandle for
// Node to close at GC with DEP0137. Now no handle is open between calls: the file is released after the load and
// after each encode and opened again by the next read (ModelFolder.release); a file that changed size meanwhile is
// refused. Linux (/proc/self/fd names the files a process holds).
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { loadTextEncoder } from '../../src/text/prompt-encoder.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { openOn } from '../helpers/open-files.js';

const DIR = join(ROOT, 'models', 'tessera-shapes');
const tmp = mkdtempSync(join(tmpdir(), 'tessera-te-handles-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!hasGpu || process.platform !== 'linux')('text encoder file handles', () => {
  for (const stream of [false, true]) {
    it(`${stream ? 'streamed' : 'resident'}: no handle open after the load or between encodes; the same embeddings`, async () => {
      const dir = join(tmp, stream ? 'stream' : 'resident');
      cpSync(DIR, dir, { recursive: true });
      const file = join(dir, 'text_encoder', 'model.safetensors');
      const enc = await loadTextEncoder(dir, { gpu: gpu!, stream, cacheSize: 0 });
      try {
        enc.encoder.rowCacheLimit = 0; // every encode reads its rows from the file
        expect(enc.encoder.mode).toBe(stream ? 'stream' : 'resident');
        expect(openOn(file)).toBe(0);
        const a = await enc.encodePrompt(['a red circle'], { max_sequence_length: 16 });
        expect(openOn(file)).toBe(0);
        const b = await enc.encodePrompt(['a red circle'], { max_sequence_length: 16 });
        expect(openOn(file)).toBe(0);
        expect(b.data).toEqual(a.data);
        // a file that changed under a loaded encoder is refused, not read at stale offsets
        appendFileSync(file, new Uint8Array(8));
        await expect(enc.encodePrompt(['a blue square'], { max_sequence_length: 16 })).rejects.toThrow(`${file}: changed since the folder was opened`);
        expect(openOn(file)).toBe(0);
      } finally {
        enc.dispose();
      }
    });
  }
});
