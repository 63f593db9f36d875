// Sub-allocation of the shared activation buffers (src/gpu/liveness.ts placeOffsets, planned by
// src/gpu/memory-plan.ts): activations whose lifetimes overlap never overlap in memory, offsets are
// aligned, no buffer passes maxBufferSize (a buffer may pass the binding limit: each tensor is bound
// as its own range), a dispatch's read and written activations never share a buffer (WebGPU refuses
// one buffer bound read-only and writable in one dispatch), and a tensor larger than any buffer is
// refused by name. Then, on the GPU: a plan whose activations share a buffer at different offsets
// computes what it computes with a buffer per activation.
import { describe, expect, it } from 'vitest';
import { maxLiveBytes, placeOffsets, type Lifetime, type PlaceOptions } from '../../src/gpu/liveness.js';
import { DistinctActivations, planMemory, planningGpu, PooledActivations, type MemoryPlan, type SharedLayout } from '../../src/gpu/memory-plan.js';
import { Plan, type ActivationSource } from '../../src/gpu/plan.js';
import { Allocator, readTensor, writeTensor } from '../../src/gpu/tensor.js';
import { add, silu } from '../../src/ops/elementwise.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { randomLifetimes, rng } from '../helpers/rng.js';

/** Checks every invariant by brute force over all pairs; returns the placement. */
function checked(items: Lifetime[], o: PlaceOptions) {
  const p = placeOffsets(items, o);
  const apart = new Set((o.apart ?? []).map(([a, b]) => `${Math.min(a, b)},${Math.max(a, b)}`));
  items.forEach((t, i) => {
    expect(p.offset[i]! % o.align, `offset of ${i}`).toBe(0);
    expect(p.offset[i]! + t.bytes).toBeLessThanOrEqual(p.bufferBytes[p.buffer[i]!]!);
    for (let j = i + 1; j < items.length; j++) {
      if (p.buffer[i] !== p.buffer[j]) continue;
      const u = items[j]!;
      expect(apart.has(`${i},${j}`), `apart ${i} and ${j} share buffer ${p.buffer[i]}`).toBe(false);
      const live = t.first <= u.last && u.first <= t.last;
      const disjoint = p.offset[i]! + t.bytes <= p.offset[j]! || p.offset[j]! + u.bytes <= p.offset[i]!;
      if (live) expect(disjoint, `${i} [${t.first},${t.last}] and ${j} [${u.first},${u.last}] overlap in buffer ${p.buffer[i]}`).toBe(true);
    }
  });
  for (const b of p.bufferBytes) expect(b).toBeLessThanOrEqual(o.maxBufferBytes);
  expect(p.total).toBe(p.bufferBytes.reduce((s, b) => s + b, 0));
  expect(p.total).toBeGreaterThanOrEqual(maxLiveBytes(items));
  return p;
}

