// A pipeline the device refuses (the WGSL compiled) reaches a CLI user as a run's ShaderError (compilePipelines):
// it names the kernel's file, and the knobs of the variant that set what is over the limit, instead of pointing
// at `fn main` (pipelineRefusal), and the bound the knobs must keep, from the limit's value (it said "smaller ones
// fit" without working it out). compileCheck, which the profiler page's editor reads, keeps the WGSL line.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { compileCheck, compileKernels, defineKernel, pipelineRefusal, type KernelSpec } from '../../src/gpu/kernel.js';
import { setKernelSource, type MappedSource } from '../../src/gpu/shader.js';

const DAWN_TRAIL = '\n - While initializing [ComputePipeline "k"]\n - While calling [Device "tessera"].CreateComputePipeline([ComputePipelineDescriptor ""k""]).\n';
// gemm_tiled's shape of things: BM derived from two knobs, the workgroup arrays sized by them
const GEMM_LIKE = `override WGX: u32 = 16;
override WGY: u32 = 16;
override TM: u32 = 8;
override BK: u32 = 8;
override BM: u32 = WGY * TM;
@group(0) @binding(0) var<storage, read_write> y: array<f32>;
var<workgroup> xs: array<vec4<f32>, BK * BM / 4u>;
var<workgroup> ws: array<vec4<f32>, BK * 64u>;
@compute @workgroup_size(WGX, WGY)
fn main(@builtin(local_invocation_index) i: u32) {
  y[i] = xs[i].x + ws[i].x;
}`;
const mapped = (text: string, file: string): MappedSource => ({ text, lines: text.split('\n').map((_, i) => ({ file, line: i + 1 })) });
const spec = (name: string, family?: string): KernelSpec => ({ name, ...(family ? { family } : {}), flags: {}, overrides: { WGX: [16], WGY: [16], TM: [8], BK: [8] }, bindings: ['rw'] });
const variant = { flags: {}, overrides: { WGX: 32, WGY: 32, TM: 8, BK: 8 } };

describe('pipelineRefusal', () => {
  it('invocations over the limit: at @workgroup_size, the knobs that set it, and the bench flag that takes them', () => {
    expect(pipelineRefusal(spec('gemm_like', 'gemm'), variant, mapped(GEMM_LIKE, 'kernels/gemm_like.wgsl'), `The total number of workgroup invocations (1024) exceeds the maximum allowed (256).${DAWN_TRAIL}`)).toBe(
      "kernels/gemm_like.wgsl:9:10: The total number of workgroup invocations (1024) exceeds the maximum allowed (256): this device's maxComputeInvocationsPerWorkgroup; " +
        'its workgroup size (@workgroup_size(WGX, WGY)) is set by the knobs WGX=32, WGY=32: it fits when WGX·WGY ≤ 256 (tessera bench gemm --tile WGX=…,WGY=…)',
    );
  });
  it('workgroup memory over the limit: the file (not fn main) and the knobs sizing its arrays, through derived overrides', () => {
    const got = pipelineRefusal(spec('other_op'), variant, mapped(GEMM_LIKE, 'kernels/other_op.wgsl'), `The total use of workgroup storage (65536 bytes) is larger than the maximum allowed (32768 bytes).${DAWN_TRAIL}`);
    expect(got).toBe(
      "kernels/other_op.wgsl: The total use of workgroup storage (65536 bytes) is larger than the maximum allowed (32768 bytes): this device's maxComputeWorkgroupStorageSize; " +
        'its workgroup memory (xs, ws) is set by the knobs BK=8, TM=8, WGY=32: it fits when together they take ≤ 32768 bytes (65536 now)',
    );
  });
  it('the bound divides out literal sizes; a per-axis limit names the axis over it; without a value in the message, the device limits give it', () => {
    const text = GEMM_LIKE.replace('@workgroup_size(WGX, WGY)', '@workgroup_size(WGX, 4, WGZ)');
    const v = { flags: {}, overrides: { WGX: 128, WGY: 16, TM: 8, BK: 8, WGZ: 128 } };
    const s = { ...spec('k'), overrides: { ...spec('k').overrides, WGZ: [1] } };
    expect(pipelineRefusal(s, v, mapped(text, 'kernels/k.wgsl'), 'The total number of workgroup invocations (65536) exceeds the maximum allowed (256).')).toMatch(/: it fits when WGX·WGZ ≤ 64$/);
    expect(pipelineRefusal(s, v, mapped(text, 'kernels/k.wgsl'), 'Entry-point uses workgroup_size(128, 4, 128) that exceeds the maximum allowed (256, 256, 64).')).toBe(
      "kernels/k.wgsl:9:10: Entry-point uses workgroup_size(128, 4, 128) that exceeds the maximum allowed (256, 256, 64): this device's maxComputeWorkgroupSizeZ; " +
        'its workgroup size (@workgroup_size(WGX, 4, WGZ)) is set by the knobs WGX=128, WGZ=128: it fits when WGZ ≤ 64',
    );
    // another wording without the value: the device's limit, else no bound rather than a guess
    const msg = 'Too many workgroup invocations.';
    expect(pipelineRefusal(s, v, mapped(text, 'kernels/k.wgsl'), msg, { maxComputeInvocationsPerWorkgroup: 1024 })).toMatch(/: it fits when WGX·WGZ ≤ 256$/);
    expect(pipelineRefusal(s, v, mapped(text, 'kernels/k.wgsl'), msg)).toMatch(/is set by the knobs WGX=128, WGZ=128$/);
  });
  it('a fixed workgroup size: said to be fixed in the file', () => {
    const text = GEMM_LIKE.replace('@workgroup_size(WGX, WGY)', '@workgroup_size(64, 64)');
    expect(pipelineRefusal(spec('k'), variant, mapped(text, 'kernels/k.wgsl'), `The total number of workgroup invocations (4096) exceeds the maximum allowed (256).`)).toMatch(
      /^kernels\/k\.wgsl:9:10: .*; its workgroup size \(@workgroup_size\(64, 64\)\) is fixed in kernels\/k\.wgsl$/,
    );
  });
  it("a binding the op's layout lacks: at its declaration, with what the op binds; another message: the file and Dawn's sentence", () => {
    const text = GEMM_LIKE.replace('var<workgroup> xs', '@group(0) @binding(3) var<storage, read> z: array<f32>;\nvar<workgroup> xs');
    expect(pipelineRefusal(spec('k'), variant, mapped(text, 'kernels/k.wgsl'), `Binding doesn't exist in [BindGroupLayoutInternal "layout(rw)"].${DAWN_TRAIL}`)).toBe(
      `kernels/k.wgsl:7:1: Binding doesn't exist in [BindGroupLayoutInternal "layout(rw)"]; k's op binds @group(0) @binding(0) to @binding(0) only: a binding outside them has no buffer`,
    );
    expect(pipelineRefusal(spec('k'), variant, mapped(GEMM_LIKE, 'kernels/k.wgsl'), `Something else went wrong.${DAWN_TRAIL}`)).toBe('kernels/k.wgsl: Something else went wrong');
  });
});

