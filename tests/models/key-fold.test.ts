// Wan's cross-attention to zero-padded text takes each item's trailing run of equal text rows as
// one key (AttentionArgs.keyFold; WanPipeline pads the prompt embeddings to max_sequence_length,
// WanTransformer3DModel attends to every row unmasked). The fold must change nothing but speed:
// the forward and the GPU-resident CFG loop with padded text equal the same plans with the fold
// off (every padded key attended, as diffusers does) within the golden cases' f32 bound, a text
// with no padding gives bit-identical output, and the fold is really used (the attn2 dispatches
// carry KEYFOLD, the table holds each item's real row count). Numerics against the real libraries
// with padded text: the golden case wan_pipeline_small (max_sequence_length 16).
// The text-only work (the prepare plan: text embedder, every block's to_k/norm_k/to_v) runs over the
// first R rows of each item, R = textRowBucket(max keyFold entry + 1, L), not over all L padded rows,
// each op one dispatch over the B items (gemm/norm itemRows);
// the same comparisons cover it for odd L, different lengths, empty texts, texts filling every row,
// and a short text after a long one on the same recorded plan (rows past R then hold the long text's K/V).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { loadModel, type DiffusionModel, type ForwardInputs } from '../../src/model/model.js';
import { textRowBucket } from '../../src/model/wan.js';
import { generate } from '../../src/sampler/generate.js';
import { schedulerFromConfig } from '../../src/sampler/config.js';
import { readTensor } from '../../src/gpu/tensor.js';
import { randn } from '../../src/random.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../helpers/golden.js';
import { relError } from '../helpers/compare.js';
import { GOLDEN_F32 } from '../tolerances.js';

/** [B, L, D] text: item b has real[b] seeded rows, then zero rows (WanPipeline's padding). */
function paddedText(real: number[], L: number, D: number, seed: number): { data: Float32Array; shape: number[] } {
  const data = new Float32Array(real.length * L * D);
  real.forEach((n, b) => data.set(randn(n * D, seed + b), b * L * D));
  return { data, shape: [real.length, L, D] };
}

/** Forward inputs: seeded latents `shape`, one timestep per item, text `text`. */
function forwardInputs(shape: number[], seed: number, timestep: number[], text: { data: Float32Array; shape: number[] }): ForwardInputs {
  return { hidden_states: { data: randn(shape.reduce((a, b) => a * b, 1), seed), shape }, timestep, encoder_hidden_states: text };
}

async function forwardBoth(model: DiffusionModel, inputs: ForwardInputs): Promise<[Float32Array, Float32Array]> {
  model.keyFold = true;
  const folded = (await model.forward(inputs)).data.slice();
  model.keyFold = false;
  const full = (await model.forward(inputs)).data.slice();
  model.keyFold = true;
  return [folded, full];
}

/** The prepare plan's GEMMs' x shapes, by layer, for `inputs`' text. */
function prepareGemms(model: DiffusionModel, inputs: ForwardInputs): { layer: string; shapes: string }[] {
  return model.resident(inputs).prepare.dispatches.filter((d) => d.family.startsWith('gemm')).map((d) => ({ layer: d.layer, shapes: d.shapes }));
}

describe('text rows the prepare plan computes', () => {
  it('textRowBucket: a power of two ≥ 16 holding the rows read, at most L', () => {
    expect(textRowBucket(1, 512)).toBe(16);
    expect(textRowBucket(16, 512)).toBe(16);
    expect(textRowBucket(17, 512)).toBe(32);
    expect(textRowBucket(300, 512)).toBe(512);
    expect(textRowBucket(513, 512)).toBe(512); // keyFold off: L + 1 read → every row
    expect(textRowBucket(4, 9)).toBe(9);
    expect(() => textRowBucket(0, 512)).toThrow(/need 0 rows/);
  });
});

