// Mutation test (round 3) for checkWorkloadFits (src/profile/workloads.ts): on an adapter binding more than 16 GiB,
// the cap is 2^32 − 1 elements (the kernels' u32 index), in bytes 4 (f32) or 2 (f16) per element: a tensor of
// 2^32 − 65536 f32 elements (16 GiB) fits, one of 2^32 does not. A cap of 2^32 − 1 bytes refused the first.
import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.js';
import { LimitError } from '../../src/gpu/plan.js';
import { checkWorkloadFits, workloadTensors } from '../../src/profile/workloads.js';

/** acquireGpu()'s object as the check reads it, binding 1 TiB. */
const gpu = { adapterInfo: { vendor: 'fake', architecture: '', device: '', description: '' }, f16: true, timestamps: false, lost: null, limits: { maxStorageBufferBindingSize: 2 ** 40, maxBufferSize: 2 ** 40 }, destroy() {} } as unknown as Gpu;

describe('checkWorkloadFits: the u32 element cap, in elements', () => {
  it.each(['f32', 'f16'] as const)('%s: x [65536, 65535] fits, [65536, 65536] (2^32 elements) does not', (dtype) => {
    expect(() => checkWorkloadFits(gpu, 'gemmWorkload', workloadTensors('gemm', { m: 65536, k: 65535, n: 4, dtype }), dtype)).not.toThrow();
    expect(() => checkWorkloadFits(gpu, 'gemmWorkload', workloadTensors('gemm', { m: 65536, k: 65536, n: 4, dtype }), dtype)).toThrow(LimitError);
  });
});
