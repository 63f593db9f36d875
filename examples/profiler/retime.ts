// "Re-time only" of a kernel edit, the words and figures (no GPU, no DOM: unit-tested in Node): the edited
// kernel's dispatches of the last run replayed with the previous source and the edit, interleaved over a few
// rounds (EditChecker's `retime`), summed up per dispatch and in total as before → after with the spread, in
// the page's wording ("the ranges overlap: no change beyond the run-to-run spread").
import { median } from '../../src/profiler.js'; // 'tessera/profiler'

/** One replayed dispatch's times (ms), one per round for each source; `where` is its stage in the run. */
export interface DispatchTiming {
  kernel: string;
  layer: string;
  where?: string;
  before: number[];
  after: number[];
}

/** A time and its spread: median (ms), min and max (ms) over `repeats` rounds or repeats. */
export interface Timed {
  ms: number;
  lo: number;
  hi: number;
  repeats: number;
}

/** Median, min and max of `xs` (ms). Throws on an empty list. */
export function spread(xs: readonly number[]): Timed {
  if (!xs.length) throw new Error('spread: no samples');
  return { ms: median(xs), lo: Math.min(...xs), hi: Math.max(...xs), repeats: xs.length };
}

/**
 * Whether `a` (after) differs from `b` (before) beyond their spread: the ranges overlap (no change beyond the
 * run-to-run spread), or faster/slower by the medians' difference. With one repeat there is no spread: no verdict.
 */
export function spreadVerdict(b: Timed, a: Timed): string {
  if (Math.min(a.repeats, b.repeats) < 2) return 'one timed repeat: no spread to tell a change from run-to-run noise (repeats=5 in the address times 5)';
  if (a.lo <= b.hi && b.lo <= a.hi) return 'the ranges overlap: no change beyond the run-to-run spread';
  const pct = ((a.ms - b.ms) / b.ms) * 100;
  return `${pct < 0 ? 'faster' : 'slower'} by ${Math.abs(pct).toFixed(1)} % (ranges do not overlap)`;
}

/**
 * What a re-time found: each dispatch's and the total's before → after. The total's `ms` is the sum of the
 * dispatches' medians (the per-kernel table's figure); its `lo`–`hi` are the lowest and highest round total (each
 * round's sum over the dispatches), the spread the verdict reads.
 */
export interface RetimeSummary {
  dispatches: { kernel: string; layer: string; where?: string; before: Timed; after: Timed }[];
  total: { before: Timed; after: Timed };
  /** after / before of each round's totals (interleaved rounds share the load they ran under). */
  ratio: Timed;
  verdict: string;
  /** The after range lies wholly above the before range (a slower edit, shown out of the "ok" green). */
  slower: boolean;
}

/**
 * Sums up replayed timings. Every dispatch must have the same number of rounds (≥ 1) for both sources.
 * @throws Error naming the dispatch when its rounds differ, or when there is no dispatch.
 */
export function retimeSummary(ts: readonly DispatchTiming[]): RetimeSummary {
  if (!ts.length) throw new Error('retimeSummary: no replayed dispatch');
  const rounds = ts[0]!.before.length;
  for (const t of ts) {
    if (t.before.length !== rounds || t.after.length !== rounds || !rounds) throw new Error(`retimeSummary: ${t.kernel} (${t.layer}) has ${t.before.length} before and ${t.after.length} after rounds, expected ${rounds} of each`);
  }
  const perRound = (w: 'before' | 'after') => Array.from({ length: rounds }, (_, r) => ts.reduce((a, t) => a + t[w][r]!, 0));
  const b = perRound('before');
  const a = perRound('after');
  // The headline is the sum of the dispatches' medians, not the median of the round totals: one slow outlier in
  // any dispatch inflates its whole round's total, and with 9 dispatches over 5 rounds a few such outliers moved
  // the median total. Session 23's review: a comment-only edit of norm read 0.841 → 1.328 ms and 1.258 → 2.033 ms
  // on its first re-time while the sums of medians were 1.235 → 1.186. The range stays the round totals' (the verdict's spread).
  const sumOfMedians = (w: 'before' | 'after') => ts.reduce((acc, t) => acc + median(t[w]), 0);
  const total = { before: { ...spread(b), ms: sumOfMedians('before') }, after: { ...spread(a), ms: sumOfMedians('after') } };
  // rounds whose before total read 0 (coarse timestamps) give no ratio
  const ratios = a.map((x, r) => x / b[r]!).filter((x, r) => b[r]! > 0 && Number.isFinite(x));
  const ratio = ratios.length ? spread(ratios) : { ms: NaN, lo: NaN, hi: NaN, repeats: 0 };
  return {
    dispatches: ts.map((t) => ({ kernel: t.kernel, layer: t.layer, ...(t.where ? { where: t.where } : {}), before: spread(t.before), after: spread(t.after) })),
    total,
    ratio,
    verdict: spreadVerdict(total.before, total.after),
    slower: rounds >= 2 && total.after.lo > total.before.hi,
  };
}

