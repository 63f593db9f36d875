// Plan.replace (the tuner's swap of a recorded dispatch for the variant it chose) keeps the layer the
// dispatch was recorded under. The tuner replaces after recording, when plan.layer holds another
// prefix or none: a first run's profile then named `attn1.to_qkv` for `blocks.0.attn1.to_qkv`, and
// the patch embedding's GEMM had no layer at all (bench model's first run, session 14).
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { Plan, type RecordArgs } from '../../src/gpu/plan.js';
import { Allocator } from '../../src/gpu/tensor.js';
import { scale } from '../../src/ops/elementwise.js';
import { readTensor } from '../../src/gpu/tensor.js';

describe.skipIf(!hasGpu)('Plan.replace', () => {
  it('keeps the recorded layer whatever plan.layer is at replace time, and the replacement runs', async () => {
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(gpu!, alloc);
      const x = alloc.upload(Float32Array.from([1, 2, 3, 4, 5]), [5], 'f32', 'x');
      const mid = alloc.tensor([5], 'f32', 'mid');
      const out = alloc.tensor([5], 'f32', 'out');
      const recorded: RecordArgs[] = [];
      const record = plan.record.bind(plan);
      plan.record = (a: RecordArgs) => (recorded.push(a), record(a));
      plan.layer = 'blocks.0';
      scale(plan, { x, out: mid, alpha: 2, layer: 'ff' });
      plan.layer = 'blocks.1';
      scale(plan, { x: mid, out, alpha: 3, layer: 'ff' });
      expect(plan.dispatches.map((d) => d.layer)).toEqual(['blocks.0.ff', 'blocks.1.ff']);
      for (const prefix of ['', 'proj_out']) {
        plan.layer = prefix;
        plan.replace(0, recorded[0]!, 'again');
        plan.replace(1, recorded[1]!);
        expect(plan.dispatches.map((d) => d.layer)).toEqual(['blocks.0.ff', 'blocks.1.ff']);
        expect(plan.dispatches[0]!.choice).toBe('again');
        expect(plan.layer).toBe(prefix);
      }
      await plan.run('replace test');
      expect([...(await readTensor(gpu!, out))]).toEqual([6, 12, 18, 24, 30]);
    } finally {
      alloc.destroyAll();
    }
  });
});
