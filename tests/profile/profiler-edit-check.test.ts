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
import { readTensor } from '../../src/gpu/tensor.js';
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
