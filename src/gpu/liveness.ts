// Liveness-based buffer sharing over a recorded plan: activations whose lifetimes (first to last
// dispatch that binds them, both ends included) do not overlap share one GPU buffer. Including
// both ends means two tensors bound by the same dispatch are never given one buffer, which
// WebGPU forbids anyway when one of them is written (one buffer bound read and read_write).
// Browser-safe, GPU-free: the plan's dispatches are given as intervals.

/** One activation: its size in bytes and the dispatch indices of its first and last use. */
export interface Lifetime {
  bytes: number;
  first: number;
  last: number;
}

export interface SlotAssignment {
  /** Slot (shared buffer) of each lifetime, in input order. */
  slot: number[];
  /** Bytes of each slot: the largest lifetime it holds. */
  slotBytes: number[];
  /** Sum of slotBytes: what the shared buffers cost. */
  total: number;
  /** The largest sum of sizes live at one dispatch: no assignment can cost less. */
  maxLive: number;
}

/**
 * Assigns lifetimes to shared slots, the cheaper (smaller total) of two greedy layouts:
 * - in order of first use (ties: larger first), a lifetime takes the free slot (one whose holders
 *   have all ended before it starts) closest in size — the smallest that is large enough, else the
 *   largest, which then grows. For lifetimes of one size this is interval-graph colouring in start
 *   order, which is optimal: total = maxLive.
 * - largest first (ties: earlier first), a lifetime takes the first slot none of whose holders'
 *   lifetimes overlap its own (slots never grow: each is its first, largest holder's size). Where a
 *   few large activations (FFN hidden states, q|k|v) take turns with many small ones, this one
 *   keeps the small from growing a slot the large later need too.
 * @throws Error on a lifetime with first > last or a negative size.
 */
export function assignSlots(items: readonly Lifetime[]): SlotAssignment {
  for (const [i, t] of items.entries()) {
    if (!(t.first <= t.last) || t.first < 0 || !(t.bytes >= 0)) throw new Error(`lifetime ${i}: first ${t.first}, last ${t.last}, ${t.bytes} bytes is not a valid interval`);
  }
  const maxLive = maxLiveBytes(items);
  const a = byFirstUse(items);
  const b = bySize(items);
  const best = b.total < a.total ? b : a;
  return { ...best, maxLive };
}

type Layout = { slot: number[]; slotBytes: number[]; total: number };

function byFirstUse(items: readonly Lifetime[]): Layout {
  const order = items.map((_, i) => i).sort((a, b) => items[a]!.first - items[b]!.first || items[b]!.bytes - items[a]!.bytes || a - b);
  const slot = new Array<number>(items.length).fill(-1);
  const slotBytes: number[] = [];
  /** Last dispatch at which each slot is still in use. */
  const busyUntil: number[] = [];
  for (const i of order) {
    const t = items[i]!;
    let fit = -1; // smallest free slot ≥ t.bytes
    let big = -1; // largest free slot
    for (let s = 0; s < slotBytes.length; s++) {
      if (busyUntil[s]! >= t.first) continue;
      if (slotBytes[s]! >= t.bytes && (fit < 0 || slotBytes[s]! < slotBytes[fit]!)) fit = s;
      if (big < 0 || slotBytes[s]! > slotBytes[big]!) big = s;
    }
    let s = fit >= 0 ? fit : big;
    if (s < 0) {
      s = slotBytes.length;
      slotBytes.push(0);
      busyUntil.push(-1);
    }
    slot[i] = s;
    slotBytes[s] = Math.max(slotBytes[s]!, t.bytes);
    busyUntil[s] = t.last;
  }
  return { slot, slotBytes, total: slotBytes.reduce((x, y) => x + y, 0) };
}

function bySize(items: readonly Lifetime[]): Layout {
  const order = items.map((_, i) => i).sort((a, b) => items[b]!.bytes - items[a]!.bytes || items[a]!.first - items[b]!.first || a - b);
  const slot = new Array<number>(items.length).fill(-1);
  const slotBytes: number[] = [];
  /** Each slot's holders' lifetimes, disjoint, sorted by first use. */
  const held: { first: number; last: number }[][] = [];
  for (const i of order) {
    const t = items[i]!;
    let s = 0;
    let at = 0;
    for (; s < held.length; s++) {
      const h = held[s]!;
      // the first holder starting after t, and whether it or the one before overlaps t
      let lo = 0;
      let hi = h.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (h[mid]!.first <= t.first) lo = mid + 1;
        else hi = mid;
      }
      if ((lo === h.length || h[lo]!.first > t.last) && (lo === 0 || h[lo - 1]!.last < t.first)) {
        at = lo;
        break;
      }
    }
    if (s === held.length) {
      held.push([]);
      slotBytes.push(t.bytes);
      at = 0;
    }
    held[s]!.splice(at, 0, { first: t.first, last: t.last });
    slot[i] = s;
  }
  return { slot, slotBytes, total: slotBytes.reduce((x, y) => x + y, 0) };
}

/** The largest sum of sizes of lifetimes that include one dispatch. */
export function maxLiveBytes(items: readonly Lifetime[]): number {
  const ev: [number, number][] = [];
  for (const t of items) ev.push([t.first, t.bytes], [t.last + 1, -t.bytes]);
  ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]); // frees before allocations at one index
  let live = 0;
  let best = 0;
  for (const [, d] of ev) {
    live += d;
    best = Math.max(best, live);
  }
  return best;
}
