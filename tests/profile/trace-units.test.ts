// Chrome trace units: the Trace Event Format takes ts and dur in microseconds (displayTimeUnit
// only changes how the viewer prints them). From GPU timestamps of known nanoseconds, each
// dispatch's ts is its start relative to the first dispatch in ns / 1000 and its dur is its
// length in ns / 1000; the wall-clock event's dur is the step time in ms × 1000. In ms the
// events would overlap in Perfetto (each 1000× longer than the spacing of the starts).
import { describe, expect, it } from 'vitest';
import { summarize, type ProfiledDispatch, type ProfileRun } from '../../src/profile/profiler.js';
import { chromeTrace, type TraceEvent } from '../../src/profile/report.js';

const dispatch = (kernel: string): ProfiledDispatch => ({ kernel, family: kernel, layer: 'blocks.0', shapes: 'x[1]', flops: 1, bytes: 1, workgroups: [1, 1, 1], ms: null, startMs: null, runMs: null, samples: [] });
const base = { adapter: 'test adapter', repeats: 1, warmup: 0, wallMs: [1], peakBytes: 0, residentBytes: 0, date: '2024-01-01T00:00:00.000Z' };
const xEvents = (t: { traceEvents: TraceEvent[] }) => t.traceEvents.filter((e) => e.ph === 'X');

describe('Chrome trace ts and dur are microseconds', () => {
  it('GPU timestamps: ts = start − first start in ns / 1000, dur = ns / 1000', () => {
    const T = 5_000_000_000n; // ns
    // [begin, end] ns: 123 456 ns at 0; 50 000 ns at 200 000 ns; 7 ns at 1 000 000 ns
    const s = summarize([dispatch('a'), dispatch('b'), dispatch('c')], [[[T, T + 123_456n], [T + 200_000n, T + 250_000n], [T + 1_000_000n, T + 1_000_007n]]]);
    const run: ProfileRun = { ...s, ...base };
    const xs = xEvents(chromeTrace(run));
    expect(xs.map((e) => [e.name, e.ts, e.dur])).toEqual([['a', 0, 123.456], ['b', 200, 50], ['c', 1000, 0.007]]);
    // a second run starts 10 µs after the first one's last event ends (1000.007 µs)
    const two = xEvents(chromeTrace([{ name: 'one', run }, { name: 'two', run }]));
    expect(two.filter((e) => e.tid === 2).map((e) => e.ts)).toEqual([1010.007, 1210.007, 2010.007]);
  });

  it('wall clock: one event per run, dur = the step time in ms × 1000', () => {
    const run: ProfileRun = { ...base, timing: 'wall-clock', dispatches: [dispatch('a')], totalMs: 12.5, stepMs: [12.5], dropped: 0 };
    const xs = xEvents(chromeTrace([{ name: 'one', run }, { name: 'two', run }]));
    expect(xs.map((e) => [e.name, e.tid, e.ts, e.dur])).toEqual([['step (wall clock)', 1, 0, 12_500], ['step (wall clock)', 2, 12_510, 12_500]]);
  });
});
