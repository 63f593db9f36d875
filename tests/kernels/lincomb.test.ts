// kernels/lincomb.wgsl (the sampler's guidance mix and scheduler updates) against its float64
// reference: 1–8 terms from the f32 state pool and the model output (strided rows: CFG halves,
// learned-sigma channels), in place, clamped, copied into the model input (×1, ×2), f32 and f16
// model storage, batch 1–4, odd row lengths; and the non-finite flag.
import { describe, expect, it } from 'vitest';
import { dtypes, gpu, hasGpu } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { lincomb, type LincombTerm } from '../../src/ops/lincomb.js';
import { lincombRef } from '../../src/ref/elementwise.js';
import { randn, rng } from '../../src/random.js';
import { roundF16 } from '../../src/gpu/half.js';
import { Allocator, readTensor, type DType } from '../../src/gpu/tensor.js';
import { Plan } from '../../src/gpu/plan.js';

// [batch, values per item]: odd, tiny, one workgroup ± 1, several workgroups, model-like latents
const SHAPES: [number, number][] = [
  [1, 1], [1, 7], [2, 5], [3, 33], [1, 255], [2, 256], [1, 257], [4, 129], [2, 1000], [1, 4097], [3, 96], [2, 384],
  [1, 1536], [4, 31], [2, 768], [1, 3], [3, 17], [2, 2049], [1, 600], [4, 64], [2, 4 * 2 * 6 * 8],
];

interface Run {
  pool: Float32Array;
  model: Float32Array;
  flag: number;
}

/** Records the ops `build` returns on fresh buffers, runs them once, reads everything back. */
async function run(dtype: DType, B: number, per: number, slots: number, poolData: Float32Array, srcData: Float32Array, modelSize: number, build: () => Omit<Parameters<typeof lincomb>[1], 'pool' | 'src' | 'model' | 'flag' | 'n' | 'per'>[]): Promise<Run> {
  const alloc = new Allocator(gpu!);
  try {
    const n = B * per;
    const plan = new Plan(gpu!, alloc);
    const pool = alloc.upload(poolData, [slots, n], 'f32', 'pool');
    const src = alloc.upload(srcData, [srcData.length], dtype, 'src');
    const model = alloc.tensor([modelSize], dtype, 'model');
    const flag = alloc.buffer(4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, 'flag');
    gpu!.device.queue.writeBuffer(flag, 0, new Uint32Array(1));
    for (const c of build()) lincomb(plan, { ...c, pool, src, model, flag, n, per });
    await plan.run('lincomb test');
    const flagT = { buffer: flag, shape: [1], dtype: 'f32' as DType, size: 1, label: 'flag' };
    const f = new Uint32Array((await readTensor(gpu!, flagT as never)).buffer)[0]!;
    return { pool: await readTensor(gpu!, pool), model: await readTensor(gpu!, model), flag: f };
  } finally {
    alloc.destroyAll();
  }
}

