// loadTextEncoder's first argument holds the two folders and nothing else: an option there (maxMemory)
// was accepted and ignored, a missing folder gave a raw TypeError reading 'readText'. Each is an
// InputError naming the key, before anything is read. No device needed.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/golden.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { loadTextEncoder } from '../../src/text/prompt-encoder.js';
import { InputError } from '../../src/model/model.js';

const nowhere = nodeFolder(join(ROOT, 'no-such-folder'));
const SOURCES = 'a path or URL string (a path or file:// URL in Node, an http(s):// URL), or a FolderSource (nodeFolder(dir) on Node; httpFolder(url) or mapFolder(files) in browsers)';
const refusal = (folders: unknown, opts?: object): Promise<Error> => loadTextEncoder(folders as never, opts).then(() => new Error('accepted'), (e: Error) => e);

describe("loadTextEncoder's folders (before anything is read)", () => {
  it('an option given with the folders says it belongs in the second argument', async () => {
    for (const k of ['maxMemory', 'gpu', 'cacheSize']) {
      const e = await refusal({ tokenizer: nowhere, textEncoder: nowhere, [k]: 1 });
      expect(e, k).toBeInstanceOf(InputError);
      expect(e.message).toBe(`${k}: not a folder of loadTextEncoder but of its options, the second argument (folders: tokenizer, textEncoder)`);
    }
  });

  it('another key: did you mean', async () => {
    const e = await refusal({ tokenizer: nowhere, text_encoder: nowhere });
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toBe('text_encoder: not a folder of loadTextEncoder; did you mean textEncoder? (folders: tokenizer, textEncoder)');
    const n = await refusal(42);
    expect(n.message).toBe('loadTextEncoder: expected a folders object such as "Wan2.1-T2V-1.3B-Diffusers" (the pipeline folder) or { tokenizer: dir + "/tokenizer", textEncoder: dir + "/text_encoder" }, got 42');
  });

  it('a missing folder or one that is not a FolderSource is named', async () => {
    for (const [folders, msg] of [
      [{ tokenizer: nowhere }, `textEncoder: missing; give the pipeline's text_encoder/ folder as ${SOURCES}`],
      [{ textEncoder: nowhere }, `tokenizer: missing; give the pipeline's tokenizer/ folder as ${SOURCES}`],
      [{ tokenizer: 1, textEncoder: nowhere }, `tokenizer: ${SOURCES}, got number 1`],
      [{ tokenizer: nowhere, textEncoder: {} }, `textEncoder: ${SOURCES}, got an object without readText and open`],
      [{ tokenizer: nowhere, textEncoder: null }, `textEncoder: ${SOURCES}, got object null`],
    ] as const) {
      const e = await refusal(folders);
      expect(e, msg).toBeInstanceOf(InputError);
      expect(e.message).toBe(msg);
    }
  });
});
