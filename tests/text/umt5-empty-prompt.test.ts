// A prompt that tokenizes to 0 tokens (only with a tokenizer that appends no end token: an empty or
// blank prompt) has no key for its attention; the UMT5 encoder refuses it in one line naming the
// prompt as the caller gave it (prompts[i] of encodePrompt, prompt / negative_prompt of
// Pipeline.generate), why, and the range it takes.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { ROOT } from '../helpers/golden.js';
import { nodeFolder } from '../../src/io/node-source.js';
import type { FolderSource } from '../../src/io/source.js';
import { loadTextEncoder, type Umt5TextEncoder } from '../../src/text/prompt-encoder.js';
import { loadTokenizer } from '../../src/text/tokenizer.js';
import { TextEncoderError } from '../../src/text/umt5.js';
import { loadPipeline } from '../../src/pipeline/pipeline.js';

const SHAPES = join(ROOT, 'models', 'tessera-shapes');
const WHY = 'its tokens are the only keys its attention may attend to, and with none its embeddings would be NaN (a tokenizer that appends no end token "</s>" gives an empty or blank prompt none: give a non-empty prompt, or a tokenizer whose post_processor appends "</s>", as UMT5\'s does)';
const zero = (name: string) => `encode: ${name} tokenized to 0 tokens; a prompt needs at least 1 token: ${WHY}`;

/** The embedded pipeline folder with a tokenizer.json whose post_processor (the "</s>" it appends) is removed. */
function withoutEndToken(dir: string): FolderSource {
  const base = nodeFolder(dir);
  const json = JSON.parse(readFileSync(join(SHAPES, 'tokenizer', 'tokenizer.json'), 'utf8'));
  json.post_processor = null;
  const text = JSON.stringify(json);
  const file = dir === SHAPES ? 'tokenizer/tokenizer.json' : 'tokenizer.json';
  return { ...base, readText: async (rel: string) => (rel === file ? text : base.readText(rel)) };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(TextEncoderError);
  return (e as Error).message;
}

describe.skipIf(!hasGpu)('a prompt of 0 tokens', () => {
  let enc: Umt5TextEncoder;
  beforeAll(async () => {
    const tokenizer = withoutEndToken(join(SHAPES, 'tokenizer'));
    expect((await loadTokenizer(tokenizer)).tokenize(['', '  ', 'a red circle'], 16).lengths).toEqual([0, 0, 3]);
    enc = await loadTextEncoder({ tokenizer, textEncoder: nodeFolder(join(SHAPES, 'text_encoder')) }, { gpu: gpu! });
  });
  afterAll(() => enc?.dispose());

  it('Umt5Encoder.encode: the row, why, and the range', async () => {
    expect(await refusal(enc.encoder.encode(new Int32Array(8).fill(5), [3, 0], 4))).toBe(zero('prompts[1]'));
    expect(await refusal(enc.encoder.encode(new Int32Array(0), [0], 0))).toBe(zero('prompts[0]'));
    expect(await refusal(enc.encoder.encode(Int32Array.from([5, 1, 0]), [4], 3))).toBe('encode: prompts[0] has length 4, expected an integer in 1..3 (the token ids given per prompt)');
    expect(await refusal(enc.encoder.encode(new Int32Array(6).fill(5), [3, 1.5], 3, { names: ['a', 'b'] }))).toBe('encode: b has length 1.5, expected an integer in 1..3 (the token ids given per prompt)');
  });

  it("encodePrompt names the caller's index, whatever was deduplicated or cached", async () => {
    // distinct prompts run: ['a red circle', ''] — the empty one is the caller's prompts[1]
    expect(await refusal(enc.encodePrompt(['a red circle', '', 'a red circle', ''], { max_sequence_length: 16 }))).toBe(zero('prompts[1]'));
    expect(await refusal(enc.encodePrompt([''], { max_sequence_length: 16 }))).toBe(zero('prompts[0]'));
    // 'a red circle' cached: the blank one is the only row run, still the caller's prompts[2]
    await enc.encodePrompt(['a red circle'], { max_sequence_length: 16 });
    expect(await refusal(enc.encodePrompt(['a red circle', 'a red circle', '   '], { max_sequence_length: 16 }))).toBe(zero('prompts[2]'));
  });
});

describe.skipIf(!hasGpu)('Pipeline.generate names prompt / negative_prompt', () => {
  const sizes = { seed: 0, height: 32, width: 32, num_frames: 9, num_inference_steps: 1, max_sequence_length: 16 };
  it('the default negative prompt "" under guidance, a list item, a string', async () => {
    const pipe = await loadPipeline(withoutEndToken(SHAPES), { gpu: gpu! });
    try {
      expect(await refusal(pipe.generate({ ...sizes, prompt: 'a red circle', guidance_scale: 5 }))).toBe(zero('negative_prompt (default "")'));
      expect(await refusal(pipe.generate({ ...sizes, prompt: 'a red circle', negative_prompt: ' ', guidance_scale: 5 }))).toBe(zero('negative_prompt'));
      expect(await refusal(pipe.generate({ ...sizes, prompt: ['a red circle', ''], guidance_scale: 1 }))).toBe(zero('prompt[1]'));
      expect(await refusal(pipe.generate({ ...sizes, prompt: '', guidance_scale: 1 }))).toBe(zero('prompt'));
    } finally {
      pipe.dispose();
    }
  }, 120_000);
});