describe.skipIf(!hasGpu)('Wan cross-attention: zero-padded text folded to one key per item', () => {
  it('forward, batch 2 with 3 and 1 real rows in 9: equals attending to every padded key; the fold is used', async () => {
    const model = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: gpu! });
    try {
      const [B, L, D] = [2, 9, 24];
      const shape = [B, 4, 2, 6, 8];
      const inputs = forwardInputs(shape, 5, [700, 350], paddedText([3, 1], L, D, 11)); // a prompt and a shorter negative prompt
      const [folded, full] = await forwardBoth(model, inputs);
      expect(relError(folded, full)).toBeLessThan(GOLDEN_F32);
      const { plan } = model.resident(inputs);
      const attn2 = plan.dispatches.filter((d) => /\.attn2$/.test(d.layer));
      expect(attn2).toHaveLength(model.config.layers);
      for (const d of attn2) expect(d.kernel).toMatch(/^attention(_fa2)?\[[^\]]*KEYFOLD/);
      // the table the attn2 dispatches bind holds each item's real rows
      const table = attn2[0]!.bound.find((b) => b.buffer.label === 'text_key_fold');
      expect(table).toBeDefined();
      const t = await readTensor(gpu!, { buffer: table!.buffer, shape: [B], dtype: 'f32', size: B, label: 'text_key_fold' });
      expect([...new Uint32Array(t.buffer, t.byteOffset, B)]).toEqual([3, 1]);
      // self-attention is not folded
      expect(plan.dispatches.filter((d) => /\.attn1$/.test(d.layer)).every((d) => !d.kernel.includes('KEYFOLD'))).toBe(true);
      // profiles count the keys visited: 3 + 1 and 1 + 1 of 9 (q·kᵀ and p·v, 2 FLOPs per multiply-add); unfolded, all 9 each
      const { heads, headDim } = model.config;
      const perKey = 4 * heads * (shape[2]! * shape[3]! * shape[4]! / 4) * headDim; // 4·H·Lq·Dh (Lq: 2×3×4 patches of 1×2×2)
      for (const d of attn2) expect(d.flops).toBe(perKey * (4 + 2));
      model.keyFold = false;
      for (const d of model.resident(inputs).plan.dispatches.filter((d) => /\.attn2$/.test(d.layer))) expect(d.flops).toBe(perKey * 2 * L);
      model.keyFold = true;
    } finally {
      model.destroy();
    }
  });

  it('forward with text that has no padding: bit-identical to the unfolded keys', async () => {
    const model = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: gpu! });
    try {
      const [B, L, D] = [2, 7, 24];
      const shape = [B, 4, 2, 6, 8];
      const inputs = forwardInputs(shape, 6, [500, 20], { data: randn(B * L * D, 12), shape: [B, L, D] });
      const [folded, full] = await forwardBoth(model, inputs);
      expect(folded).toEqual(full);
    } finally {
      model.destroy();
    }
  });

  it('item by item (shapes whose [B, N, D] exceeds one binding): each item binds its own aligned table entry', async () => {
    const model = await loadModel(join(FIXTURES, 'wan_sampler_unipc_small', 'model'), { gpu: gpu! });
    try {
      const [B, L, D] = [2, 16, 32];
      const shape = [B, 4, 2, 6, 8];
      const inputs = forwardInputs(shape, 7, [900, 100], paddedText([5, 2], L, D, 13));
      model.memory = { itemwise: true };
      const [folded, full] = await forwardBoth(model, inputs);
      expect(relError(folded, full)).toBeLessThan(GOLDEN_F32);
      const attn2 = model.resident(inputs).plan.dispatches.filter((d) => d.layer === 'blocks.0.attn2');
      expect(attn2).toHaveLength(B); // once per item
      expect(attn2.map((d) => d.bound.find((b) => b.buffer.label === 'text_key_fold')!.offset)).toEqual([0, gpu!.device.limits.minStorageBufferOffsetAlignment]);
    } finally {
      model.destroy();
    }
  });

  it('GPU-resident CFG loop: one batched pass (same lengths) and two passes (other lengths) equal the unfolded run', async () => {
    const model = await loadModel(join(FIXTURES, 'wan_sampler_unipc_small', 'model'), { gpu: gpu! });
    try {
      const D = 32;
      const shape = [1, 4, 2, 6, 8];
      const scheduler = () => schedulerFromConfig({ _class_name: 'UniPCMultistepScheduler', prediction_type: 'flow_prediction', use_flow_sigmas: true, flow_shift: 3 }, { warn: () => {} });
      const run = async (fold: boolean, [L, negReal, negL]: readonly [number, number, number]) => {
        model.keyFold = fold;
        const r = await generate(model, {
          scheduler: scheduler(),
          num_inference_steps: 3,
          guidance_scale: 5,
          latents: { data: randn(shape.reduce((a, b) => a * b, 1), 2), shape },
          encoder_hidden_states: paddedText([4], L, D, 21),
          negative_encoder_hidden_states: paddedText([negReal], negL, D, 31),
        });
        return r.latents.data;
      };
      // a text of 4 real rows in L, a negative text of negReal in negL: at L 40 the prepare plans compute 16 rows of 40 (of 24),
      // a negative text of 23 real rows in 23 all of them; [10, 1, 10] is one batched pass, the others two
      for (const c of [[10, 1, 10], [10, 1, 6], [40, 1, 40], [40, 0, 24], [40, 23, 23]] as const) {
        const folded = await run(true, c);
        const full = await run(false, c);
        expect(relError(folded, full), `text of ${c[0]} rows, negative text of ${c[1]} real rows in ${c[2]}`).toBeLessThan(GOLDEN_F32);
      }
    } finally {
      model.keyFold = true;
      model.destroy();
    }
  });

  it('prepare GEMMs have M = R rows per item (R = 16 for 3 and 5 real rows of 64), one dispatch for both items; all B·L rows with keyFold off', async () => {
    const model = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: gpu! });
    try {
      const [B, L, D] = [2, 64, 24];
      const inputs = forwardInputs([B, 4, 2, 6, 8], 1, [700, 700], paddedText([3, 5], L, D, 3));
      const gemms = prepareGemms(model, inputs);
      // linear_1, linear_2, and to_k, to_v of every block, each over the first 16 rows of both items
      expect(gemms).toHaveLength(2 + 2 * model.config.layers);
      for (const g of gemms) expect(g.shapes, g.layer).toMatch(/^x\[2,64,\d+\]\[:16\] /);
      const prepare = model.resident(inputs).prepare.dispatches;
      expect(prepare.filter((d) => /attn2\.norm_k$/.test(d.layer)).map((d) => d.shapes.split(' ')[0])).toEqual(Array(model.config.layers).fill('x[2,64,48][:16]'));
      for (const d of prepare) expect(d.workgroups[2], d.layer).toBe(B); // the items along the grid's z
      expect(prepare).toHaveLength(2 + 3 * model.config.layers);
      model.keyFold = false;
      const full = prepareGemms(model, inputs);
      expect(full).toHaveLength(2 + 2 * model.config.layers);
      for (const g of full) expect(g.shapes, g.layer).toMatch(/^x\[2,64,\d+\]/);
      // a text of another row bucket gets a plan of its own; the first one is kept
      model.keyFold = true;
      const long = forwardInputs([B, 4, 2, 6, 8], 1, [700, 700], paddedText([20, 2], L, D, 3));
      for (const g of prepareGemms(model, long)) expect(g.shapes).toMatch(/^x\[2,64,\d+\]\[:32\] /);
      expect(model.resident(inputs).prepare).toBe(model.resident(inputs).prepare);
    } finally {
      model.keyFold = true;
      model.destroy();
    }
  });

  it('forward: odd L, different lengths, empty text, a text filling every row, a short text after a long one: equal the unfolded run', async () => {
    const model = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: gpu! });
    try {
      const D = 24;
      const shape = [2, 4, 2, 6, 8];
      const cases: [string, number[], number][] = [
        ['3 and 20 real rows of 41 (R 32)', [3, 20], 41],
        ['a long text: 40 and 39 real rows of 41 (R 41)', [40, 39], 41],
        ['then 2 and 1 real rows of 41 (R 16; rows past 16 hold the long text)', [2, 1], 41],
        ['empty texts (all zero rows) of 41', [0, 0], 41],
        ['texts filling all 33 rows (no fold)', [33, 33], 33],
      ];
      for (const [what, real, L] of cases) {
        const inputs = forwardInputs(shape, 7, [600, 250], paddedText(real, L, D, 17));
        const [folded, full] = await forwardBoth(model, inputs);
        expect(relError(folded, full), what).toBeLessThan(GOLDEN_F32);
      }
      // the short text after the long one, keyFold on both times: the same as the same text on a fresh plan
      const long = forwardInputs(shape, 7, [600, 250], paddedText([40, 39], 41, D, 17));
      const short = forwardInputs(shape, 7, [600, 250], paddedText([2, 1], 41, D, 17));
      const fresh = (await model.forward(short)).data.slice();
      await model.forward(long);
      expect(relError((await model.forward(short)).data, fresh)).toBe(0);
    } finally {
      model.destroy();
    }
  });
});
