// What a Chrome trace's figures say (session 23 bench review #6, #8): ts and dur are µs rounded to the ns (no float
// noise such as 559.4259999999999), otherData.runs names the step median and the sum of dispatch medians apart (one
// `total_ms` held the first while the tracks drew the second), peak_bytes means what it means in bench --json
// (weights + activations) with both parts beside it, and a run with a `group` (the prompt run's replayed step) gets a
// timeline of its own instead of being laid end to end with the loop's steps.
import { describe, expect, it } from 'vitest';
import { summarize, type ProfiledDispatch, type ProfileRun } from '../../src/profile/profiler.js';
import { chromeTrace, type TraceEvent, type TraceRunData } from '../../src/profile/report.js';
import { REPLAYED_STEP_GROUP, stageRuns, type StageProfile } from '../../src/profile/pipeline.js';

const dispatch = (kernel: string): ProfiledDispatch => ({ kernel, family: kernel, layer: 'l', shapes: '', flops: 1e6, bytes: 1, workgroups: [1, 1, 1], ms: null, startMs: null, runMs: null, samples: [] });
const base = { adapter: 'test adapter', warmup: 0, wallMs: [1], peakBytes: 0, residentBytes: 0, date: '2026-01-01T00:00:00Z' };
const xs = (t: { traceEvents: TraceEvent[] }) => t.traceEvents.filter((e) => e.ph === 'X');
const runsOf = (t: ReturnType<typeof chromeTrace>) => t.otherData.runs as TraceRunData[];
/** A run of two dispatches over 3 repeats, stamps in ns: the medians sum to less than the median of the sums. */
function timed(extra: Partial<ProfileRun> = {}): ProfileRun {
  const T = 1_000_000_000n;
  // a: 100.1, 300.3, 100.1 µs; b: 200.2, 100.1, 200.2 µs → step sums 300.3, 400.4, 300.3
  const rep = (a: bigint, b: bigint): [bigint, bigint][] => [[T, T + a], [T + a + 1000n, T + a + 1000n + b]];
  const s = summarize([dispatch('a'), dispatch('b')], [rep(100_100n, 200_200n), rep(300_300n, 100_100n), rep(100_100n, 200_200n)]);
  return { ...s, ...base, repeats: 3, ...extra };
}

