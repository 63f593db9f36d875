// The profiler page's check of a kernel edit (examples/profiler/edit-check.ts), in Node on the test GPU:
// each dispatch of the edited kernel in a recorded plan is replayed with the edited and the shipped
// source on the same inputs and compared with BENCH_TOL. An edit that compiles but is wrong (an early
// return: "faster by 99.9 %"; every output doubled) is caught with how far off it is; an edit that
// computes the same (a comment) passes; the plan's buffers are as they were afterwards.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { EditChecker, toleranceRow, wrongText } from '../../examples/profiler/edit-check.js';
import { gemmWorkload, layernormWorkload } from '../../src/profile/workloads.js';
import { kernelSource } from '../../src/gpu/shader.js';
import { Allocator, readTensor, subTensor, type Tensor } from '../../src/gpu/tensor.js';
import { Plan } from '../../src/gpu/plan.js';
import type { Gpu } from '../../src/gpu/device.js';
import { scale } from '../../src/ops/elementwise.js';
import { norm } from '../../src/ops/norm.js';
import '../../src/ops/all.js';

const doubledNorm = readFileSync(new URL('../fixtures/kernels/norm_output_doubled.wgsl', import.meta.url), 'utf8');

describe.skipIf(!hasGpu)('profiler page: an edited kernel checked against the shipped one', () => {
  it('an early return in gemm_tiled (no work done) is WRONG, with how far off it is', async () => {
    const w = gemmWorkload(gpu!, { m: 64, k: 32, n: 48, dtype: 'f32', strategy: 'tiled-64' });
    try {
      expect(w.plan.dispatches.map((d) => d.kernel.replace(/[[{].*$/, ''))).toContain('gemm_tiled');
      const shipped = kernelSource('gemm_tiled');
      // the audit's edit: return at the top of fn main (uniform, so the barriers below stay valid)
      const edited = shipped.replace('  let tile = wid.x + wid.y * nwg.x;', '  if (true) { return; }\n  let tile = wid.x + wid.y * nwg.x;');
      expect(edited).not.toBe(shipped);
      const c = new EditChecker(gpu!, 'gemm_tiled', shipped, edited);
      await c.plan(w.plan);
      const r = c.result();
      expect(r).toMatchObject({ kernel: 'gemm_tiled', row: 'gemm', checked: 1, unchecked: 0 });
      expect(r.wrong).toHaveLength(1);
      expect(r.wrong[0]!.fails).toBeGreaterThan(64 * 48 * 0.9);
      expect(r.wrong[0]!.maxAbsErr).toBeGreaterThan(0.1);
      const text = wrongText(r)!;
      expect(text).toMatch(/^the output is WRONG: 1 of 1 dispatches of gemm_tiled differ from the shipped kernel's on the same inputs beyond the gemm tolerance \(f32 atol 0\.0002, rtol 0\.001; f16 atol 0\.02, rtol 0\.01; BENCH_TOL, as tessera bench checks kernels\): \d+ of 3072 elements out of it, max \|edited − shipped\| [\d.e-]+ at gemm_tiled\S* \(gemm\), element \d+: edited \S+ vs shipped \S+\. No before → after time is reported for a wrong kernel\.$/);
      // the check left the plan's buffers as they were: the shipped plan still computes the right result
      expect((await w.check()).ok).toBe(true);
    } finally {
      w.destroy();
    }
  });

  it("every norm output doubled is WRONG; a comment-only edit passes; the plan's output is unchanged by the check", async () => {
    const w = layernormWorkload(gpu!, { rows: 16, cols: 64, dtype: 'f32' });
    try {
      await w.plan.run('before');
      const before = await readTensor(gpu!, w.out);
      const shipped = kernelSource('norm');
      expect(toleranceRow('norm')).toBe('layernorm');
      const bad = new EditChecker(gpu!, 'norm', shipped, doubledNorm);
      await bad.plan(w.plan);
      const r = bad.result();
      expect(r.checked).toBe(w.plan.dispatches.filter((d) => d.kernel.startsWith('norm')).length);
      expect(r.wrong.length).toBe(r.checked);
      expect(wrongText(r)).toContain('beyond the layernorm tolerance (f32 atol 0.0001, rtol 0.0001;');
      expect(Array.from(await readTensor(gpu!, w.out))).toEqual(Array.from(before));
      expect(kernelSource('norm')).toBe(shipped); // the registry's source is untouched

      const same = new EditChecker(gpu!, 'norm', shipped, `// a comment\n${shipped}`);
      await same.plan(w.plan);
      expect(same.result()).toMatchObject({ checked: r.checked, unchecked: 0, wrong: [] });
      expect(wrongText(same.result())).toBeNull();
    } finally {
      w.destroy();
    }
  });
});

/**
 * `gpu` with its device wrapped: sizes of the check's saved-range buffers and labels of its command
 * encoders are logged; with `oom`, an out-of-memory scope in which a saved range was made reports an
 * error (as a device without room for the copies would).
 */
function watched(oom: boolean) {
  const saved: number[] = [];
  const encoders: string[] = [];
  const scopes: { filter: GPUErrorFilter; mark: number }[] = [];
  const real = gpu!.device;
  const device = new Proxy(real, {
    get(t, k) {
      if (k === 'createBuffer')
        return (d: GPUBufferDescriptor) => {
          if (d.label === 'edit check: saved range') saved.push(d.size);
          return t.createBuffer(d);
        };
      if (k === 'createCommandEncoder')
        return (d?: GPUCommandEncoderDescriptor) => {
          encoders.push(d?.label ?? '');
          return t.createCommandEncoder(d);
        };
      if (k === 'pushErrorScope')
        return (filter: GPUErrorFilter) => {
          scopes.push({ filter, mark: saved.length });
          t.pushErrorScope(filter);
        };
      if (k === 'popErrorScope')
        return async () => {
          const s = scopes.pop()!;
          const e = await t.popErrorScope();
          return e ?? (oom && s.filter === 'out-of-memory' && saved.length > s.mark ? { message: 'simulated: no room' } : null);
        };
      const v = Reflect.get(t, k, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  return { gpu: Object.assign(Object.create(gpu!) as Gpu, { device }), saved, encoders };
}

describe.skipIf(!hasGpu)('profiler page: what the edit check copies', () => {
  // x → A0 → B0 → A1 (scale) → B1 (norm, the edited kernel) → late (scale); A and B are pooled buffers of two rows of [16, 64] f32
  const R = 16 * 64 * 4;
  async function chain() {
    const alloc = new Allocator(gpu!);
    const plan = new Plan(gpu!, alloc);
    const x = alloc.upload(Float32Array.from({ length: 16 * 64 }, (_, i) => Math.sin(i)), [16, 64], 'f32', 'x');
    const a = alloc.tensor([32, 64], 'f32', 'poolA');
    const b = alloc.tensor([32, 64], 'f32', 'poolB');
    const row = (t: Tensor, i: number) => subTensor(t, i * 16 * 64, [16, 64]);
    const late = alloc.tensor([16, 64], 'f32', 'late');
    scale(plan, { x, out: row(a, 0), alpha: 2 });
    scale(plan, { x: row(a, 0), out: row(b, 0), alpha: 0.5 });
    scale(plan, { x: row(b, 0), out: row(a, 1), alpha: 3 });
    norm(plan, { x: row(a, 1), out: row(b, 1), eps: 1e-5 });
    scale(plan, { x: row(b, 1), out: late, alpha: 2 });
    await plan.run('chain');
    const pools = async () => [...(await readTensor(gpu!, a)), ...(await readTensor(gpu!, b)), ...(await readTensor(gpu!, late))];
    return { alloc, plan, pools };
  }

  it('one copy per written buffer, only of the dispatches up to the last edited one (the whole plan, each write, was copied before)', async () => {
    const { alloc, plan, pools } = await chain();
    try {
      expect(plan.dispatches.map((d) => d.kernel.replace(/[[{].*$/, '') === 'norm')).toEqual([false, false, false, true, false]);
      const before = await pools();
      const w = watched(false);
      const shipped = kernelSource('norm');
      const c = new EditChecker(w.gpu, 'norm', shipped, `// a comment\n${shipped}`);
      await c.plan(plan);
      expect(c.result()).toMatchObject({ checked: 1, unchecked: 0, wrong: [] });
      // the plan's copies: poolA rows 0-1 and poolB rows 0-1, once each ('late' is written after the last norm); then the norm's own output row
      expect(w.saved).toEqual([2 * R, 2 * R, R]);
      expect(await pools()).toEqual(before);
    } finally {
      alloc.destroyAll();
    }
  });

  it('no room for the copies: one line with their size, before anything is replayed; the plan is unchanged', async () => {
    const { alloc, plan, pools } = await chain();
    try {
      const before = await pools();
      const w = watched(true);
      const shipped = kernelSource('norm');
      const c = new EditChecker(w.gpu, 'norm', shipped, doubledNorm);
      await expect(c.plan(plan)).rejects.toThrow(
        /^the GPU is out of memory for the 16\.0 KiB of copies of what the plan's first 4 dispatches write, which the check puts back afterwards \(simulated: no room\); try a smaller preset or latent$/,
      );
      expect(w.encoders).toEqual([]); // no snapshot, no replay
      expect(c.result()).toMatchObject({ checked: 0, wrong: [] });
      expect(await pools()).toEqual(before);
      // the device's error scopes are balanced: a check without the simulated shortage still works
      const again = new EditChecker(gpu!, 'norm', shipped, doubledNorm);
      await again.plan(plan);
      expect(again.result()).toMatchObject({ checked: 1 });
      expect(again.result().wrong).toHaveLength(1);
      expect(await pools()).toEqual(before);
    } finally {
      alloc.destroyAll();
    }
  });
});
