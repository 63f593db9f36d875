// FLOP and byte formulas recorded by the ops (what every GFLOP/s and GB/s figure rests on).
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { Plan } from '../../src/gpu/plan.js';
import { Allocator, type DType } from '../../src/gpu/tensor.js';
import { norm } from '../../src/ops/norm.js';
import { gemm } from '../../src/ops/gemm.js';
import { attention } from '../../src/ops/attention.js';
import { fmaFlops } from '../../src/profile/ceiling.js';
import { gbpsOf, gflopsOf } from '../../src/profile/report.js';

function withPlan<T>(fn: (plan: Plan, alloc: Allocator) => T): T {
  const alloc = new Allocator(gpu!);
  try {
    return fn(new Plan(gpu!, alloc), alloc);
  } finally {
    alloc.destroyAll();
  }
}

describe('rate helpers', () => {
  it('GFLOP/s and GB/s from ms', () => {
    expect(gflopsOf(2e9, 1000)).toBeCloseTo(2, 12);
    expect(gflopsOf(1e6, 1)).toBeCloseTo(1, 12);
    expect(gbpsOf(3e9, 500)).toBeCloseTo(6, 12);
  });
  it('ceiling FMA count: invocations · iters · 8 chains · 4 lanes · 2', () => {
    expect(fmaFlops(1, 1)).toBe(64);
    expect(fmaFlops(16384, 1000)).toBe(16384 * 1000 * 64);
  });
});

describe.skipIf(!hasGpu)('dispatch records of the ops', () => {
  const dts: DType[] = gpu?.f16 ? ['f32', 'f16'] : ['f32'];
  for (const dt of dts) {
    const bp = dt === 'f16' ? 2 : 4;

    it(`gemm ${dt}: 2·M·N·K, bytes of x, w, out (+bias, epilogue, residual, gate)`, () => {
      withPlan((plan, alloc) => {
        const [M, K, N] = [37, 24, 19];
        const d = gemm(plan, { x: alloc.tensor([M, K], dt, 'x'), w: alloc.tensor([N, K], dt, 'w'), out: alloc.tensor([M, N], dt, 'y') }) && plan.dispatches[0]!;
        expect(d.family).toBe('gemm');
        expect(d.flops).toBe(2 * M * N * K);
        expect(d.bytes).toBe((M * K + N * K + M * N) * bp);
        expect(d.shapes).toContain(`[${M},${K}]`);
        // bias + GELU + gated residual: epilogue FLOPs per output, out read and written, one gate row per item.
        const tokens = 37;
        gemm(plan, {
          x: alloc.tensor([M, K], dt, 'x2'), w: alloc.tensor([N, K], dt, 'w2'), bias: alloc.tensor([N], dt, 'b'),
          out: alloc.tensor([M, N], dt, 'y2'), act: 'gelu', residual: true,
          gate: { mod: alloc.tensor([1, 6 * N], dt, 'mod'), stride: 6 * N, offset: 2 * N, tokens },
        });
        const e = plan.dispatches[1]!;
        expect(e.flops).toBe(2 * M * N * K + M * N * (1 + 8 + 1 + 1));
        expect(e.bytes).toBe((M * K + N * K + 2 * M * N + N + (M / tokens) * N) * bp);
      });
    });

    it(`attention ${dt}: 4·B·H·Lq·Lk·Dh; q and out once, k and v once per query block`, () => {
      withPlan((plan, alloc) => {
        const [B, H, Lq, Lk, D] = [2, 3, 70, 45, 16];
        const W = H * D;
        attention(plan, { q: alloc.tensor([B, Lq, W], dt, 'q'), k: alloc.tensor([B, Lk, W], dt, 'k'), v: alloc.tensor([B, Lk, W], dt, 'v'), out: alloc.tensor([B, Lq, W], dt, 'o'), heads: H, headDim: D, tile: { BQ: 32 } });
        const d = plan.dispatches[0]!;
        expect(d.family).toBe('attention');
        expect(d.flops).toBe(4 * B * H * Lq * Lk * D);
        const qBlocks = Math.ceil(Lq / 32);
        expect(d.bytes).toBe((2 * B * Lq * W + 2 * qBlocks * B * Lk * W) * bp);
        expect(d.kernel).toMatch(/^attention/);
      });
    });

    it(`norm ${dt}: LayerNorm 7 FLOPs/element, RMSNorm 5, modulation +3; passes over x`, () => {
      withPlan((plan, alloc) => {
        const [R, C] = [6, 40];
        norm(plan, { x: alloc.tensor([R, C], dt, 'x'), out: alloc.tensor([R, C], dt, 'y'), eps: 1e-6 });
        norm(plan, { x: alloc.tensor([R, C], dt, 'x'), out: alloc.tensor([R, C], dt, 'y'), eps: 1e-6, rms: true, weight: alloc.tensor([C], dt, 'w') });
        norm(plan, { x: alloc.tensor([R, C], dt, 'x'), out: alloc.tensor([R, C], dt, 'y'), eps: 1e-6, tokens: 3, modulate: { mod: alloc.tensor([2, 6 * C], dt, 'm'), stride: 6 * C, shiftOffset: 0, scaleOffset: C } });
        const [ln, rms, mod] = plan.dispatches;
        expect(ln!.flops).toBe(R * C * 7);
        expect(ln!.bytes).toBe(3 * R * C * bp + R * C * bp);
        expect(rms!.flops).toBe(R * C * 5);
        expect(rms!.bytes).toBe(2 * R * C * bp + R * C * bp + 2 * C * bp);
        expect(mod!.flops).toBe(R * C * 10);
        expect(mod!.bytes).toBe(4 * R * C * bp + 2 * 2 * C * bp);
        expect(plan.dispatches.every((d) => d.family === 'norm')).toBe(true);
      });
    });
  }
});
