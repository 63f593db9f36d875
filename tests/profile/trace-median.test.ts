// chromeTrace's options for a trace that agrees with the tables (the profiler page's): layout 'median' draws each
// dispatch's median as dur, end to end (the default draws one repeat's stamps, which differ from the medians the
// tables give: session 17's review found an adaln bar of 9.45 ms beside its 0.084 ms median); wallClockEvent
// 'track' names a wall-clock run's one event by its track (a pipeline's stages are not steps); displayTimeUnit.
import { describe, expect, it } from 'vitest';
import { chromeTrace, type ProfiledDispatch, type ProfileRun } from '../../src/profiler.js';

const d = (kernel: string, samples: number[], ms: number | null, startMs: number | null, runMs: number | null): ProfiledDispatch =>
  ({ kernel, family: kernel, layer: 'l', shapes: '', flops: 0, bytes: 0, workgroups: [1, 1, 1], ms, startMs, runMs, samples });
const base = { adapter: 'test', warmup: 0, wallMs: [1], dropped: 0, peakBytes: 0, residentBytes: 0, date: '2026-01-01T00:00:00Z' };
const xs = (t: ReturnType<typeof chromeTrace>) => t.traceEvents.filter((e) => e.ph === 'X');

describe('chromeTrace layout and names', () => {
  // the representative repeat (2 of 3) has a slow 'a': 9 ms against its 0.5 ms median
  const run: ProfileRun = { ...base, timing: 'gpu-timestamps', repeats: 3, traceRepeat: 1, totalMs: 2, stepMs: [1.5, 10, 1.6], dispatches: [d('a', [0.5, 9, 0.4], 0.5, 0, 9), d('b', [1, 1, 1.2], 1, 9.5, 1), d('c', [], null, null, null)] };

  it("'repeat' (default): one repeat's stamps; 'median': the medians end to end, said in args.shown", () => {
    expect(xs(chromeTrace(run)).map((e) => [e.name, e.ts, e.dur])).toEqual([['a', 0, 9000], ['b', 9500, 1000]]);
    const m = xs(chromeTrace(run, { layout: 'median' }));
    expect(m.map((e) => [e.name, e.ts, e.dur])).toEqual([['a', 0, 500], ['b', 500, 1000]]);
    expect(m[0]!.args!.shown).toBe("dur is this dispatch's median over 3 repeats (median_ms), as the tables show; dispatches laid end to end (gaps between passes removed), so ts is the sum of the medians before it");
    expect(m[0]!.args!.median_ms).toBe(0.5);
  });

  it("wallClockEvent 'track' names a wall-clock run's event by its track; displayTimeUnit as asked (by default 'ms' from a 1 ms timeline on, else 'ns')", () => {
    const wall: ProfileRun = { ...base, timing: 'wall-clock', repeats: 1, totalMs: 12.5, stepMs: [12.5], dispatches: [d('a', [], null, null, null)] };
    const named = [{ name: 'text encoder (UMT5EncoderModel)', run: wall }, { name: 'VAE decode', run: wall }];
    expect(xs(chromeTrace(named, { wallClockEvent: 'track' })).map((e) => e.name)).toEqual(['text encoder (UMT5EncoderModel) (wall clock)', 'VAE decode (wall clock)']);
    expect(xs(chromeTrace(named)).map((e) => e.name)).toEqual(['step (wall clock)', 'step (wall clock)']);
    // run spans 10.5 ms: a step read in ms (session 23 bench review #8: a 309 ms step was shown in ns)
    expect(chromeTrace(run).displayTimeUnit).toBe('ms');
    expect(chromeTrace(run, { displayTimeUnit: 'ns' }).displayTimeUnit).toBe('ns');
    const short: ProfileRun = { ...run, traceRepeat: 0, dispatches: [d('a', [0.5], 0.5, 0, 0.5), d('b', [0.4], 0.4, 0.5, 0.4)] };
    expect(chromeTrace(short).displayTimeUnit, '0.9 ms: ns').toBe('ns');
    expect(chromeTrace(short, { displayTimeUnit: 'ms' }).displayTimeUnit).toBe('ms');
  });
});
