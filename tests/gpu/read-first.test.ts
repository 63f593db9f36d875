// planMemory's read-before-write guard: an activation whose first binding reads it holds what the
// host wrote before the plan runs (an input uploaded with writeBuffer), so it gets a buffer of its
// own (slot −1); pooled with a tensor whose lifetime ended earlier, that tensor's writes would
// overwrite the input. The liveness tests only see tensors written first.
import { describe, expect, it } from 'vitest';
import { planMemory, planningGpu } from '../../src/gpu/memory-plan.js';
import { Plan } from '../../src/gpu/plan.js';
import { add, silu } from '../../src/ops/elementwise.js';

describe('planMemory: an activation read before any dispatch writes it', () => {
  it('gets a buffer of its own, even where its lifetime would let it share one', () => {
    const gpu = planningGpu();
    const m = planMemory(gpu, (alloc, acts) => {
      const plan = new Plan(gpu, alloc);
      const w = alloc.tensor([1024], 'f32', 'weight'); // persistent: not an activation
      const t1 = acts.take([1024], 'f32', 't1');
      const t2 = acts.take([1024], 'f32', 't2');
      const input = acts.take([1024], 'f32', 'input'); // written by the host, first bound at dispatch 2 (a read)
      const t3 = acts.take([1024], 'f32', 't3');
      silu(plan, { x: w, out: t1 }); // 0: writes t1
      silu(plan, { x: t1, out: t2 }); // 1: t1's last use
      add(plan, { a: t2, b: input, out: t3 }); // 2: reads input: t1's buffer is free by lifetime alone
      return [plan];
    });
    const by = Object.fromEntries(m.activations.map((a) => [a.label, a]));
    expect([by.t1!.first, by.t1!.last, by.input!.first, by.input!.last]).toEqual([0, 1, 2, 2]);
    expect(by.input!.slot).toBe(-1);
    // the written-first tensors do share: t1 [0,1] and t3 [2,2] take one buffer, t2 [1,2] another
    expect(by.t1!.slot).toBeGreaterThanOrEqual(0);
    expect(by.t3!.slot).toBe(by.t1!.slot);
    expect(by.t2!.slot).not.toBe(by.t1!.slot);
    expect(m.slotBytes).toHaveLength(2);
    expect(m.scratchBytes).toBe(3 * by.t1!.bytes);
  });
});
