// Read-backs (src/gpu/tensor.ts readBuffer) through the kept staging buffers: each read returns
// exactly its own bytes whatever staging buffer served it — a smaller read after a larger one
// (a pooled buffer bigger than the read), a larger one after it, reads at byte offsets, several
// reads in flight at once (never one staging buffer for two), f16 tensors, and the buffers past
// the pool's size limit (their own staging buffer).
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { Allocator, readBuffer, readTensor, type Tensor } from '../../src/gpu/tensor.js';
import { roundF16 } from '../../src/gpu/half.js';

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => ((i * 37 + seed * 101) % 1009) - 504.5);

describe.skipIf(!hasGpu)('readBuffer / readTensor with kept staging buffers', () => {
  it('returns each read’s own data across sizes, offsets, dtypes and concurrent reads', async () => {
    const alloc = new Allocator(gpu!);
    try {
      const sizes = [1, 5, 4099, 3, 70001, 64, 70001, 2];
      const ts: { t: Tensor; v: Float32Array }[] = sizes.map((n, i) => {
        const v = values(n, i);
        return { t: alloc.upload(v, [n], 'f32', `t${i}`), v };
      });
      // one after another: the staging buffer of a larger read then serves smaller ones
      for (const { t, v } of ts) expect(await readTensor(gpu!, t)).toEqual(v);
      // all at once: each must get its own staging buffer
      const got = await Promise.all(ts.map(({ t }) => readTensor(gpu!, t)));
      got.forEach((g, i) => expect(g).toEqual(ts[i]!.v));
      // byte offsets and odd byte counts into one buffer
      const big = ts[4]!;
      for (const [off, bytes] of [[4, 6], [400, 4000], [4 * 69000, 4 * 1001]] as const) {
        const raw = await readBuffer(gpu!, big.t.buffer, bytes, 'slice', off);
        expect(raw.byteLength).toBe(bytes);
        expect(new Uint8Array(raw)).toEqual(new Uint8Array(big.v.buffer, off, bytes));
      }
      // f16 storage: odd element count (2-byte tail)
      const h = values(7, 9).map(roundF16);
      expect(await readTensor(gpu!, alloc.upload(h, [7], 'f16', 'h'))).toEqual(h);
      // past the pool's 32 MiB limit: a staging buffer of its own, same result
      const n = 9 * 2 ** 20;
      const large = values(n, 3);
      const lt = alloc.upload(large, [n], 'f32', 'large');
      const back = await readTensor(gpu!, lt);
      expect(back.length).toBe(n);
      expect(back[0]).toBe(large[0]);
      expect(back[n - 1]).toBe(large[n - 1]);
      expect(back[4567891]).toBe(large[4567891]);
      expect(await readTensor(gpu!, ts[1]!.t)).toEqual(ts[1]!.v);
    } finally {
      alloc.destroyAll();
    }
  });
});
