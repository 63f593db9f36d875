// The planner's adapter checks (src/model/memory.ts bindingLimit / beyondAdapter, src/model/qkv.ts through
// src/gpu/plan.ts maxBindingBytes), each at the case the existing planner tests leave open.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/model/config.js';
import { beyondAdapter, bindingLimit, estimateMemory } from '../../src/model/memory.js';
import { PRESETS } from '../../src/model/presets.js';

const MiB = 2 ** 20;

describe('bindingLimit', () => {
  it('the smaller of the two limits, named; the binding limit\'s name when they are equal', () => {
    expect(bindingLimit({ maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB })).toEqual({ bytes: 128 * MiB, name: 'maxStorageBufferBindingSize' });
    expect(bindingLimit({ maxStorageBufferBindingSize: 256 * MiB, maxBufferSize: 128 * MiB })).toEqual({ bytes: 128 * MiB, name: 'maxBufferSize' });
    expect(bindingLimit({ maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 128 * MiB })).toEqual({ bytes: 128 * MiB, name: 'maxStorageBufferBindingSize' });
  });
});

describe('beyondAdapter', () => {
  it('a weight above maxBufferSize is too big even where the binding limit is larger (the activations all fit)', () => {
    // Wan-14B's time projection [30720,5120] is 600 MiB in f32; a short clip's activations are far smaller
    const c = parseConfig(PRESETS['wan-14b']!.config);
    const limits = { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 256 * MiB };
    const est = estimateMemory(c, [2, 16, 2, 16, 16], [2, 32, 4096], 'f32', limits);
    expect(est.plan.largestBuffer.bytes).toBeLessThanOrEqual(limits.maxBufferSize);
    expect(est.largestName).toBe('weight condition_embedder.time_proj.weight [30720,5120]');
    expect(beyondAdapter(est, limits)).toEqual({ tooBig: true });
    // the same run with buffers as large as the bindings fits
    const roomy = { ...limits, maxBufferSize: 2 ** 30 };
    expect(beyondAdapter(estimateMemory(c, [2, 16, 2, 16, 16], [2, 32, 4096], 'f32', roomy), roomy)).toEqual({ tooBig: false });
  });
});

describe('q|k|v on bindings past 4 GiB', () => {
  it('splits into three GEMMs where the fused planes would pass 2^32 − 1 elements, though their bytes fit a binding', () => {
    // Wan-1.3B, one item of 121 latent frames of 136×240 in f16: 987,360 tokens, q|k|v 3 × 987360 × 1536 =
    // 4.55e9 elements (9.1 GB: within a 64 GiB binding), one plane 1.52e9
    const c = parseConfig(PRESETS['wan-1.3b']!.config);
    const est = estimateMemory(c, [1, 16, 121, 136, 240], [1, 512, 4096], 'f16', { maxStorageBufferBindingSize: 2 ** 36, maxBufferSize: 2 ** 40 });
    expect(est.plan.overflow).toBeUndefined();
    const labels = new Set(est.plan.activations.map((a) => a.label));
    expect(labels.has('qkv')).toBe(false);
    expect([...labels]).toEqual(expect.arrayContaining(['q_proj', 'k_proj', 'v_proj']));
    for (const a of est.plan.activations) expect(a.bytes / 2, `${a.label} [${a.shape}]`).toBeLessThanOrEqual(2 ** 32 - 1);
  });
});
