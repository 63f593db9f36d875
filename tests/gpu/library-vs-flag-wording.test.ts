// The gpu layer's refusals in the library's words (session 18; the convention of commit 5806035): an allocation
// over maxBufferSize, a binding over maxStorageBufferBindingSize and an f16 kernel variant on an adapter without
// shader-f16 said `--dtype f16` / `(use --dtype f32)` to library callers. The library's message now names the
// option (`dtype: 'f16'`); the CLI's line (errorLine → flagNames) names the flag.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { errorLine } from '../../src/cli/errors.js';
import { GpuError, type Gpu } from '../../src/gpu/device.js';
import { checkVariantSupported, defineKernel, resolveVariant } from '../../src/gpu/kernel.js';
import { planningGpu } from '../../src/gpu/memory-plan.js';
import { Plan } from '../../src/gpu/plan.js';
import { setKernelSource } from '../../src/gpu/shader.js';
import { Allocator } from '../../src/gpu/tensor.js';
import { thrown } from '../helpers/errors.js';

/** The library's message names `dtype: 'DT'` and no flag; the CLI's line the flag `--dtype DT` and not the option. */
function twoAudiences(e: Error, dt: 'f16' | 'f32'): void {
  expect(e.message).toContain(`dtype: '${dt}'`);
  expect(e.message).not.toMatch(/--/);
  const line = errorLine(e, false);
  expect(line).toContain(`--dtype ${dt}`);
  expect(line).not.toContain('dtype:');
}

setKernelSource(
  'test_wording',
  `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(1)
fn main() {
#if F16
  y[0] = x[0] + 1.0;
#else
  y[0] = x[0];
#endif
}
`,
);
const spec = defineKernel({ name: 'test_wording', flags: { F16: [false, true] }, needs: { F16: 'shader-f16' }, overrides: {}, bindings: ['read', 'rw'] });

describe("the gpu layer's refusals: library in option words, CLI in flag words", () => {
  it('a buffer over the adapter\'s maxBufferSize (Allocator.buffer)', () => {
    const g = planningGpu({ maxBufferSize: 1024 }); // refused before the device is reached
    const e = thrown(() => new Allocator(g).buffer(4096, 0, 'hidden_states'), GpuError);
    expect(e.message).toBe("buffer hidden_states needs 4.0 KiB, the adapter's maxBufferSize is 1.0 KiB: use fewer frames, a smaller resolution or dtype: 'f16'");
    twoAudiences(e, 'f16');
    expect(errorLine(e, false)).toBe("tessera: error: GpuError: buffer hidden_states needs 4.0 KiB, the adapter's maxBufferSize is 1.0 KiB: use fewer frames, a smaller resolution or --dtype f16");
  });

  it('an f16 variant on an adapter without shader-f16 (checkVariantSupported)', () => {
    const g = planningGpu({}, false);
    const e = thrown(() => checkVariantSupported(g, spec, resolveVariant(spec, { flags: { F16: true } })), GpuError);
    expect(e.message).toBe("test_wording: variant F16 needs the adapter feature shader-f16, which this adapter lacks (use dtype: 'f32')");
    twoAudiences(e, 'f32');
  });
});

describe.skipIf(!hasGpu)("the gpu layer's refusals on a device", () => {
  it("a binding over the adapter's maxStorageBufferBindingSize (Plan.record)", () => {
    // the device's own Gpu with a binding limit below the tensors' 4 KiB: refused at record, before the bind group
    const small: Gpu = { ...gpu!, limits: { ...gpu!.limits, maxStorageBufferBindingSize: 1024 } };
    const alloc = new Allocator(gpu!);
    try {
      const x = alloc.tensor([1024], 'f32', 'x');
      const y = alloc.tensor([1024], 'f32', 'y');
      const plan = new Plan(small, alloc);
      const e = thrown(() => plan.record({ spec, buffers: [x, y], workgroups: [1, 1, 1], shapes: 'x[1024]', flops: 0, bytes: 0, layer: 'blocks.0' }), GpuError);
      expect(e.message).toMatch(/^test_wording@blocks\.0: binds 4\.0 KiB of x, above the adapter's maxStorageBufferBindingSize of 1\.0 KiB: use fewer frames, a smaller resolution or dtype: 'f16'$/);
      twoAudiences(e, 'f16');
    } finally {
      alloc.destroyAll();
    }
  });
});