describe.skipIf(!hasGpu)('lincomb vs float64 reference', () => {
  for (const dtype of dtypes) {
    const round = (a: Float32Array) => (dtype === 'f16' ? a.map(roundF16) : a);
    SHAPES.forEach(([B, per], i) => {
      it(`${dtype} batch ${B} × ${per}`, async () => {
        const n = B * per;
        const slots = 5;
        const r = rng(40 + i);
        const pool = randn(slots * n, 50 + i);
        // model output of a CFG batch 2B with, on odd shapes, learned-sigma rows of 2·per values
        const perOut = i % 2 ? 2 * per : per;
        const src = round(randn(2 * B * perOut, 60 + i, 3));
        const g = 1 + 6 * r();
        const guide: LincombTerm[] = [{ coef: g, off: 0, stride: perOut, fromSrc: true }, { coef: 1 - g, off: B * perOut, stride: perOut, fromSrc: true }];
        // a scheduler update: 1–8 pool terms, written in place into one of its inputs, clamped on every third shape
        const k = 1 + (i % 8);
        const terms: LincombTerm[] = Array.from({ length: k }, (_, t) => ({ coef: (r() - 0.5) * 8, off: ((t + i) % slots) * n, stride: per, fromSrc: false }));
        const out = terms[0]!.off;
        const clamp = i % 3 === 0 ? 0.75 : undefined;
        const copies = i % 3;
        const got = await run(dtype, B, per, slots, pool, src, 2 * n, () => [
          { terms: guide, outOff: 0, copies: 0, flagBit: 0 },
          { terms, outOff: out, copies, flagBit: 1, clamp },
        ]);
        // reference, in the same order: the guidance into slot 0, then the update reads the new slot 0
        const p64 = Float64Array.from(pool);
        p64.set(lincombRef(p64, src, n, per, guide), 0);
        const v = lincombRef(p64, src, n, per, terms, clamp);
        if (out !== 0) expectClose(got.pool.subarray(0, n), p64.subarray(0, n), [B, per], TOL.lincomb!.f32, `guidance ${dtype}`);
        expectClose(got.pool.subarray(out, out + n), v, [B, per], TOL.lincomb!.f32, `update ${dtype}`);
        // the other slots are untouched
        for (let s = 1; s < slots; s++) if (s * n !== out) expect(Array.from(got.pool.subarray(s * n, (s + 1) * n))).toEqual(Array.from(pool.subarray(s * n, (s + 1) * n)));
        for (let c = 0; c < copies; c++) expectClose(got.model.subarray(c * n, (c + 1) * n), v, [B, per], TOL.lincomb![dtype], `model copy ${c} ${dtype}`);
        expect(got.flag).toBe(0);
      });
    });

    it(`${dtype} the non-finite flag: a NaN input sets the op's bit, an f16 input overflow sets the copy's bit`, async () => {
      const [B, per] = [2, 9];
      const n = B * per;
      const pool = randn(3 * n, 7);
      pool[n + 5] = NaN;
      const src = round(randn(n, 8));
      const got = await run(dtype, B, per, 3, pool, src, n, () => [
        { terms: [{ coef: 1, off: 0, stride: per, fromSrc: false }], outOff: 2 * n, copies: 0, flagBit: 3 },
        { terms: [{ coef: 2, off: n, stride: per, fromSrc: false }], outOff: 2 * n, copies: 0, flagBit: 4 },
        { terms: [{ coef: 1e5, off: 0, stride: per, fromSrc: true }], outOff: 0, copies: 1, flagBit: 5 },
      ]);
      expect(got.flag & (1 << 3)).toBe(0);
      expect(got.flag & (1 << 4)).toBe(1 << 4);
      // 1e5·src exceeds f16's 65504 for |src| > 0.66: only the f16 model copy overflows
      expect(got.flag & (1 << 5)).toBe(dtype === 'f16' ? 1 << 5 : 0);
    });

    it(`${dtype} the non-finite flag: an f16 input overflow below −65504 sets the copy's bit too`, async () => {
      // 1e5·src ≤ −65504 for src ≤ −0.66, and no value above +65504: the negative side alone (mutation round 3)
      const [B, per] = [2, 9];
      const n = B * per;
      const src = round(randn(n, 9).map((v) => -Math.abs(v) - 0.7));
      const got = await run(dtype, B, per, 1, new Float32Array(n), src, n, () => [{ terms: [{ coef: 1e5, off: 0, stride: per, fromSrc: true }], outOff: 0, copies: 1, flagBit: 2 }]);
      expect(got.flag).toBe(dtype === 'f16' ? 1 << 2 : 0);
    });
  }

  it('refuses bad arguments before recording', async () => {
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(gpu!, alloc);
      const pool = alloc.tensor([2, 8], 'f32', 'pool');
      const src = alloc.tensor([8], 'f32', 'src');
      const model = alloc.tensor([8], 'f32', 'model');
      const flag = alloc.buffer(4, GPUBufferUsage.STORAGE, 'flag');
      const base = { pool, src, model, flag, n: 8, per: 4, outOff: 0, copies: 0, flagBit: 0 };
      const t = (off: number, fromSrc = false) => ({ coef: 1, off, stride: 4, fromSrc });
      expect(() => lincomb(plan, { ...base, terms: [] })).toThrow(/0 terms/);
      expect(() => lincomb(plan, { ...base, terms: Array.from({ length: 9 }, () => t(0)) })).toThrow(/9 terms/);
      expect(() => lincomb(plan, { ...base, terms: [t(12)] })).toThrow(/reads \[12, 20\)/);
      expect(() => lincomb(plan, { ...base, terms: [t(4, true)] })).toThrow(/of src/);
      expect(() => lincomb(plan, { ...base, terms: [t(0)], outOff: 12 })).toThrow(/outside the pool/);
      expect(() => lincomb(plan, { ...base, terms: [t(0)], copies: 2 })).toThrow(/do not fit the model input/);
      expect(() => lincomb(plan, { ...base, per: 3, terms: [t(0)] })).toThrow(/multiple of per/);
      expect(plan.dispatches).toHaveLength(0);
    } finally {
      alloc.destroyAll();
    }
  });
});
