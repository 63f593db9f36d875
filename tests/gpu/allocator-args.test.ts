// Allocator (tessera/profiler, audit 12 D, 16): upload padded short data with zeros (long data was
// refused), tensor() made a tensor of size -6 from [-2,3], and a 'bf16' dtype was taken (stored as
// f32). Each is now a TypeError naming the tensor, before anything is allocated.
import { describe, expect, it } from 'vitest';
import { Allocator, readTensor, type DType } from '../../src/gpu/tensor.js';
import type { Gpu } from '../../src/gpu/device.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

// the checks come before any buffer: an allocator over no device refuses as the real one does
const none = new Allocator({} as Gpu);

describe('Allocator refuses what no tensor has', () => {
  it('tensor(): a shape of integers ≥ 0 and dtype f32 / f16', () => {
    expect(() => none.tensor([-2, 3], 'f32', 'x')).toThrow(new TypeError('tensor x: shape must be a list of integers ≥ 0, got [-2,3]'));
    expect(() => none.tensor([1.5], 'f32', 'x')).toThrow(new TypeError('tensor x: shape must be a list of integers ≥ 0, got [1.5]'));
    expect(() => none.tensor([NaN, 2], 'f32', 'x')).toThrow(new TypeError('tensor x: shape must be a list of integers ≥ 0, got [NaN,2]'));
    expect(() => none.tensor(4 as never, 'f32', 'x')).toThrow(new TypeError('tensor x: shape must be a list of integers ≥ 0, got 4'));
    expect(() => none.tensor([2], 'bf16' as DType, 'x')).toThrow(new TypeError(`tensor x: dtype 'f32' or 'f16', got "bf16"`));
  });
  it('upload(): exactly numel(shape) values, short as well as long', () => {
    expect(() => none.upload(Float32Array.from([1, 2, 3]), [4], 'f32', 'w')).toThrow(new TypeError('upload w: 3 values for shape [4], which holds 4'));
    expect(() => none.upload([1, 2, 3, 4, 5], [2, 2], 'f16', 'w')).toThrow(new TypeError('upload w: 5 values for shape [2,2], which holds 4'));
    expect(() => none.upload([1, 2], [2], 'bf16' as DType, 'w')).toThrow(new TypeError(`tensor w: dtype 'f32' or 'f16', got "bf16"`));
    expect(() => none.upload([1, 2], [-2], 'f32', 'w')).toThrow(new TypeError('tensor w: shape must be a list of integers ≥ 0, got [-2]'));
  });
  it.skipIf(!hasGpu)('valid uploads round-trip, and nothing was allocated for the refused ones', async () => {
    const al = new Allocator(gpu!);
    try {
      expect(() => al.upload([1, 2, 3], [4], 'f32', 'short')).toThrow(TypeError);
      expect(al.liveBytes).toBe(0);
      const t = al.upload([1, 2, 3, 4], [4], 'f16', 'ok');
      expect(Array.from(await readTensor(gpu!, t))).toEqual([1, 2, 3, 4]);
      expect(al.tensor([0, 3], 'f32', 'empty').size).toBe(0);
    } finally {
      al.destroyAll();
    }
  });
});
