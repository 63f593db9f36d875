// The UMT5 text encoder on the GPU against the real library: every fixture of
// tests/fixtures/umt5 (transformers + diffusers float64, make_umt5_cases.py) and the public golden
// umt5_small, in-process through loadTextEncoder → encodePrompt; streamed = resident; the prompt
// cache; errors before GPU work.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readInputs } from '../../src/io/inputs.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { loadTextEncoder, type Umt5TextEncoder } from '../../src/text/prompt-encoder.js';
import { FIXTURES } from '../helpers/golden.js';
import { GOLDEN_F32 } from '../tolerances.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { relError } from '../helpers/compare.js';

const TOL = GOLDEN_F32; // the goldens' metric, max|out − expected| / max|expected|, held to the f32 bound

const open = (dir: string, opts: { stream?: boolean } = {}) =>
  loadTextEncoder({ tokenizer: nodeFolder(join(dir, 'tokenizer')), textEncoder: nodeFolder(join(dir, 'text_encoder')) }, { gpu: gpu!, ...opts });

interface Case {
  prompt: string | string[];
  negative_prompt: string | null;
  max_sequence_length: number;
}

describe.skipIf(!hasGpu)('UMT5 text encoder (GPU) vs transformers + diffusers', () => {
  const opened: Umt5TextEncoder[] = [];
  afterAll(() => opened.forEach((e) => e.dispose()));

  for (const name of ['buckets', 'truncneg', 'negdefault', 'sharded_bf16', 'long', 'trunc_left']) {
    it(`${name}: prompt_embeds (and negative_prompt_embeds) within ${TOL}`, async () => {
      const dir = join(FIXTURES, 'umt5', name);
      const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as Case;
      const exp = await readInputs(join(dir, 'expected.safetensors'));
      const enc = await open(join(dir, 'pipeline'));
      opened.push(enc);
      const prompts = typeof c.prompt === 'string' ? [c.prompt] : c.prompt;
      const pos = await enc.encodePrompt(prompts, { max_sequence_length: c.max_sequence_length });
      const want = exp.get('prompt_embeds')!;
      expect(pos.shape).toEqual(want.shape);
      const e = relError(pos.data, want.f32!);
      console.log(`umt5 ${name}: prompt_embeds rel err ${e.toExponential(3)} (${enc.encoder.mode})`);
      expect(e).toBeLessThan(TOL);
      if (c.negative_prompt !== null) {
        const neg = await enc.encodePrompt(prompts.map(() => (c.negative_prompt === '<default>' ? '' : c.negative_prompt!)), { max_sequence_length: c.max_sequence_length });
        const en = relError(neg.data, exp.get('negative_prompt_embeds')!.f32!);
        console.log(`umt5 ${name}: negative_prompt_embeds rel err ${en.toExponential(3)}`);
        expect(en).toBeLessThan(TOL);
      }
    });
  }

  it('umt5_small (public golden) in-process, and streamed layer by layer gives the same numbers', async () => {
    const dir = join(FIXTURES, 'umt5_small');
    const want = (await readInputs(join(dir, 'expected.safetensors'))).get('prompt_embeds')!;
    const resident = await open(join(dir, 'pipeline'));
    const streamed = await open(join(dir, 'pipeline'), { stream: true });
    opened.push(resident, streamed);
    expect(resident.encoder.mode).toBe('resident');
    expect(streamed.encoder.mode).toBe('stream');
    const a = await resident.encodePrompt(['a red circle moving left'], { max_sequence_length: 16 });
    const b = await streamed.encodePrompt(['a red circle moving left'], { max_sequence_length: 16 });
    expect(relError(a.data, want.f32!)).toBeLessThan(TOL);
    expect(relError(b.data, a.data)).toBeLessThan(1e-6);
  });

  it('refuses token ids outside the encoder vocabulary before any GPU work, and inconsistent lengths', async () => {
    const enc = await open(join(FIXTURES, 'umt5_small', 'pipeline'));
    opened.push(enc);
    await expect(enc.encoder.encode(Int32Array.from([5, 101, 1]), [3], 3)).rejects.toThrow(/token id 101 at position 1 is outside the text encoder's vocabulary \[0, 101\)/);
    await expect(enc.encoder.encode(Int32Array.from([5, 1, 0]), [4], 3)).rejects.toThrow('encode: prompts[0] has length 4, expected an integer in 1..3 (the token ids given per prompt)');
    await expect(enc.encodePrompt(['x'], { max_sequence_length: 0 })).rejects.toThrow(/max_sequence_length: a positive integer/);
  });

  it('encodes a prompt once per length (cache), batches mixed hits and misses', async () => {
    const enc = await open(join(FIXTURES, 'umt5_small', 'pipeline'));
    opened.push(enc);
    const one = await enc.encodePrompt(['a red circle'], { max_sequence_length: 12 });
    expect(enc.encodedCount).toBe(1);
    const again = await enc.encodePrompt(['a red circle'], { max_sequence_length: 12 });
    expect(enc.encodedCount).toBe(1);
    expect(again.data).toEqual(one.data);
    const two = await enc.encodePrompt(['', 'a red circle', ''], { max_sequence_length: 12 });
    expect(enc.encodedCount).toBe(2); // only "" was new, and only once
    expect(two.shape).toEqual([3, 12, 32]);
    expect(two.data.subarray(12 * 32, 24 * 32)).toEqual(one.data);
    expect(two.data.subarray(0, 12 * 32)).toEqual(two.data.subarray(24 * 32));
    await enc.encodePrompt(['a red circle'], { max_sequence_length: 13 });
    expect(enc.encodedCount).toBe(3); // another length is another encode
  });

  it('runs the encoder at the longest prompt (rounded up to 16 tokens), not max_sequence_length: the same rows bit for bit', async () => {
    const enc = await open(join(FIXTURES, 'umt5_small', 'pipeline'));
    opened.push(enc);
    const L = 96;
    const prompts = ['', 'a red circle', 'a blue square moving up and to the left, slowly, across a grey background with a few small stars'];
    const t = enc.tokenizer.tokenize(prompts, L);
    expect(Math.max(...t.lengths)).toBeGreaterThan(16); // the run rounds up past one multiple
    const full = await enc.encoder.encode(t.ids, t.lengths, L); // what WanPipeline runs: every prompt padded to L
    const runs: number[] = [];
    const encode = enc.encoder.encode.bind(enc.encoder);
    enc.encoder.encode = (ids, lengths, seqLen, o) => (runs.push(seqLen), encode(ids, lengths, seqLen, o));
    const got = await enc.encodePrompt(prompts, { max_sequence_length: L });
    expect(runs).toEqual([Math.ceil(Math.max(...t.lengths) / 16) * 16]);
    expect(got.shape).toEqual([3, L, 32]);
    expect(got.data).toEqual(full); // bit for bit, zero rows past each prompt included
    const one = await enc.encodePrompt(['a green triangle'], { max_sequence_length: L }); // batch 1, run 16
    expect(runs[1]).toBe(16);
    const t1 = enc.tokenizer.tokenize(['a green triangle'], L);
    expect(one.data).toEqual(await encode(t1.ids, t1.lengths, L));
  });
});
