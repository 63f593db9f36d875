// Audit 12S defect 1: when the fused q|k|v planes exceed one storage binding, qkvProjection runs three
// GEMMs on the parts of the fused weight and bias. A part that starts at a byte offset the adapter
// cannot bind (wan-tiny f32: to_k.bias at byte 96·4 = 384, not a multiple of 256) is copied to a
// scratch of its own first; before, Plan.record threw a raw GpuError for a run checkRunFits had
// accepted, because the dry run never checked offsets. Now the dry run checks them as a real
// recording does, and the split path gives the unsplit path's numbers.
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { DryAllocator, planningGpu } from '../../src/gpu/memory-plan.js';
import { GpuError } from '../../src/gpu/device.js';
import { Plan } from '../../src/gpu/plan.js';
import { subTensor } from '../../src/gpu/tensor.js';
import { scale } from '../../src/ops/elementwise.js';
import { parseConfig } from '../../src/model/config.js';
import { checkRunFits } from '../../src/model/memory.js';
import { getPreset, loadRandomModel } from '../../src/model/presets.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { thrown } from '../helpers/errors.js';

describe('dry run binding offsets', () => {
  it('a dry run refuses a tensor at an unaligned byte offset as a real recording does (GpuError naming it)', () => {
    const g = planningGpu();
    const alloc = new DryAllocator(g);
    const plan = new Plan(g, alloc);
    const whole = alloc.tensor([288], 'f32', 'blocks.0.attn1.to_qkv.bias');
    const part = subTensor(whole, 96, [96], 'blocks.0.attn1.to_k.bias');
    const e = thrown(() => scale(plan, { x: part, out: alloc.tensor([96], 'f32', 'out'), alpha: 2 }), GpuError);
    expect(e.message).toBe("elementwise: tensor blocks.0.attn1.to_k.bias starts at byte 384 of its buffer, not a multiple of the adapter's minStorageBufferOffsetAlignment 256");
    expect(e.kind).toBe('validation');
    // an aligned part records
    expect(() => scale(plan, { x: subTensor(whole, 128, [96], 'ok'), out: alloc.tensor([96], 'f32', 'out2'), alpha: 2 })).not.toThrow();
  });
});

// Binding limits low enough that the three q|k|v planes do not fit one binding while one plane does
// (and every weight still fits): planes of rows·D·bytes, 3 of them above `binding`.
const CASES = [
  // wan-tiny (D 96) f32: 256 tokens → planes of 96 KiB, 3 × 96 KiB > 256 KiB; to_k.bias at byte 384
  { preset: 'wan-tiny', dtype: 'f32' as const, latent: [1, 16, 4, 16, 16], text: [1, 8, 64], binding: 256 * 1024, biasAt: 384 },
  // dit-tiny (D 64) f16: 256 tokens → planes of 32 KiB, 3 × 32 KiB > 64 KiB; to_k.bias at byte 128
  { preset: 'dit-tiny', dtype: 'f16' as const, latent: [1, 4, 32, 32], text: undefined, binding: 64 * 1024, biasAt: 128 },
  // a DiT 36 wide (3 heads × 12) f32: to_k.weight at byte 36·36·4 = 5184 and to_v.weight at 10368 are
  // copied too, and to_v.bias at 288; planes of 36 KiB, 3 × 36 KiB > 64 KiB
  { preset: 'dit-tiny', heads: 3, headDim: 12, dtype: 'f32' as const, latent: [1, 4, 32, 32], text: undefined, binding: 64 * 1024, biasAt: 144 },
];

describe.skipIf(!hasGpu)('fused q|k|v split over bindings', () => {
  for (const c of CASES) {
    const config = { ...getPreset(c.preset).config, ...(c.heads ? { num_attention_heads: c.heads, attention_head_dim: c.headDim } : {}) };
    const D = Number(config.num_attention_heads) * Number(config.attention_head_dim);
    it.skipIf(c.dtype === 'f16' && !gpu?.f16)(`${c.preset} D ${D} ${c.dtype}: planned and run with the planes split, bias parts copied to aligned scratch, same output as unsplit`, async () => {
      const g = gpu!;
      const cfg = parseConfig(config);
      const model = await loadRandomModel(config, { gpu: g, dtype: c.dtype, seed: 1 });
      const n = c.latent.reduce((a, b) => a * b, 1);
      const inputs = {
        hidden_states: { data: Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 0.8), shape: c.latent },
        timestep: [500],
        ...(c.text ? { encoder_hidden_states: { data: Float32Array.from({ length: c.text.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(i * 0.11)), shape: c.text } } : { class_labels: [3] }),
      };
      const pre = c.preset === 'dit-tiny' ? 'transformer_blocks' : 'blocks';
      const saved = g.limits.maxStorageBufferBindingSize;
      try {
        const unsplit = await model.forward(inputs);
        expect(model.memoryPlanFor(inputs)!.activations.some((a) => a.label === 'qkv')).toBe(true);
        g.limits.maxStorageBufferBindingSize = c.binding;
        // the part is where the audit found it: not bindable as it is
        expect(model.weights.get(`${pre}.0.attn1.to_k.bias`).offset).toBe(c.biasAt);
        expect(() => checkRunFits(cfg, c.latent, c.text, c.dtype, g.limits)).not.toThrow();
        await model.resetPlans();
        const split = await model.forward(inputs);
        const labels = model.memoryPlanFor(inputs)!.activations.map((a) => a.label);
        expect(labels).not.toContain('qkv');
        expect(labels).toContain('k_proj');
        expect(labels).toContain(`${pre}.0.attn1.to_k.bias:aligned`);
        expect(labels).toContain(`${pre}.1.attn1.to_k.bias:aligned`);
        // q at offset 0 binds as it is; at D 96 f32 / 64 f16 so do v's bias (2·D·bytes) and the weight parts (D²·bytes)
        const copied = c.heads ? ['to_k.bias', 'to_k.weight', 'to_v.bias', 'to_v.weight'] : ['to_k.bias'];
        expect(labels.filter((l) => l.endsWith(':aligned')).sort()).toEqual([0, 1].flatMap((i) => copied.map((p) => `${pre}.${i}.attn1.${p}:aligned`)));
        expect(split.data.length).toBe(unsplit.data.length);
        expect(Array.from(split.data)).toEqual(Array.from(unsplit.data));
      } finally {
        g.limits.maxStorageBufferBindingSize = saved;
        model.dispose();
      }
    }, 300_000);
  }
});
