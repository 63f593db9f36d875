// user22 #7: `bench ceiling` printed one figure per roof; four runs within 3 minutes on the loaded 2-core host gave
// f32 FMA 6.2, 48, 36 and 73 GFLOP/s. Each roof is still its best repeat (a ceiling is an upper bound); the spread of
// its repeats (min, median, max) comes with it, and one line says when it is wide (the device is busy).
import { describe, expect, it } from 'vitest';
import { ceilingSpreadNote, roofSpread, wideSpread, WIDE_SPREAD, WIDE_SPREAD_WORDS, type CeilingSpread } from '../../src/profile/ceiling.js';

describe('roofSpread: repeat times to rates', () => {
  it('min, median and max of work / ms, the max from the fastest repeat', () => {
    // 1e9 FLOPs in 10, 20, 40, 50 ms: 100, 50, 25, 20 GFLOP/s
    expect(roofSpread(1e9, [20, 10, 50, 40])).toEqual({ min: 20, median: 37.5, max: 100, repeats: 4 });
    expect(roofSpread(1e9, [20, 10, 40])).toEqual({ min: 25, median: 50, max: 100, repeats: 3 });
  });
  it('skips zero, negative and non-finite times; none left: undefined', () => {
    expect(roofSpread(1e9, [0, -1, NaN, Infinity, 10])).toEqual({ min: 100, median: 100, max: 100, repeats: 1 });
    expect(roofSpread(1e9, [0, NaN])).toBeUndefined();
  });
});

describe('wideSpread and ceilingSpreadNote', () => {
  const r = (min: number, max: number, repeats = 5) => ({ min, median: (min + max) / 2, max, repeats });
  it('quiet: every roof within WIDE_SPREAD: no line', () => {
    const s: CeilingSpread = { fma: r(40, 40 * WIDE_SPREAD), copy: r(10, 11) };
    expect(wideSpread(s)).toBeUndefined();
    expect(ceilingSpreadNote(s)).toBeUndefined();
    expect(ceilingSpreadNote(undefined)).toBeUndefined();
  });
  it('busy: every wide roof named with its ratio, widest first (session 23: only the widest was), and why the shares are unreliable', () => {
    const s: CeilingSpread = { fma: r(6.17, 73.09), fma_f16: r(5, 9), copy: r(5.8, 12.35) };
    expect(wideSpread(s)).toEqual({ roof: 'f32 FMA', ratio: 73.09 / 6.17 });
    expect(ceilingSpreadNote(s)).toBe(`spread: f32 FMA's fastest repeat is 11.8× its slowest, copy's 2.1×, f16 FMA's 1.8× (each above ${WIDE_SPREAD}×): ${WIDE_SPREAD_WORDS}`);
    // the review's run 1: copy 11.7× and f32 FMA 2.7× (26–72)
    expect(ceilingSpreadNote({ fma: r(26.5, 71.7), copy: r(1.05, 12.3) })).toBe(`spread: copy's fastest repeat is 11.7× its slowest, f32 FMA's 2.7× (each above ${WIDE_SPREAD}×): ${WIDE_SPREAD_WORDS}`);
    expect(ceilingSpreadNote({ fma: r(26.5, 71.7), copy: r(10, 12) })).toBe(`spread: f32 FMA's fastest repeat is 2.7× its slowest (above ${WIDE_SPREAD}×): ${WIDE_SPREAD_WORDS}`);
    expect(WIDE_SPREAD_WORDS).toMatch(/device is busy.*unreliable/);
  });
  it('a roof of one repeat has no spread to read', () => {
    expect(wideSpread({ fma: r(1, 100, 1), copy: r(1, 1.2, 2) })).toBeUndefined();
    expect(wideSpread({ fma: r(1, 1, 1), copy: r(1, 3, 2) })).toEqual({ roof: 'copy', ratio: 3 });
  });
});
