// grid1D's split on a device (tests/gpu/index-width.test.ts checks its arithmetic without one): a
// power-of-two x with y past it, here [4, 5, 1] under a grid limit of 8, covers every element of a
// 1-D kernel once (`gid.x + gid.y·nwg.x·WG`), with the overshoot's workgroups returning early. The
// in-place lincomb doubles the pool slot: an element done twice would be 4×, one skipped 1×.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu, runOnce } from '../helpers/gpu.js';
import { lincomb } from '../../src/ops/lincomb.js';
import { stridedCopy } from '../../src/ops/elementwise.js';

/** Runs `fn` with the device reporting `max` workgroups per dimension (restored afterwards). */
async function withGridLimit<T>(max: number, fn: () => Promise<T>): Promise<T> {
  const lim = gpu!.limits;
  const saved = lim.maxComputeWorkgroupsPerDimension;
  lim.maxComputeWorkgroupsPerDimension = max;
  try {
    return await fn();
  } finally {
    lim.maxComputeWorkgroupsPerDimension = saved;
  }
}

describe.skipIf(!hasGpu)('a folded 1-D grid with a power-of-two x on the device', () => {
  it('a strided copy of 20·256 − 3 elements under a limit of 8: grid [4, 5, 1], every element copied, nothing past n', async () => {
    const n = 20 * 256 - 3;
    const src = Float32Array.from({ length: n }, (_, i) => i + 1);
    let grid: number[] = [];
    const got = await withGridLimit(8, () =>
      runOnce((plan, alloc) => {
        const s = alloc.upload(src, [n], 'f32', 'src');
        const d = alloc.upload(new Float32Array(n + 300).fill(-7), [n + 300], 'f32', 'dst');
        stridedCopy(plan, { src: s, dst: d, extent: [n], srcStrides: [1], dstStrides: [1] });
        grid = plan.dispatches.at(-1)!.workgroups;
        return d;
      }),
    );
    expect(grid).toEqual([4, 5, 1]);
    expect(Array.from(got.subarray(0, n))).toEqual(Array.from(src));
    expect(Array.from(got.subarray(n))).toEqual(new Array(300).fill(-7));
  });

  it('an in-place lincomb (pool slot ← 2 · itself) of 37·256 + 5 values under a limit of 8: grid [8, 5, 1] (2 workgroups past n), each value doubled once', async () => {
    const n = 37 * 256 + 5; // 38 workgroups: x 8, y 5
    const init = Float32Array.from({ length: 2 * n }, (_, i) => (i % 1000) + 1);
    let grid: number[] = [];
    const got = await withGridLimit(8, () =>
      runOnce((plan, alloc) => {
        const pool = alloc.upload(init, [2 * n], 'f32', 'pool');
        const src = alloc.upload([0, 0, 0, 0], [4], 'f32', 'src');
        const model = alloc.upload([0, 0, 0, 0], [4], 'f32', 'model');
        const flag = alloc.uploadU32(new Uint32Array([0]), 'flag');
        // slot 1 (elements n … 2n − 1) ← 2 · slot 1
        lincomb(plan, { pool, src, model, flag: flag.buffer, n, per: n, terms: [{ coef: 2, off: n, stride: n, fromSrc: false }], outOff: n, copies: 0, flagBit: 0 });
        grid = plan.dispatches.at(-1)!.workgroups;
        return pool;
      }),
    );
    expect(grid).toEqual([8, 5, 1]);
    const bad: string[] = [];
    for (let i = 0; i < 2 * n; i++) {
      const want = i < n ? init[i]! : 2 * init[i]!;
      if (got[i] !== want) bad.push(`${i}: ${got[i]} vs ${want}`);
    }
    expect(bad.slice(0, 5), `${bad.length} of ${2 * n} values differ`).toEqual([]);
  });
});
