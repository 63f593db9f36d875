// Query-set chunking: ≤ 4096 queries per set, 256-byte-aligned resolve offsets, and a plan of
// more than 2048 dispatches (> 4096 queries) gets every dispatch timed.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { Plan } from '../../src/gpu/plan.js';
import { Allocator } from '../../src/gpu/tensor.js';
import { norm } from '../../src/ops/norm.js';
import { MAX_QUERIES, profilePlan, queryChunks, RESOLVE_ALIGN, resolveOffsets } from '../../src/profile/profiler.js';

describe('query chunks and resolve offsets', () => {
  for (const n of [1, 2, 2047, 2048, 2049, 4096, 5000, 10001]) {
    it(`${n} dispatches`, () => {
      const chunks = queryChunks(n);
      expect(chunks.reduce((a, [, c]) => a + c, 0)).toBe(n);
      let next = 0;
      for (const [first, count] of chunks) {
        expect(first).toBe(next);
        expect(count * 2).toBeLessThanOrEqual(MAX_QUERIES);
        expect(count).toBeGreaterThan(0);
        next += count;
      }
      expect(chunks.length).toBe(Math.ceil(n / (MAX_QUERIES / 2)));
      const { offsets, total } = resolveOffsets(chunks);
      offsets.forEach((o, i) => {
        expect(o % RESOLVE_ALIGN).toBe(0);
        const end = o + chunks[i]![1] * 16;
        expect(end).toBeLessThanOrEqual(i + 1 < offsets.length ? offsets[i + 1]! : total);
      });
    });
  }
  it('a smaller query limit splits more', () => {
    expect(queryChunks(10, 4)).toEqual([[0, 2], [2, 2], [4, 2], [6, 2], [8, 2]]);
    const { offsets } = resolveOffsets(queryChunks(10, 4));
    expect(offsets).toEqual([0, 256, 512, 768, 1024]);
  });
});

describe.skipIf(!hasGpu || !gpu?.timestamps)('profiling a plan of more than 2048 dispatches', () => {
  it('times every dispatch across several query sets', async () => {
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(gpu!, alloc);
      const x = alloc.upload([1, 2, 3, 4, 5, 6, 7, 8], [2, 4], 'f32', 'x');
      const y = alloc.tensor([2, 4], 'f32', 'y');
      const n = 2100; // 4200 queries: two query sets
      for (let i = 0; i < n; i++) norm(plan, { x, out: y, eps: 1e-6, layer: `n${i}` });
      const run = await profilePlan(plan, { repeats: 1, warmup: 0 });
      expect(run.timing).toBe('gpu-timestamps');
      expect(run.dispatches.length).toBe(n);
      const untimed = run.dispatches.filter((d) => d.ms === null || !(d.ms > 0));
      expect(untimed.map((d) => d.layer)).toEqual([]);
      // The second query set's dispatches are on the timeline after the first set's.
      expect(run.dispatches[2090]!.startMs!).toBeGreaterThan(run.dispatches[10]!.startMs!);
      expect(run.dispatches[0]!.startMs).toBe(0);
      expect(run.dropped).toBe(0);
    } finally {
      alloc.destroyAll();
    }
  });
});
