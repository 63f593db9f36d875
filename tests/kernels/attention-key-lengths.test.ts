// Attention's keyLengths (per batch item, the number of valid keys: a text padding mask) must be
// an integer in 1..Lk: 0 leaves a query row no key to attend to (a NaN row). Host values are
// refused at the op with one line naming keyLengths, the batch item and the range, before any GPU
// work; the model path that computes them (prompt → tokenizer → UMT5 encoder) never reaches the
// op with 0: an empty prompt is at least the end token, and a tokenizer without one is refused
// by the encoder.
import { mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { attention, checkKeyLengths } from '../../src/ops/attention.js';
import { Plan } from '../../src/gpu/plan.js';
import { Allocator } from '../../src/gpu/tensor.js';
import { biasAttentionRef } from '../../src/ref/umt5.js';
import { randn } from '../../src/random.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { loadTokenizer } from '../../src/text/tokenizer.js';
import { loadTextEncoder } from '../../src/text/prompt-encoder.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';

const [B, Lq, Lk, H, D] = [2, 5, 7, 2, 8];
const W = H * D;

describe('checkKeyLengths', () => {
  it('accepts integers in 1..Lk, one per batch item', () => {
    expect(() => checkKeyLengths([1, 7], 2, 7)).not.toThrow();
    expect(() => checkKeyLengths(Uint32Array.of(3), 1, 3)).not.toThrow();
  });
  it('refuses 0, > Lk, non-integers and a wrong count, naming keyLengths, the batch item and the range', () => {
    expect(() => checkKeyLengths([7, 0], 2, 7)).toThrow(new Error('attention: keyLengths[1] (batch item 1) is 0, expected an integer in 1..7 (valid keys of the 7 kv tokens; 0 leaves no key to attend to)'));
    expect(() => checkKeyLengths([8, 1], 2, 7)).toThrow(new Error('attention: keyLengths[0] (batch item 0) is 8, expected an integer in 1..7 (valid keys of the 7 kv tokens)'));
    expect(() => checkKeyLengths([2.5, 1], 2, 7)).toThrow(new Error('attention: keyLengths[0] (batch item 0) is 2.5, expected an integer in 1..7 (valid keys of the 7 kv tokens)'));
    expect(() => checkKeyLengths([3, NaN], 2, 7)).toThrow(/^attention: keyLengths\[1\] \(batch item 1\) is NaN, expected an integer in 1\.\.7/);
    expect(() => checkKeyLengths([-1, 3], 2, 7)).toThrow(/keyLengths\[0\] \(batch item 0\) is -1, expected an integer in 1\.\.7/);
    expect(() => checkKeyLengths([3], 2, 7)).toThrow(new Error('attention: keyLengths has 1 entries, expected one per batch item (batch 2)'));
  });
});

describe.skipIf(!hasGpu)('attention with host keyLengths', () => {
  const q = randn(B * Lq * W, 11), k = randn(B * Lk * W, 12), v = randn(B * Lk * W, 13);
  const inputs = (alloc: Allocator) => ({
    q: alloc.upload(q, [B, Lq, W], 'f32', 'q'), k: alloc.upload(k, [B, Lk, W], 'f32', 'k'), v: alloc.upload(v, [B, Lk, W], 'f32', 'v'),
    out: alloc.tensor([B, Lq, W], 'f32', 'out'), heads: H, headDim: D,
  });

  it('host values are checked and uploaded: the same output as the u32 tensor, and the float64 reference', async () => {
    const lens = [7, 3];
    const host = await runOnce((plan, alloc) => attention(plan, { ...inputs(alloc), keyLengths: lens }));
    const tensor = await runOnce((plan, alloc) => attention(plan, { ...inputs(alloc), keyLengths: alloc.uploadU32(Uint32Array.from(lens), 'key_lengths') }));
    expect(Array.from(host)).toEqual(Array.from(tensor));
    expectClose(host, biasAttentionRef(q, k, v, { batch: B, lq: Lq, lk: Lk, heads: H, headDim: D, scale: 1 / Math.sqrt(D), keyLengths: lens }), [B, Lq, H, D], TOL.attention!.f32, 'host keyLengths');
  });

  for (const [lens, msg] of [
    [[7, 0], 'attention: keyLengths[1] (batch item 1) is 0, expected an integer in 1..7 (valid keys of the 7 kv tokens; 0 leaves no key to attend to)'],
    [[8, 2], 'attention: keyLengths[0] (batch item 0) is 8, expected an integer in 1..7 (valid keys of the 7 kv tokens)'],
    [[3, 1.5], 'attention: keyLengths[1] (batch item 1) is 1.5, expected an integer in 1..7 (valid keys of the 7 kv tokens)'],
    [[3], 'attention: keyLengths has 1 entries, expected one per batch item (batch 2)'],
  ] as [number[], string][]) {
    it(`keyLengths [${lens.join(', ')}] is refused at the op, before anything is recorded or uploaded`, () => {
      const alloc = new Allocator(gpu!);
      try {
        const plan = new Plan(gpu!, alloc);
        const a = inputs(alloc);
        const live = alloc.liveBytes;
        expect(() => attention(plan, { ...a, keyLengths: lens })).toThrow(new Error(msg));
        expect(plan.dispatches).toHaveLength(0);
        expect(alloc.liveBytes).toBe(live);
      } finally {
        alloc.destroyAll();
      }
    });
  }

  it('why: a 0 written into a keyLengths tensor (which the op cannot read at record time) gives NaN rows for that item', async () => {
    const got = await runOnce((plan, alloc) => attention(plan, { ...inputs(alloc), keyLengths: alloc.uploadU32(Uint32Array.of(7, 0), 'key_lengths') }));
    expect(got.subarray(0, Lq * W).every(Number.isFinite)).toBe(true);
    expect(got.subarray(Lq * W).some(Number.isNaN)).toBe(true);
  });
});

describe('the model path never passes 0 (prompt → tokenizer → UMT5 key lengths)', () => {
  const tokenizers = [join(FIXTURES, 'umt5', 'tokenizer'), join(FIXTURES, 'umt5_small', 'pipeline', 'tokenizer'), join(ROOT, 'models', 'tessera-shapes', 'tokenizer')];
  it('an empty or blank prompt is the end token alone (length 1) with every shipped tokenizer, at any max_sequence_length', async () => {
    for (const dir of tokenizers) {
      const tok = await loadTokenizer(nodeFolder(dir));
      expect(tok.specialCount, dir).toBeGreaterThanOrEqual(1);
      for (const L of [1, 2, 512]) expect(tok.tokenize(['', '   ', '\n\t'], L).lengths, `${dir} @ ${L}`).toEqual([1, 1, 1]);
    }
  });

  it.skipIf(!hasGpu)('a tokenizer that adds no end token gives an empty prompt 0 tokens: the encoder refuses it (TextEncoderError), it never reaches attention', async () => {
    const dir = join(ROOT, 'tests', '.tmp', 'key-lengths-no-eos-tokenizer');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    try {
      const src = join(ROOT, 'models', 'tessera-shapes', 'tokenizer');
      const json = JSON.parse(readFileSync(join(src, 'tokenizer.json'), 'utf8'));
      json.post_processor = null;
      writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
      copyFileSync(join(src, 'tokenizer_config.json'), join(dir, 'tokenizer_config.json'));
      expect((await loadTokenizer(nodeFolder(dir))).tokenize([''], 8).lengths).toEqual([0]);
      const enc = await loadTextEncoder({ tokenizer: nodeFolder(dir), textEncoder: nodeFolder(join(ROOT, 'models', 'tessera-shapes', 'text_encoder')) });
      try {
        const err = await enc.encodePrompt(['', 'a red circle'], { max_sequence_length: 16 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).name).toBe('TextEncoderError');
        expect((err as Error).message).toMatch(/^encode: prompts\[0\] tokenized to 0 tokens; a prompt needs at least 1 token: /);
      } finally {
        await enc.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
