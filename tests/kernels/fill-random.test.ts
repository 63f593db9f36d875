// kernels/fill_random.wgsl (the random weights loadRandomModel makes on the GPU) against its host
// reference randomValues: the same bits in f32 (offset 0: one correctly rounded multiply), within
// one f32 rounding with an offset (an adapter may fuse the multiply-add), f16 within its rounding;
// a part [start, start + n) of a larger tensor leaves the rest untouched; and the documented
// statistics (uniform on offset ± √3·scale: mean offset, standard deviation scale) checked in
// float64 over the host values and the GPU's.
import { describe, expect, it } from 'vitest';
import { dtypes, gpu, hasGpu, runOnce } from '../helpers/gpu.js';
import { fillRandom, mix32, randomKeys, randomValues, unitValue } from '../../src/ops/fill-random.js';
import { roundF16 } from '../../src/gpu/half.js';

/** Mean, standard deviation, min and max in float64. */
function stats(v: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) {
    s += v[i]!;
    min = Math.min(min, v[i]!);
    max = Math.max(max, v[i]!);
  }
  const mean = s / v.length;
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += (v[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(ss / v.length), min, max };
}

describe('random values on the host (the reference)', () => {
  it('mix32 is the lowbias32 hash and the keys differ per seed and stream', () => {
    expect(mix32(0)).toBe(0);
    // the hash by hand for 1: x ^= x>>16 → 1; ×0x7feb352d → 0x7feb352d; ^= >>15; ×0x846ca68b; ^= >>16
    let x = 1;
    x = Math.imul(x, 0x7feb352d) >>> 0;
    x = (x ^ (x >>> 15)) >>> 0;
    x = Math.imul(x, 0x846ca68b) >>> 0;
    expect(mix32(1)).toBe((x ^ (x >>> 16)) >>> 0);
    const keys = new Set<string>();
    for (const seed of [0, 1, 2, -1, 2 ** 40]) for (let stream = 0; stream < 50; stream++) keys.add(randomKeys(seed, stream).join(','));
    expect(keys.size).toBe(5 * 50);
    // seed s, stream t + 1 is not seed s + 1, stream t (the old host scheme's overlap)
    expect(Array.from(randomValues(8, { seed: 0, stream: 1, scale: 1 }))).not.toEqual(Array.from(randomValues(8, { seed: 1, stream: 0, scale: 1 })));
    expect(() => randomKeys(0.5, 0)).toThrow('randomKeys: seed must be a safe integer, got 0.5');
  });

  it('deterministic by (seed, stream), and uniform with the documented mean and standard deviation', () => {
    const n = 1 << 20;
    const a = randomValues(n, { seed: 7, stream: 3, scale: 0.05, offset: 1 });
    expect(Array.from(randomValues(n, { seed: 7, stream: 3, scale: 0.05, offset: 1 }).subarray(0, 1000))).toEqual(Array.from(a.subarray(0, 1000)));
    const s = stats(a);
    // mean ± 5 standard errors (σ/√n = 4.9e-5), σ within 0.5% (its standard error is ~0.05% for a uniform)
    expect(Math.abs(s.mean - 1)).toBeLessThan(5 * 0.05 / Math.sqrt(n));
    expect(Math.abs(s.std / 0.05 - 1)).toBeLessThan(0.005);
    // bounded by offset ± √3·scale, and reaching close to both ends
    const h = 0.05 * Math.sqrt(3);
    expect(s.min).toBeGreaterThanOrEqual(1 - h - 1e-6);
    expect(s.max).toBeLessThanOrEqual(1 + h + 1e-6);
    expect(s.min).toBeLessThan(1 - 0.999 * h);
    expect(s.max).toBeGreaterThan(1 + 0.999 * h);
    // u(j) is exact: (c + 0.5)·2^−22 with c in [−2^22, 2^22): symmetric, never ±1 or 0
    for (let j = 0; j < 1000; j++) {
      const u = unitValue(j, 123, 456);
      expect(Math.abs(u)).toBeLessThan(1);
      expect(Number.isInteger(u * 2 ** 22 - 0.5)).toBe(true);
    }
    // neighbouring elements are uncorrelated (lag-1 correlation of the unit values ~ 1/√n)
    const u = Array.from({ length: n }, (_, j) => unitValue(j, 99, 77));
    let c = 0;
    for (let j = 1; j < n; j++) c += u[j]! * u[j - 1]!;
    expect(Math.abs(c / (n - 1) / (1 / 3))).toBeLessThan(5 / Math.sqrt(n));
  });
});

