// A kernel edit that compiles but fails when its pipeline is created (a workgroup over a device
// limit) is reported as compiler errors are: one line at the source line the user wrote (the entry
// point's @workgroup_size, else `fn main`), naming the limit, without Dawn's "While calling …" trail,
// and the same for every variant (the browser profiler then shows it once). It was `KEY: ` + Dawn's
// three-line text, one copy per variant, at no line. A plan's compile names the variant, then the same.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { compileCheck, compileKernels, defineKernel, pipelineErrorMessage } from '../../src/gpu/kernel.js';
import { setKernelSource, type MappedSource } from '../../src/gpu/shader.js';

const DAWN_TRAIL = '\n - While initializing [ComputePipeline "k{WG=64}"]\n - While calling [Device "tessera"].CreateComputePipeline([ComputePipelineDescriptor ""k{WG=64}""]).\n';

/** A mapped source whose output line i + 1 is line i + 1 + shift of kernels/k.wgsl (as after a prelude). */
const mapped = (text: string, shift = 0): MappedSource => ({ text, lines: text.split('\n').map((_, i) => ({ file: 'kernels/k.wgsl', line: i + 1 + shift })) });

describe('pipelineErrorMessage', () => {
  const src = mapped('override WG: u32 = 64;\n@compute\n  @workgroup_size(WG, 32) // rows\nfn main(@builtin(global_invocation_id) g: vec3<u32>) {\n}', 10);
  it('workgroup invocations: at the @workgroup_size attribute (through the line map), naming maxComputeInvocationsPerWorkgroup', () => {
    expect(pipelineErrorMessage('k{WG=64}', src, 'main', `The total number of workgroup invocations (2048) exceeds the maximum allowed (256).${DAWN_TRAIL}`)).toBe(
      'kernels/k.wgsl:13:3: pipeline creation failed: The total number of workgroup invocations (2048) exceeds the maximum allowed (256): this device\'s maxComputeInvocationsPerWorkgroup',
    );
  });
  it('a workgroup size over an axis limit: the axis named, the advice about requiredLimits dropped', () => {
    const msg = 'Entry-point uses workgroup_size(1, 1, 128) that exceeds the maximum allowed (1024, 1024, 64). This adapter supports higher maxComputeWorkgroupSizeX of 1024, … in requiredLimits when calling requestDevice().';
    expect(pipelineErrorMessage('k{WG=64}', src, 'main', msg + DAWN_TRAIL)).toBe(
      'kernels/k.wgsl:13:3: pipeline creation failed: Entry-point uses workgroup_size(1, 1, 128) that exceeds the maximum allowed (1024, 1024, 64): this device\'s maxComputeWorkgroupSizeZ',
    );
  });
  it('workgroup storage, or another message: at fn main; no line found: the variant key', () => {
    expect(pipelineErrorMessage('k{WG=64}', src, 'main', `The total use of workgroup storage (65536 bytes) is larger than the maximum allowed (32768 bytes).${DAWN_TRAIL}`)).toBe(
      "kernels/k.wgsl:14:1: pipeline creation failed: The total use of workgroup storage (65536 bytes) is larger than the maximum allowed (32768 bytes): this device's maxComputeWorkgroupStorageSize",
    );
    expect(pipelineErrorMessage('k{WG=64}', src, 'main', `Something else went wrong.${DAWN_TRAIL}`)).toBe('kernels/k.wgsl:14:1: pipeline creation failed: Something else went wrong');
    expect(pipelineErrorMessage('k{WG=64}', src, 'other', `Something else.${DAWN_TRAIL}`)).toBe('k{WG=64}: pipeline creation failed: Something else');
  });
});

describe.skipIf(!hasGpu)('compileCheck: a workgroup over the device limit', () => {
  const kernel = (size: string) => `override WG: u32 = 64;
@group(0) @binding(0) var<storage, read_write> y: array<f32>;
#if TWICE
fn f(v: f32) -> f32 { return 2.0 * v; }
#else
fn f(v: f32) -> f32 { return v; }
#endif
@compute @workgroup_size(${size})
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  y[g.x] = f(1.0);
}
`;
  const spec = defineKernel({ name: 'test_pipeline_limit', flags: { TWICE: [false, true] }, overrides: { WG: [64] }, bindings: ['rw'] });

  it('@workgroup_size(WG, 64) with WG = 64: one line at line 8, the same for both variants', async () => {
    const max = gpu!.limits.maxComputeInvocationsPerWorkgroup!;
    expect(64 * 64).toBeGreaterThan(max);
    setKernelSource('test_pipeline_limit', kernel('WG, 64'));
    try {
      const got = [];
      for (const TWICE of [false, true]) got.push(...(await compileCheck(gpu!, spec, { flags: { TWICE } })).errors);
      const line = `kernels/test_pipeline_limit.wgsl:8:10: pipeline creation failed: The total number of workgroup invocations (4096) exceeds the maximum allowed (${max}): this device's maxComputeInvocationsPerWorkgroup`;
      expect(got).toEqual([line, line]);
      // a plan's compile (compilePipelines) says the same after the variant key, and the knob that sets the size
      const err = await compileKernels(gpu!, [{ spec }]).then(() => null, (e: Error) => e);
      expect(err?.message).toBe(`test_pipeline_limit{WG=64}: pipeline creation failed: kernels/test_pipeline_limit.wgsl:8:10: The total number of workgroup invocations (4096) exceeds the maximum allowed (${max}): this device's maxComputeInvocationsPerWorkgroup; its workgroup size (@workgroup_size(WG, 64)) is set by the knob WG=64: it fits when WG ≤ ${Math.floor(max / 64)}`);
      setKernelSource('test_pipeline_limit', kernel('WG'));
      expect((await compileCheck(gpu!, spec)).errors).toEqual([]);
    } finally {
      setKernelSource('test_pipeline_limit', null);
    }
  });
});
