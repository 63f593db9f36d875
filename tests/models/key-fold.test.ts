// Wan's cross-attention to zero-padded text takes each item's trailing run of equal text rows as
// one key (AttentionArgs.keyFold; WanPipeline pads the prompt embeddings to max_sequence_length,
// WanTransformer3DModel attends to every row unmasked). The fold must change nothing but speed:
// the forward and the GPU-resident CFG loop with padded text equal the same plans with the fold
// off (every padded key attended, as diffusers does) within the golden cases' f32 bound, a text
// with no padding gives bit-identical output, and the fold is really used (the attn2 dispatches
// carry KEYFOLD, the table holds each item's real row count). Numerics against the real libraries
// with padded text: the golden case wan_pipeline_small (max_sequence_length 16).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { loadModel, type DiffusionModel, type ForwardInputs } from '../../src/model/model.js';
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
      const run = async (fold: boolean, negL: number) => {
        model.keyFold = fold;
        const r = await generate(model, {
          scheduler: scheduler(),
          num_inference_steps: 3,
          guidance_scale: 5,
          latents: { data: randn(shape.reduce((a, b) => a * b, 1), 2), shape },
          encoder_hidden_states: paddedText([4], 10, D, 21),
          negative_encoder_hidden_states: paddedText([1], negL, D, 31),
        });
        return r.latents.data;
      };
      for (const negL of [10, 6]) {
        const folded = await run(true, negL);
        const full = await run(false, negL);
        expect(relError(folded, full), `negative text of ${negL} rows`).toBeLessThan(GOLDEN_F32);
      }
    } finally {
      model.keyFold = true;
      model.destroy();
    }
  });
});
