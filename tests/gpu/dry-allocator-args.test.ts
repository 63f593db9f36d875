// DryAllocator (the allocator estimateMemory / checkRunFits record on) refuses the tensor arguments the
// real Allocator refuses: it took [-2,3] and 'bf16', so an estimate could accept what the run throws on.
import { describe, expect, it } from 'vitest';
import { DryAllocator, planningGpu } from '../../src/gpu/memory-plan.js';
import type { DType } from '../../src/gpu/tensor.js';

describe('DryAllocator checks tensor arguments as Allocator does', () => {
  const dry = new DryAllocator(planningGpu());
  it('tensor(): shape of integers ≥ 0, dtype f32 / f16', () => {
    expect(() => dry.tensor([-2, 3], 'f32', 'x')).toThrow(new TypeError('tensor x: shape must be a list of integers ≥ 0, got [-2,3]'));
    expect(() => dry.tensor([2], 'bf16' as DType, 'x')).toThrow(new TypeError(`tensor x: dtype 'f32' or 'f16', got "bf16"`));
    expect(dry.liveBytes).toBe(0);
  });
  it('upload(): the same checks; the data (a dry run passes []) is not length-checked', () => {
    expect(() => dry.upload([], [1.5], 'f16', 'w')).toThrow(new TypeError('tensor w: shape must be a list of integers ≥ 0, got [1.5]'));
    expect(() => dry.upload([], [4], 'bf16' as DType, 'w')).toThrow(new TypeError(`tensor w: dtype 'f32' or 'f16', got "bf16"`));
    expect(dry.liveBytes).toBe(0);
    const t = dry.upload([], [2, 3], 'f16', 'ok');
    expect(t.size).toBe(6);
    expect(dry.liveBytes).toBe(16);
  });
});
