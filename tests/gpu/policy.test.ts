// Adapter policy in one place (src/gpu/policy.ts): ops read what acquireGpu captured on `Gpu`
// (subgroup sizes, CPU adapter), never the adapter through casts. No GPU needed: the ops'
// variant choice is a pure function of those fields.
import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.js';
import { attentionVariant } from '../../src/ops/attention.js';
import { gemmCandidates, gemmHeuristic } from '../../src/ops/gemm.js';
import { adapterInfoIsCpu } from '../../src/gpu/policy.js';

const fake = (o: Partial<Gpu>): Gpu => ({ subgroups: true, subgroupMinSize: 8, subgroupMaxSize: 32, isCpu: true, limits: { maxComputeWorkgroupStorageSize: 32768 }, ...o }) as unknown as Gpu;

describe('adapter policy as captured on Gpu', () => {
  it('attention uses its subgroup kernel only when Gpu says every subgroup has ≥ 8 lanes', () => {
    const v = (g: Gpu) => attentionVariant(g, { lq: 1024, dtype: 'f32' }).variant;
    expect(v(fake({})).flags.SG).toBe(true);
    expect(v(fake({})).overrides.RPT).toBe(4);
    for (const g of [fake({ subgroupMinSize: 4 }), fake({ subgroupMinSize: 0 }), fake({ subgroups: false })]) {
      expect(v(g).flags.SG).toBe(false);
      expect(v(g).overrides.RPT).toBe(2); // the plain kernel's best rows per invocation
    }
  });
});

describe('GEMM tuning candidates', () => {
  it('CPU adapters also time the subgroup kernel with 32 rows and with K compiled in, only at the declared K; GPU adapters never', () => {
    expect(gemmCandidates(fake({}), 1024, 384, 384)).toEqual(['subgroup-sr16', 'subgroup-sr32', 'subgroup-sr16-k', 'subgroup-sr32-k']);
    expect(gemmCandidates(fake({}), 1024, 384, 1536)).toContain('subgroup-sr32-k');
    expect(gemmCandidates(fake({}), 1024, 384, 400)).toEqual(['subgroup-sr16', 'subgroup-sr32', 'tiled-128', 'tiled-64']); // no KC variant for K = 400
    expect(gemmCandidates(fake({}), 64, 384, 384)).not.toContain('subgroup-sr16-k'); // few rows: subgroup-sr8
    expect(gemmCandidates(fake({ isCpu: false }), 1024, 384, 384)).not.toContain('subgroup-sr16-k');
    expect(gemmCandidates(fake({}), 64, 384, 384)).not.toContain('subgroup-sr32'); // 32-row tiles only where the heuristic is subgroup-sr16
    expect(gemmCandidates(fake({ isCpu: false }), 1024, 384, 384)).not.toContain('subgroup-sr32');
  });
});

describe('GEMM heuristic (the choice without tuning, and always with --no-tune)', () => {
  const Ms = [1, 2, 8, 9, 16, 64, 128, 129, 511, 512, 4096, 32760];
  const Ns = [64, 511, 512, 1536, 8960];
  it('GPU adapters never get a CPU-tuned (subgroup) kernel: gemv up to 8 rows, else the tiled kernels, with or without subgroups', () => {
    for (const g of [fake({ isCpu: false }), fake({ isCpu: false, subgroupMinSize: 32, subgroupMaxSize: 32 }), fake({ isCpu: false, subgroups: false, subgroupMinSize: 0, subgroupMaxSize: 0 })]) {
      for (const M of Ms) for (const N of Ns) expect([M, N, gemmHeuristic(g, M, N)]).toEqual([M, N, M <= 8 ? 'gemv' : M >= 512 && N >= 512 ? 'tiled-128' : 'tiled-64']);
    }
  });
  it('CPU adapters keep what was measured on lavapipe: the subgroup kernel (8 rows up to M 128), else the 64-tiles', () => {
    for (const M of Ms) for (const N of Ns) {
      expect(gemmHeuristic(fake({}), M, N)).toBe(M <= 128 ? 'subgroup-sr8' : 'subgroup-sr16');
      expect(gemmHeuristic(fake({ subgroups: false }), M, N)).toBe('tiled-64');
    }
  });
});

describe('CPU adapter detection (adapterInfoIsCpu)', () => {
  it("recognises headless Chromium's SwiftShader, lavapipe and WARP, by the fallback flag or the strings", () => {
    // GPUAdapter.info as headless Chromium 156 (--enable-unsafe-webgpu) reports SwiftShader
    const swiftshader = { vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true };
    expect(adapterInfoIsCpu(swiftshader)).toBe(true);
    expect(adapterInfoIsCpu({ ...swiftshader, isFallbackAdapter: undefined })).toBe(true); // browsers without the flag: the architecture string
    expect(adapterInfoIsCpu({ vendor: '', architecture: '', device: '', description: '', isFallbackAdapter: true })).toBe(true); // strings blanked: the flag
    expect(adapterInfoIsCpu({ vendor: 'mesa', architecture: '', device: 'llvmpipe (LLVM 15.0.6, 256 bits)', description: '' })).toBe(true);
    expect(adapterInfoIsCpu({ vendor: 'microsoft', architecture: '', device: '', description: 'Microsoft Basic Render Driver' })).toBe(true);
  });

  it('takes a hardware adapter, or one that reports nothing, for a GPU', () => {
    expect(adapterInfoIsCpu({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200', isFallbackAdapter: false })).toBe(false);
    expect(adapterInfoIsCpu({ vendor: 'intel', architecture: 'gen-12lp', device: '', description: '' })).toBe(false);
    expect(adapterInfoIsCpu({})).toBe(false);
  });
});