describe('trace figures', () => {
  it('ts, dur and the ms figures are rounded to the ns: no float noise', () => {
    // 0.1 + 0.2 ms style sums: each dispatch 0.1001 ms, laid end to end by medians
    const ds = Array.from({ length: 7 }, (_, i) => dispatch(`k${i}`));
    const T = 5_000_000_000n;
    const s = summarize(ds, [ds.map((_, i): [bigint, bigint] => [T + BigInt(i) * 100_100n, T + BigInt(i + 1) * 100_100n])]);
    const run: ProfileRun = { ...s, ...base, repeats: 1 };
    for (const layout of ['repeat', 'median'] as const) {
      const t = chromeTrace([{ name: 'one', run }, { name: 'two', run }], { layout });
      for (const e of xs(t)) {
        for (const v of [e.ts, e.dur!]) expect(Math.round(v * 1000) / 1000, `${layout} ${e.name} ${v}`).toBe(v);
        // no more than 3 decimals as JSON writes them
        expect(JSON.stringify([e.ts, e.dur])).not.toMatch(/\.\d{4,}/);
        for (const k of ['median_ms', 'this_run_ms'] as const) expect(String(e.args[k])).not.toMatch(/\.\d{7,}/);
      }
      expect(xs(t).map((e) => e.ts).slice(0, 3)).toEqual([0, 100.1, 200.2]);
      expect(xs(t).filter((e) => e.tid === 2)[0]!.ts, 'the second run 10 µs after 700.7').toBe(710.7);
    }
  });

  it('otherData.runs: step median, sum of dispatch medians and drawn span under their own names', () => {
    const run = timed();
    expect(run.totalMs).toBeCloseTo(0.3003, 9); // median of the sums 0.3003, 0.4004, 0.3003
    const median = runsOf(chromeTrace([{ name: 's', run }], { layout: 'median' }))[0]!;
    expect(median).not.toHaveProperty('total_ms');
    expect(median.step_median_ms).toBe(0.3003);
    expect(median.dispatch_medians_sum_ms).toBe(0.3003); // a 0.1001 + b 0.2002
    expect(median.track_ms, "layout 'median' draws the medians' sum").toBe(median.dispatch_medians_sum_ms);
    // a run whose medians sum below its step median: the two names differ, as they should
    const skew = timed();
    skew.totalMs = 0.35;
    const r = runsOf(chromeTrace([{ name: 's', run: skew }], { layout: 'median' }))[0]!;
    expect([r.step_median_ms, r.dispatch_medians_sum_ms, r.track_ms]).toEqual([0.35, 0.3003, 0.3003]);
    const wall: ProfileRun = { ...base, repeats: 1, timing: 'wall-clock', dispatches: [dispatch('a')], totalMs: 12.5, stepMs: [12.5], dropped: 0 };
    const w = runsOf(chromeTrace([{ name: 'w', run: wall }]))[0]!;
    expect([w.step_median_ms, w.dispatch_medians_sum_ms, w.track_ms]).toEqual([12.5, null, 12.5]);
    expect(chromeTrace(run).otherData.units).toMatch(/^ts and dur in µs/);
  });

  it('peak_bytes is weights + activations (as bench --json), with resident_bytes and peak_activation_bytes apart', () => {
    const run = timed({ peakBytes: 11_418_240, residentBytes: 1_399_680 });
    const r = runsOf(chromeTrace(run))[0]!;
    expect([r.peak_bytes, r.resident_bytes, r.peak_activation_bytes]).toEqual([11_418_240, 1_399_680, 10_018_560]);
  });

  it('a grouped run gets its own process and clock; the main timeline is not lengthened by it', () => {
    const run = timed();
    const t = chromeTrace([{ name: 'encode', run }, { name: 'replayed step', run, group: 'replay' }, { name: 'step 1', run }]);
    const procs = t.traceEvents.filter((e) => e.name === 'process_name').map((e) => [e.pid, e.args.name]);
    expect(procs).toEqual([[1, 'GPU: test adapter'], [2, 'replay']]);
    const x = xs(t);
    const byTrack = (tid: number) => x.filter((e) => e.tid === tid);
    expect(byTrack(2).every((e) => e.pid === 2)).toBe(true);
    expect(byTrack(2)[0]!.ts, 'the replay from its own 0').toBe(0);
    const end1 = Math.max(...byTrack(1).map((e) => e.ts + e.dur!));
    expect(byTrack(3)[0]!.ts, 'step 1 right after encode, not after the replay').toBe(Math.round((end1 + 10) * 1000) / 1000);
    expect(runsOf(t).map((r) => r.group ?? null)).toEqual([null, 'replay', null]);
  });

  it('stageRuns: with the loop\'s own steps, the replayed step goes on its own timeline; without them it stands for the loop', () => {
    const run = timed();
    const stage = (s: StageProfile['stage'], name: string, stepRuns?: ProfileRun[]): StageProfile => ({ stage: s, name, wallMs: 1, profileMs: 1, run, covers: '', ...(stepRuns ? { stepRuns } : {}) });
    const withSteps = stageRuns([stage('text_encoder', 'te'), stage('transformer', 'tr', [run, run]), stage('vae', 'vae')]);
    expect(withSteps.map((r) => [r.name, r.group ?? null])).toEqual([['te', null], ['tr', REPLAYED_STEP_GROUP], ['denoising step 1/2', null], ['denoising step 2/2', null], ['vae', null]]);
    const t = chromeTrace(withSteps, { layout: 'median' });
    const main = xs(t).filter((e) => e.pid === 1);
    // the main timeline: 4 runs of 0.3003 ms end to end with 10 µs gaps, the replay not among them
    expect(Math.max(...main.map((e) => e.ts + e.dur!))).toBe(4 * 300.3 + 3 * 10);
    expect(stageRuns([stage('transformer', 'tr'), stage('vae', 'vae')]).map((r) => r.group ?? null)).toEqual([null, null]);
  });
});
