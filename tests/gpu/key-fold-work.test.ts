// A dispatch whose keys visited are data (attention with keyFold, KeyFoldWork in src/gpu/plan.ts)
// reports the work of every key until the host writes its fold table, then of the keys it visits
// (min(fold + 1, lk) per item) — also after the tuner re-records it. The Wan model's use is tested
// in tests/models/key-fold.test.ts; here the plan's bookkeeping, on a stand-in copy dispatch.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { Plan, type KeyFoldWork, type RecordArgs } from '../../src/gpu/plan.js';
import { Allocator, subTensor } from '../../src/gpu/tensor.js';
import { copyKernel } from '../../src/profile/ceiling.js';

describe.skipIf(!hasGpu)('key-fold work in profiles', () => {
  it('every key until the table is written; then the keys visited per item, kept across a re-record', () => {
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(gpu!, alloc);
      const src = alloc.upload([1, 2, 3, 4], [4], 'f32', 'src');
      const dst = alloc.tensor([4], 'f32', 'dst');
      // the table holds two 3-item tables; the dispatch reads the second, at u32 index 3
      const fold = alloc.uploadU32(new Uint32Array(6).fill(7), 'fold');
      const mine = subTensor(fold, 3, [3]);
      const work: KeyFoldWork = { buffer: mine.buffer, offset: (mine.offset ?? 0), batch: 3, lk: 7, flopsPerKey: 10, bytesPerKey: 2, bytesFixed: 100 };
      const args: RecordArgs = {
        spec: copyKernel,
        variant: { overrides: { WG: 256 } },
        uniforms: [['n4', 'u32', 1], ['_pad0', 'u32', 0], ['_pad1', 'u32', 0], ['_pad2', 'u32', 0]],
        buffers: [src, dst],
        workgroups: [1, 1, 1],
        shapes: '',
        flops: 10 * 3 * 7,
        bytes: 100 + 2 * 3 * 7,
        keyFold: work,
      };
      plan.record(args);
      expect(plan.dispatches[0]!.flops).toBe(210);
      // items fold to 2, 0 and 7 (nothing folded: lk keys, not lk + 1): 3 + 1 + 7 keys
      plan.keyFoldWritten(fold.buffer, fold.offset ?? 0, Uint32Array.from([5, 5, 5, 2, 0, 7]));
      expect(plan.dispatches[0]!.flops).toBe(10 * 11);
      expect(plan.dispatches[0]!.bytes).toBe(100 + 2 * 11);
      plan.replace(0, args, 'other');
      expect(plan.dispatches[0]!.flops).toBe(10 * 11);
      // a table written elsewhere in the buffer, not covering this dispatch's items: every key again
      plan.keyFoldWritten(fold.buffer, fold.offset ?? 0, Uint32Array.from([1, 1, 1]));
      expect(plan.dispatches[0]!.flops).toBe(210);
    } finally {
      alloc.destroyAll();
    }
  });
});