describe('placeOffsets', () => {
  it('random plans: live tensors never overlap in memory, offsets aligned, buffers within the limit, apart pairs in different buffers', () => {
    const r = rng(5);
    for (let trial = 0; trial < 150; trial++) {
      const n = 1 + Math.floor(r() * 40);
      const items = randomLifetimes(r, n, 30, 8, () => 1 + Math.floor(r() * 2000));
      const apart: [number, number][] = [];
      for (let k = 0; k < n; k++) if (r() < 0.5) apart.push([Math.floor(r() * n), Math.floor(r() * n)]);
      checked(items, { align: [4, 256, 512][trial % 3]!, maxBufferBytes: 4096 + Math.floor(r() * 8192), apart });
    }
  });

  it('equal sizes, no apart pairs, an unlimited buffer: the cost is the largest live set', () => {
    const r = rng(9);
    for (let trial = 0; trial < 100; trial++) {
      const items = randomLifetimes(r, 30, 40, 10, () => 256);
      expect(checked(items, { align: 256, maxBufferBytes: 2 ** 40 }).total).toBe(maxLiveBytes(items));
    }
  });

  it('offsets are multiples of the alignment: three live tensors of 100 bytes at 0, 256, 512', () => {
    const items = [0, 1, 2].map(() => ({ bytes: 100, first: 0, last: 2 }));
    const p = checked(items, { align: 256, maxBufferBytes: 2 ** 20 });
    expect(p.bufferBytes).toHaveLength(1);
    expect([...p.offset].sort((a, b) => a - b)).toEqual([0, 256, 512]);
    expect(p.total).toBe(612);
  });

  it('two live tensors where a larger one lived before share its buffer at different offsets (one buffer per tensor at a time costs 1.5×)', () => {
    // big [0,1]; s1 [2,4], s2 [3,4] of half its size: slots would give s2 a buffer of its own
    const items = [{ bytes: 1024, first: 0, last: 1 }, { bytes: 512, first: 2, last: 4 }, { bytes: 512, first: 3, last: 4 }];
    const p = checked(items, { align: 256, maxBufferBytes: 2 ** 20 });
    expect(p.buffer).toEqual([0, 0, 0]);
    expect(p.offset[1]).not.toBe(p.offset[2]);
    expect(p.total).toBe(1024);
  });

  it('a tensor read and a tensor written by one dispatch (apart) never share a buffer, whatever the room', () => {
    const items = [{ bytes: 256, first: 0, last: 1 }, { bytes: 256, first: 1, last: 2 }];
    expect(checked(items, { align: 256, maxBufferBytes: 2 ** 20 }).buffer).toEqual([0, 0]);
    const p = checked(items, { align: 256, maxBufferBytes: 2 ** 20, apart: [[0, 1]] });
    expect(p.buffer[0]).not.toBe(p.buffer[1]);
  });

  it('maxBufferSize: live tensors spill into more buffers, none past the limit', () => {
    // five live tensors of 400 bytes, buffers of at most 1000: two per buffer
    const items = Array.from({ length: 5 }, () => ({ bytes: 400, first: 0, last: 0 }));
    const p = checked(items, { align: 16, maxBufferBytes: 1000 });
    expect(p.bufferBytes.length).toBe(3);
  });

  it('a tensor larger than any buffer is refused in one line naming it and the limit', () => {
    const items = [{ bytes: 100, first: 0, last: 1 }, { bytes: 5000, first: 1, last: 2 }];
    expect(() => placeOffsets(items, { align: 256, maxBufferBytes: 4096, labels: ['x [10]', 'ffn_hidden [2,1250]'] })).toThrow(/^ffn_hidden \[2,1250\]: 5000 bytes cannot be placed in a shared buffer: the adapter's maxBufferSize is 4096 bytes$/);
  });

  it('refuses an interval that ends before it starts, and an alignment that is not a positive integer', () => {
    expect(() => placeOffsets([{ bytes: 4, first: 3, last: 2 }], { align: 256, maxBufferBytes: 1024 })).toThrow(/lifetime 0: first 3, last 2/);
    expect(() => placeOffsets([], { align: 0, maxBufferBytes: 1024 })).toThrow(/alignment 0/);
  });
});

const N = 64 * 1024; // elements of the big activation (256 KiB in f32); s1, s2 half of it

/**
 * dispatch 0: big = silu(w0); 1: o1 = silu(big); 2: s1 = silu(w1); 3: s2 = silu(w2); 4: o2 = s1 + s2.
 * s1 and s2 are live together where big's buffer is free: sub-allocated, both take big's buffer.
 */
function record(alloc: Allocator, acts: ActivationSource, data?: Float32Array[], withBig = true) {
  const plan = new Plan(alloc.gpu, alloc);
  const w = [N, N / 2, N / 2].map((n, i) => (data ? alloc.upload(data[i]!, [n], 'f32', `w${i}`) : alloc.tensor([n], 'f32', `w${i}`)));
  const o1 = alloc.tensor([N], 'f32', 'o1');
  const o2 = alloc.tensor([N / 2], 'f32', 'o2');
  const big = withBig ? acts.take([N], 'f32', 'big') : undefined;
  const s1 = acts.take([N / 2], 'f32', 's1');
  const s2 = acts.take([N / 2], 'f32', 's2');
  if (big) {
    silu(plan, { x: w[0]!, out: big });
    silu(plan, { x: big, out: o1 });
  }
  silu(plan, { x: w[1]!, out: s1 });
  silu(plan, { x: w[2]!, out: s2 });
  add(plan, { a: s1, b: s2, out: o2 });
  return { plan, big, s1, s2, o1, o2 };
}

describe('planMemory: sub-allocated shared buffers', () => {
  const plan = (limits = {}, withBig = true, layout?: SharedLayout): MemoryPlan => planMemory(planningGpu(limits), (alloc, acts) => [record(alloc, acts, undefined, withBig).plan], undefined, layout);

  it('two live activations share the buffer of a larger one at different offsets: the cost is the largest live set, under the slots', () => {
    const m = plan();
    const by = Object.fromEntries(m.activations.map((a) => [a.label, a]));
    expect(by.s1!.slot).toBe(by.big!.slot);
    expect(by.s2!.slot).toBe(by.big!.slot);
    expect(by.s1!.offset).not.toBe(by.s2!.offset);
    expect((by.s2!.offset - by.s1!.offset) % 256).toBe(0);
    expect(m.scratchBytes).toBe(m.scratchMaxLive);
    expect(m.scratchBytes).toBe(N * 4);
    expect(m.scratchPerSlotBytes).toBe(1.5 * N * 4);
  });

  it('a shared buffer may pass maxStorageBufferBindingSize while every binding stays within it', () => {
    // without big, s1 and s2 (128 KiB each) at offsets in one 256 KiB buffer, bindings limited to 128 KiB
    const m = plan({ maxStorageBufferBindingSize: N * 2, maxBufferSize: N * 4 }, false, 'offsets');
    expect(m.slotBytes).toEqual([N * 4]);
    expect(m.largestBinding.bytes).toBe(N * 2);
    // the slots cost the same here (two buffers of 128 KiB): a tie keeps them
    expect(plan({ maxStorageBufferBindingSize: N * 2, maxBufferSize: N * 4 }, false).slotBytes).toEqual([N * 2, N * 2]);
    // a maxBufferSize under big's bytes: big keeps a buffer of its own (the real allocation refuses it
    // by name; the memory check by largestBuffer), the others still share
    const small = plan({ maxStorageBufferBindingSize: N * 2, maxBufferSize: N * 2 });
    const by = Object.fromEntries(small.activations.map((a) => [a.label, a]));
    expect(by.big!.slot).toBe(-1);
    expect(by.s1!.slot).toBeGreaterThanOrEqual(0);
    expect(small.largestBuffer.bytes).toBe(N * 4);
  });

  it.skipIf(!hasGpu)('on the GPU: the sub-allocated plan computes what a buffer per activation computes, and reads and writes honour the offsets', async () => {
    const g = gpu!;
    const r = rng(3);
    const data = [N, N / 2, N / 2].map((n) => Float32Array.from({ length: n }, () => 4 * r() - 2));
    const m = planMemory(g, (alloc, acts) => [record(alloc, acts).plan]);
    const run = async (pooled: boolean) => {
      const alloc = new Allocator(g);
      try {
        const acts = pooled ? new PooledActivations(alloc, m) : new DistinctActivations(alloc);
        const rec = record(alloc, acts, data);
        if (acts instanceof PooledActivations) acts.finish();
        await rec.plan.run('suballoc test');
        return { rec, o1: await readTensor(g, rec.o1), o2: await readTensor(g, rec.o2), s2: await readTensor(g, rec.s2), alloc };
      } catch (e) {
        alloc.destroyAll();
        throw e;
      }
    };
    const own = await run(false);
    const shared = await run(true);
    try {
      const { s1, s2, big } = shared.rec;
      // really shared: one buffer, two offsets, each bound as its own range
      expect(s1.buffer).toBe(s2.buffer);
      expect(s1.buffer).toBe(big!.buffer);
      expect(s1.offset).not.toBe(s2.offset);
      expect(own.rec.s1.buffer).not.toBe(own.rec.s2.buffer);
      expect(Array.from(shared.o1)).toEqual(Array.from(own.o1));
      expect(Array.from(shared.o2)).toEqual(Array.from(own.o2));
      expect(Array.from(shared.s2)).toEqual(Array.from(own.s2));
      const silu1 = (v: number) => v / (1 + Math.exp(-v));
      for (const i of [0, 1, N / 2 - 1]) expect(shared.o2[i]!).toBeCloseTo(silu1(data[1]![i]!) + silu1(data[2]![i]!), 5);
      // a write at s2's offset lands in s2, not s1
      const before1 = await readTensor(g, s1);
      writeTensor(g, s2, new Float32Array(N / 2).fill(7));
      expect(Array.from(await readTensor(g, s1))).toEqual(Array.from(before1));
      expect((await readTensor(g, s2)).every((v) => v === 7)).toBe(true);
    } finally {
      own.alloc.destroyAll();
      shared.alloc.destroyAll();
    }
  });
});
