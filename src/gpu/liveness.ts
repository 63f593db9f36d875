// Liveness-based buffer sharing over a recorded plan: activations whose lifetimes (first to last
// dispatch that binds them, both ends included) do not overlap share one GPU buffer. Including
// both ends means two tensors bound by the same dispatch are never given one buffer, which
// WebGPU forbids anyway when one of them is written (one buffer bound read and read_write).
// assignSlots gives each buffer one activation at a time; placeOffsets sub-allocates, several
// live activations at byte offsets in one buffer. Browser-safe, GPU-free: the plan's dispatches
// are given as intervals.

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

/** Where placeOffsets puts each lifetime: a shared buffer and a byte offset in it. */
export interface OffsetPlacement {
  /** Shared buffer of each lifetime, in input order. */
  buffer: number[];
  /** Byte offset of each lifetime in its buffer: a multiple of the alignment. */
  offset: number[];
  /** Bytes of each buffer: the furthest end of a lifetime it holds. */
  bufferBytes: number[];
  /** Sum of bufferBytes. */
  total: number;
  /** The largest sum of sizes live at one dispatch: no placement can cost less. */
  maxLive: number;
}

export interface PlaceOptions {
  /** Offsets are multiples of this (the adapter's minStorageBufferOffsetAlignment). */
  align: number;
  /** No buffer may exceed this (the adapter's maxBufferSize). */
  maxBufferBytes: number;
  /**
   * Pairs of lifetimes (input indices) that must lie in different buffers, whatever their offsets:
   * WebGPU refuses a dispatch that binds one buffer both read-only and writable, even at disjoint ranges.
   */
  apart?: readonly (readonly [number, number])[];
  /** Names of the lifetimes, for the refusal of one too large for any buffer. */
  labels?: readonly string[];
}

/**
 * Sub-allocation: places lifetimes at byte offsets inside a few shared buffers so that two whose
 * lifetimes overlap (both ends included) never overlap in memory, in the manner of the arena
 * planners of inference runtimes. Lifetimes are placed one at a time; each takes, among the
 * buffers it may join (none of its `apart` partners there, its end within maxBufferBytes), the
 * position that grows a buffer least — the smallest gap between the tenants live with it that
 * holds it, else past their ends — and a new buffer when none may hold it. That greedy runs in
 * three orders (largest first, first use, longest-lived first) and the cheapest layout is kept:
 * with `apart` pairs no one order is best (largest first fills one buffer with the FFN's hidden
 * states, whose partners then need buffers of their own). A lifetime's own binding is its range
 * alone, so a buffer may exceed maxStorageBufferBindingSize.
 * @throws Error on an invalid interval (as assignSlots), or one line naming the lifetime that
 *   exceeds maxBufferBytes (it cannot be placed in any buffer).
 */
export function placeOffsets(items: readonly Lifetime[], o: PlaceOptions): OffsetPlacement {
  const { align, maxBufferBytes } = o;
  if (!(Number.isInteger(align) && align > 0)) throw new Error(`placeOffsets: alignment ${align} is not a positive integer`);
  const name = (i: number) => o.labels?.[i] ?? `lifetime ${i}`;
  for (const [i, t] of items.entries()) {
    if (!(t.first <= t.last) || t.first < 0 || !(t.bytes >= 0)) throw new Error(`lifetime ${i}: first ${t.first}, last ${t.last}, ${t.bytes} bytes is not a valid interval`);
    if (t.bytes > maxBufferBytes) throw new Error(`${name(i)}: ${t.bytes} bytes cannot be placed in a shared buffer: the adapter's maxBufferSize is ${maxBufferBytes} bytes`);
  }
  const apart = new Map<number, number[]>();
  for (const [a, b] of o.apart ?? []) {
    if (a === b) continue;
    (apart.get(a) ?? apart.set(a, []).get(a)!).push(b);
    (apart.get(b) ?? apart.set(b, []).get(b)!).push(a);
  }
  const idx = items.map((_, i) => i);
  const span = (i: number) => items[i]!.last - items[i]!.first;
  const bySize = (a: number, b: number) => items[b]!.bytes - items[a]!.bytes;
  const byFirst = (a: number, b: number) => items[a]!.first - items[b]!.first;
  const orders = [
    [bySize, byFirst],
    [byFirst, bySize],
    [(a: number, b: number) => span(b) - span(a), bySize, byFirst],
  ].map((keys) => [...idx].sort((a, b) => keys.reduce((c, k) => c || k(a, b), 0) || a - b));
  let best: Omit<OffsetPlacement, 'maxLive'> | undefined;
  for (const order of orders) {
    const p = placeInOrder(items, order, align, maxBufferBytes, apart);
    if (!best || p.total < best.total) best = p;
  }
  return { ...best!, maxLive: maxLiveBytes(items) };
}

/** placeOffsets' greedy over one order of the lifetimes. */
function placeInOrder(items: readonly Lifetime[], order: readonly number[], align: number, maxBufferBytes: number, apart: Map<number, number[]>): Omit<OffsetPlacement, 'maxLive'> {
  const up = (n: number) => Math.ceil(n / align) * align;
  const buffer = new Array<number>(items.length).fill(-1);
  const offset = new Array<number>(items.length).fill(0);
  const bufferBytes: number[] = [];
  /** Each buffer's tenants placed so far (input indices). */
  const tenants: number[][] = [];
  for (const i of order) {
    const t = items[i]!;
    const banned = new Set((apart.get(i) ?? []).map((j) => buffer[j]!));
    let best = { buf: -1, at: 0, growth: Infinity, gap: Infinity };
    for (let s = 0; s < bufferBytes.length; s++) {
      if (banned.has(s)) continue;
      // tenants live with t, by offset: t goes in the smallest gap between them that holds it, else past them all
      const live = tenants[s]!.filter((j) => items[j]!.first <= t.last && t.first <= items[j]!.last).sort((a, b) => offset[a]! - offset[b]!);
      let cursor = 0;
      let at = -1;
      let gap = Infinity;
      for (const j of live) {
        const g = offset[j]! - cursor;
        if (g >= t.bytes && g < gap) [at, gap] = [cursor, g];
        cursor = Math.max(cursor, up(offset[j]! + items[j]!.bytes));
      }
      if (at < 0) at = cursor;
      if (at + t.bytes > maxBufferBytes) continue;
      const growth = Math.max(0, at + t.bytes - bufferBytes[s]!);
      if (growth < best.growth || (growth === best.growth && gap < best.gap)) best = { buf: s, at, growth, gap };
    }
    if (best.buf < 0) {
      best = { buf: bufferBytes.length, at: 0, growth: t.bytes, gap: Infinity };
      bufferBytes.push(0);
      tenants.push([]);
    }
    buffer[i] = best.buf;
    offset[i] = best.at;
    tenants[best.buf]!.push(i);
    bufferBytes[best.buf] = Math.max(bufferBytes[best.buf]!, best.at + t.bytes);
  }
  return { buffer, offset, bufferBytes, total: bufferBytes.reduce((x, y) => x + y, 0) };
}