const ms = (t: Timed) => `${t.ms.toFixed(3)} ms (${t.lo.toFixed(3)}–${t.hi.toFixed(3)})`;
/** A total: the sum of the dispatch medians, then the range of the round totals (named: the sum may lie outside it). */
const total = (t: Timed) => `${t.ms.toFixed(3)} ms (round totals ${t.lo.toFixed(3)}–${t.hi.toFixed(3)})`;

/** Per-dispatch lines shown at most (the slowest before; the rest counted). */
export const RETIME_LINES = 12;

/**
 * The re-time's log in the page's words: that the clip was not re-rendered, how it was timed, the total
 * before → after with its spread and verdict, then each dispatch (the RETIME_LINES slowest, in run order).
 * `runs`: the run whose dispatches were replayed; `timing`: GPU timestamps, or the wall clock (said so).
 */
export function retimeText(name: string, s: RetimeSummary, o: { run: number; timing: 'gpu-timestamps' | 'wall-clock'; why?: string }): string[] {
  const n = s.dispatches.length;
  const rounds = s.total.before.repeats;
  const how =
    o.timing === 'gpu-timestamps'
      ? 'GPU timestamps, each dispatch in its own pass'
      : `wall clock, each dispatch submitted alone and awaited (overhead included${o.why ? `; ${o.why}` : ''})`;
  const r = s.ratio;
  const ratio = Number.isFinite(r.ms) ? `; after/before per round ${r.ms.toFixed(3)} (${r.lo.toFixed(3)}–${r.hi.toFixed(3)})` : '';
  const shown = new Set([...s.dispatches.keys()].sort((i, j) => s.dispatches[j]!.before.ms - s.dispatches[i]!.before.ms).slice(0, RETIME_LINES));
  const lines = s.dispatches.flatMap((d, i) =>
    shown.has(i) ? [`  #${i + 1} ${d.kernel}${d.layer ? ` (${d.layer})` : ''}${d.where ? `, ${d.where}` : ''}: before ${ms(d.before)} → after ${ms(d.after)}; ${spreadVerdict(d.before, d.after)}`] : [],
  );
  return [
    `re-timed only — the clip was NOT re-rendered: run ${o.run}'s ${n} dispatch${n === 1 ? '' : 'es'} of ${name} replayed on their recorded inputs with the previous source and the edit, interleaved over ${rounds} round${rounds === 1 ? '' : 's'} (${how}). ` +
      `A total is the sum of the dispatches' medians (one slow outlier does not move it); its round totals are each round's sum over the dispatches, lowest–highest.`,
    `${name}, its ${n} dispatch${n === 1 ? '' : 'es'} in total: before ${total(s.total.before)} → after ${total(s.total.after)} over ${rounds} round${rounds === 1 ? '' : 's'}; ${s.verdict}${ratio}`,
    ...lines,
    ...(n > shown.size ? [`  … and ${n - shown.size} more (the ${shown.size} slowest before are listed)`] : []),
  ];
}

/**
 * Why a re-time cannot run, in one line (null: it can): there is no completed run to replay, or the run has no
 * dispatch of kernel `name`. `run`: the last completed run's number (0: none); `dispatches`: its dispatches of `name`.
 */
export function retimeRefusal(name: string, o: { run: number; dispatches: number }): string | null {
  if (!o.run) return `Not re-timed: there is no run to replay yet; generate a clip first (or "Recompile & re-time", which the next run uses). Nothing was compiled.`;
  if (!o.dispatches) return `Not re-timed: run ${o.run} has no dispatch of ${name} to replay; "Recompile & re-time" compiles it and re-runs the clip. Nothing was compiled.`;
  return null;
}
