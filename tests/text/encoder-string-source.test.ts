// loadTextEncoder takes strings as loadModel and loadPipeline do (a fresh user's list, session 16): it took only
// FolderSources, so a user who loaded a pipeline from a path had to build nodeFolder/subFolder for its text side.
// Now the pipeline folder as a path, a file:// URL or a FolderSource (its tokenizer/ and text_encoder/), or
// `{ tokenizer, textEncoder }` of strings, loads the same encoder (the same embeddings); a bad one is named.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { subFolder } from '../../src/io/source.js';
import { loadTextEncoder } from '../../src/text/prompt-encoder.js';
import { InputError } from '../../src/model/model.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const DIR = join(ROOT, 'models', 'tessera-shapes');

describe("loadTextEncoder's string sources (before any weight is read)", () => {
  it('a path is the pipeline folder: its tokenizer/ is read; a malformed file:// URL is an InputError', async () => {
    const e = (await loadTextEncoder(join(ROOT, 'no-such-pipeline')).catch((x: unknown) => x)) as Error;
    expect(e.name).toBe('TokenizerError');
    expect(e.message).toMatch(new RegExp(`^${join(ROOT, 'no-such-pipeline')}/tokenizer/tokenizer\\.json: missing`));
    const u = (await loadTextEncoder('file://host/x').catch((x: unknown) => x)) as Error;
    expect(u).toBeInstanceOf(InputError);
    expect(u.message).toMatch(/^file:\/\/host\/x: not a file:\/\/ URL of a local folder/);
  });
});

describe.skipIf(!hasGpu)("loadTextEncoder's string sources", () => {
  it('a path, a file:// URL, a FolderSource of the pipeline and { tokenizer, textEncoder } strings give the same encoder', async () => {
    const given = [DIR, pathToFileURL(DIR).href, nodeFolder(DIR), { tokenizer: join(DIR, 'tokenizer'), textEncoder: join(DIR, 'text_encoder') }] as const;
    const want = await loadTextEncoder({ tokenizer: subFolder(nodeFolder(DIR), 'tokenizer'), textEncoder: subFolder(nodeFolder(DIR), 'text_encoder') }, { gpu: gpu! });
    const ref = await want.encodePrompt(['a red circle'], { max_sequence_length: 16 });
    want.dispose();
    for (const src of given) {
      const enc = await loadTextEncoder(src, { gpu: gpu! });
      try {
        const got = await enc.encodePrompt(['a red circle'], { max_sequence_length: 16 });
        expect(got.shape).toEqual(ref.shape);
        expect(got.data).toEqual(ref.data);
      } finally {
        enc.dispose();
      }
    }
  });
});