describe.skipIf(!hasGpu)('fill_random kernel vs randomValues', () => {
  const SIZES = [1, 7, 255, 256, 257, 1000, 4097, 65536 + 3];
  for (const dtype of dtypes) {
    for (const [i, n] of SIZES.entries()) {
      const offset = i % 3 === 1 ? 1 : 0;
      const scale = [0.02, 0.1, 1 / Math.sqrt(1536), 1][i % 4]!;
      it(`${dtype} n=${n} scale=${scale.toPrecision(3)}${offset ? ' offset 1' : ''}`, async () => {
        const f = { seed: 11 + i, stream: 3 * i, scale, offset };
        const got = await runOnce((plan, alloc) => fillRandom(plan, { out: alloc.tensor([n], dtype, 'w'), ...f }));
        const ref = randomValues(n, f);
        let worst = 0;
        for (let j = 0; j < n; j++) {
          const r = dtype === 'f16' ? roundF16(ref[j]!) : ref[j]!;
          // f32, offset 0: the same bits; an offset: one f32 rounding (a fused multiply-add); f16: one f16 step
          const allowed = dtype === 'f16' ? Math.abs(r) * 2 ** -10 : offset ? Math.abs(r) * 2 ** -23 : 0;
          worst = Math.max(worst, Math.abs(got[j]! - r) - allowed);
        }
        expect(worst, `worst excess over the allowed difference, ${dtype} n=${n}`).toBeLessThanOrEqual(0);
      });
    }
  }

  it('a part [start, start + n) of a larger tensor (a q|k|v slice): those elements only, with the part\'s own values', async () => {
    const got = await runOnce((plan, alloc) => {
      const out = alloc.upload(new Float32Array(300).fill(-7), [300], 'f32', 'qkv');
      return fillRandom(plan, { out, start: 100, n: 100, seed: 5, stream: 2, scale: 0.3 });
    });
    expect(Array.from(got.subarray(0, 100))).toEqual(new Array(100).fill(-7));
    expect(Array.from(got.subarray(200))).toEqual(new Array(100).fill(-7));
    expect(Array.from(got.subarray(100, 200))).toEqual(Array.from(randomValues(100, { seed: 5, stream: 2, scale: 0.3 })));
  });

  it('a 2-D grid (above maxComputeWorkgroupsPerDimension workgroups): every element is randomValues\' (j = gid.x + gid.y·nwg.x·WG)', async () => {
    // grid1D splits only above 65535 workgroups (16.7M elements, a 14B-class weight); a lower limit forces the split here
    const lim = gpu!.limits;
    const saved = lim.maxComputeWorkgroupsPerDimension;
    const n = 21 * 256 - 3; // 21 workgroups → grid [5, 5, 1] under a limit of 5: 4 whole workgroups past n
    const f = { seed: 9, stream: 4, scale: 0.25 };
    let grid: number[] = [];
    lim.maxComputeWorkgroupsPerDimension = 5;
    try {
      const got = await runOnce((plan, alloc) => {
        const out = alloc.upload(new Float32Array(n + 2000).fill(-7), [n + 2000], 'f32', 'w');
        fillRandom(plan, { out, start: 40, n, ...f });
        grid = plan.dispatches.at(-1)!.workgroups;
        return out;
      });
      expect(grid).toEqual([5, 5, 1]);
      const ref = randomValues(n, f);
      const bad: string[] = [];
      for (let j = 0; j < n; j++) if (got[40 + j] !== ref[j]) bad.push(`${j}: ${got[40 + j]} vs ${ref[j]}`);
      expect(bad.slice(0, 5), `${bad.length} of ${n} elements differ`).toEqual([]);
      expect(Array.from(got.subarray(0, 40))).toEqual(new Array(40).fill(-7));
      expect(Array.from(got.subarray(40 + n))).toEqual(new Array(1960).fill(-7));
    } finally {
      lim.maxComputeWorkgroupsPerDimension = saved;
    }
  });

  it('the GPU values have the documented statistics (1M values, f32)', async () => {
    const n = 1 << 20;
    const got = await runOnce((plan, alloc) => fillRandom(plan, { out: alloc.tensor([n], 'f32', 'w'), seed: 0, stream: 0, scale: 0.02 }));
    const s = stats(got);
    expect(Math.abs(s.mean)).toBeLessThan(5 * 0.02 / Math.sqrt(n));
    expect(Math.abs(s.std / 0.02 - 1)).toBeLessThan(0.005);
    expect(Math.max(-s.min, s.max)).toBeLessThanOrEqual(0.02 * Math.sqrt(3) * (1 + 1e-6));
  });

  it('refuses a range outside the tensor and a bad scale, naming them', async () => {
    await expect(runOnce((plan, alloc) => fillRandom(plan, { out: alloc.tensor([10], 'f32', 'w'), start: 5, n: 6, seed: 0, stream: 0, scale: 1 }))).rejects.toThrow('fillRandom: [5, 11) is outside w (10 elements)');
    await expect(runOnce((plan, alloc) => fillRandom(plan, { out: alloc.tensor([10], 'f32', 'w'), seed: 0, stream: 0, scale: NaN }))).rejects.toThrow('fillRandom: scale NaN and offset undefined must be finite, scale ≥ 0');
  });
});
