// The liveness allocator's largest-first layout (src/gpu/liveness.ts bySize) takes lifetimes of one size in
// order of first use: in any other order (input order, say) it packs them like an arbitrary interval
// colouring and can cost more than the largest live set where the first-use layout does too.
import { describe, expect, it } from 'vitest';
import { assignSlots, maxLiveBytes } from '../../src/gpu/liveness.js';

describe('liveness: two sizes, the largest live set', () => {
  it.each([
    // a plan of two large (2) and four small (1) activations: 3 live at most (dispatches 0–1 and 6–7)
    [[{ bytes: 2, first: 0, last: 1 }, { bytes: 1, first: 4, last: 4 }, { bytes: 1, first: 5, last: 7 }, { bytes: 1, first: 0, last: 1 }, { bytes: 1, first: 3, last: 5 }, { bytes: 2, first: 6, last: 8 }], 3],
    [[{ bytes: 1, first: 1, last: 2 }, { bytes: 1, first: 5, last: 5 }, { bytes: 2, first: 7, last: 9 }, { bytes: 2, first: 1, last: 3 }, { bytes: 1, first: 5, last: 7 }, { bytes: 1, first: 6, last: 8 }, { bytes: 1, first: 4, last: 6 }], 4],
  ])('plan %#: the shared buffers cost the largest live set', (items, live) => {
    expect(maxLiveBytes(items)).toBe(live);
    const a = assignSlots(items);
    expect(a.total).toBe(live);
    items.forEach((t, i) => {
      expect(a.slotBytes[a.slot[i]!]!).toBeGreaterThanOrEqual(t.bytes);
      items.forEach((u, j) => {
        if (j > i && a.slot[i] === a.slot[j]) expect(t.last < u.first || u.last < t.first).toBe(true);
      });
    });
  });
});