describe.skipIf(!hasGpu)('a plan compile refused for workgroup memory', () => {
  it("says the file and the knobs, not fn main's line; compileCheck keeps fn main's line for the editor", async () => {
    const max = gpu!.limits.maxComputeWorkgroupStorageSize!;
    const k = defineKernel({ name: 'test_pipeline_refusal', flags: {}, overrides: { WG: [64], TM: [8] }, bindings: ['rw'] });
    setKernelSource(
      'test_pipeline_refusal',
      `override WG: u32 = 64;\noverride TM: u32 = 8;\noverride BM: u32 = WG * TM;\n@group(0) @binding(0) var<storage, read_write> y: array<f32>;\nvar<workgroup> xs: array<vec4<f32>, BM * 64u>;\n@compute @workgroup_size(WG)\nfn main(@builtin(local_invocation_index) i: u32) {\n  xs[i] = vec4<f32>(1.0);\n  y[i] = xs[i].x;\n}\n`,
    );
    try {
      expect(64 * 8 * 64 * 16).toBeGreaterThan(max);
      const err = await compileKernels(gpu!, [{ spec: k }]).then(() => null, (e: Error) => e);
      expect(err?.message).toBe(
        `test_pipeline_refusal{TM=8,WG=64}: pipeline creation failed: kernels/test_pipeline_refusal.wgsl: The total use of workgroup storage (524288 bytes) is larger than the maximum allowed (${max} bytes): ` +
          `this device's maxComputeWorkgroupStorageSize; its workgroup memory (xs) is set by the knobs TM=8, WG=64: it fits when it takes ≤ ${max} bytes (524288 now)`,
      );
      expect((await compileCheck(gpu!, k)).errors).toEqual([`kernels/test_pipeline_refusal.wgsl:7:1: pipeline creation failed: The total use of workgroup storage (524288 bytes) is larger than the maximum allowed (${max} bytes): this device's maxComputeWorkgroupStorageSize`]);
    } finally {
      setKernelSource('test_pipeline_refusal', null);
    }
  });
});
