// invalidateKernel(gpu, name) after setKernelSource(name, …) drops every cached pipeline built from
// that source: the kernel's own and those of kernels that list it as a prelude (it used to match the
// kernel name only, so editing a prelude such as common/wg_sum left norm_rope on the old code).
import { afterAll, describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { getKernel, invalidateKernel, kernelCached, type KernelSpec } from '../../src/gpu/kernel.js';
import { setKernelSource } from '../../src/gpu/shader.js';

const body = (v: string) => `@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(1)
fn main() { y[0] = ${v}; }
`;
// Spec objects of their own (not defineKernel: nothing is added to the shared registry).
const withPrelude: KernelSpec = { name: 'test_inv_main', prelude: ['test_inv_pre'], flags: {}, overrides: {}, bindings: ['rw'] };
const without: KernelSpec = { name: 'test_inv_other', flags: {}, overrides: {}, bindings: ['rw'] };

describe.skipIf(!hasGpu)('invalidateKernel', () => {
  afterAll(() => { for (const n of ['test_inv_pre', 'test_inv_main', 'test_inv_other']) setKernelSource(n, null); });

  it('drops the kernels whose prelude is the edited source, and only those', () => {
    setKernelSource('test_inv_pre', 'const K: f32 = 1.0;\n');
    setKernelSource('test_inv_main', body('K'));
    setKernelSource('test_inv_other', body('2.0'));
    getKernel(gpu!, withPrelude);
    getKernel(gpu!, without);
    expect([kernelCached(gpu!, withPrelude), kernelCached(gpu!, without)]).toEqual([true, true]);
    setKernelSource('test_inv_pre', 'const K: f32 = 3.0;\n');
    invalidateKernel(gpu!, 'test_inv_pre');
    expect([kernelCached(gpu!, withPrelude), kernelCached(gpu!, without)]).toEqual([false, true]);
    invalidateKernel(gpu!, 'test_inv_other');
    expect(kernelCached(gpu!, without)).toBe(false);
  });
});
