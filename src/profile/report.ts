// Reports over a ProfileRun: per-kernel and per-layer tables (rows and text), Chrome trace JSON
// (opens in Perfetto / chrome://tracing) and one machine-readable JSON object.
// Browser-safe: no Node imports (writing files is the caller's business).
import { fmtBytes } from '../gpu/tensor.js';
import { ceilingShares, formatCeiling, formatShare, UNDER_MEASURED, type Ceiling } from './ceiling.js';
import { median, type ProfiledDispatch, type ProfileRun } from './profiler.js';
import { checkTraceRuns } from './args.js';

/** The timing figures every `tessera bench` JSON result carries (GPU timestamps, medians over repeats). */
export interface TimedFigures {
  /** Median step time over the repeats, ms. */
  median_ms: number;
  /** Fastest step, ms. */
  min_ms: number;
  /** Slowest step, ms. */
  max_ms: number;
  /** flops / median step, GFLOP/s. */
  gflops: number;
  /** bytes / median step, GB/s (10^9 bytes). */
  gbps: number;
  /** Share of the device ceiling: the larger of the compute and bandwidth shares (null with --no-ceiling). */
  ceiling_share: number | null;
  /** gflops over ceiling_used.fma_gflops (0..1, above 1 when the roof was under-measured). */
  compute_share: number | null;
  /** gbps over ceiling_used.copy_gbps. */
  bandwidth_share: number | null;
  /** FLOPs of one step (the sum of its dispatches' formulas). */
  flops: number;
  /** Bytes one step reads and writes (the sum of its dispatches' formulas). */
  bytes: number;
  /** Timed repeats. */
  repeats: number;
  /** Untimed runs before them. */
  warmup: number;
  /** A share above 1 even against the ceiling re-timed between the repeats: the machine was busy (printed flagged, never as a plain > 100 %). */
  ceiling_under_measured: boolean;
  /**
   * The roofs the shares above are of (GFLOP/s f32 FMA, GB/s copy): for a benchmark, the best of the
   * ceiling measured first and the ceiling kernels re-timed between its repeats, so it can be above
   * a suite's top-level `ceiling`; null with --no-ceiling.
   */
  ceiling_used: { fma_gflops: number; copy_gbps: number } | null;
}

/**
 * The TimedFigures of one benchmarked plan: medians/min/max over `run.stepMs` (ms), rates of its
 * `flops` / `bytes` per median step, and their shares of `ceiling` (the f32 FMA roof whatever the
 * storage dtype: engine kernels accumulate in f32, as in kernelTable), which is recorded with them
 * (`ceiling_used`): compute_share = gflops / ceiling_used.fma_gflops.
 */
export function timedFigures(run: ProfileRun, work: { flops: number; bytes: number }, ceiling: Ceiling | undefined): TimedFigures {
  const med = median(run.stepMs);
  const gflops = work.flops / (med * 1e6);
  const gbps = work.bytes / (med * 1e6);
  const sh = ceilingShares(ceiling, gflops, gbps, false);
  return {
    median_ms: med,
    min_ms: Math.min(...run.stepMs),
    max_ms: Math.max(...run.stepMs),
    gflops,
    gbps,
    ceiling_share: sh.share,
    ceiling_under_measured: sh.underMeasured,
    ceiling_used: ceiling ? { fma_gflops: ceiling.fma_gflops, copy_gbps: ceiling.copy_gbps } : null,
    compute_share: sh.compute,
    bandwidth_share: sh.bandwidth,
    flops: work.flops,
    bytes: work.bytes,
    repeats: run.repeats,
    warmup: run.warmup,
  };
}

/** One row of kernelTable: a kernel variant's dispatches in one step, summed. */
export interface KernelRow {
  /** The variant key, e.g. `attention[F16]{BQ=16}`. */
  kernel: string;
  /** The kernel family (file) name. */
  family: string;
  /** Dispatches of it in the step. */
  calls: number;
  /** Sum of median per-dispatch times (ms); null under wall-clock timing. */
  totalMs: number | null;
  /** totalMs over the timed calls. */
  meanMs: number | null;
  /**
   * Share (0..1) of the summed per-dispatch medians of the run (the sum of every row's totalMs; the
   * tables' '% sum' column), not of the step's median (ProfileRun.totalMs, a median of per-repeat sums):
   * the shares add up to 1. Null under wall-clock timing.
   */
  stepShare: number | null;
  /** The tuned strategy its dispatches run (Dispatch.choice, e.g. `tiled-128`; several joined by ', '); absent for kernels without alternatives. */
  choice?: string;
  /** FLOPs of its timed calls (of all of them when none is timed), so that the rates count only timed work. */
  flops: number;
  /** Bytes its timed calls read and write (as flops). */
  bytes: number;
  /** flops / totalMs, GFLOP/s; null under wall-clock timing. */
  gflops: number | null;
  /** bytes / totalMs, GB/s; null under wall-clock timing. */
  gbps: number | null;
  /** GFLOP/s over the f32 FMA ceiling (F16 engine kernels store f16 but compute in f32; only the
   *  f16 ceiling kernel itself is held to the f16 roof). */
  computeShare: number | null;
  /** GB/s over the copy ceiling. */
  bandwidthShare: number | null;
  /** The larger of the two: how close the kernel is to its binding roof. */
  ceilingShare: number | null;
}

/** One row of layerTable: the dispatches of one layer (its label cut to `depth` dotted parts), summed. */
export interface LayerRow {
  /** The layer label, e.g. `blocks.3.attn1`. */
  layer: string;
  /** Dispatches in it. */
  calls: number;
  /** Sum of their median times, ms; null under wall-clock timing. */
  totalMs: number | null;
  /** Share (0..1) of the summed per-dispatch medians of the run, as KernelRow.stepShare (the '% sum' column). */
  stepShare: number | null;
  /** FLOPs of its timed dispatches (as KernelRow.flops). */
  flops: number;
  /** Bytes its timed dispatches read and write. */
  bytes: number;
  /** flops / totalMs, GFLOP/s; null under wall-clock timing. */
  gflops: number | null;
  /** Kernels in this layer, most expensive first. */
  kernels: string[];
}

const isF16 = (kernel: string): boolean => /\[(?:[^\]]*,)?F16(?:,[^\]]*)?\]/.test(kernel);

/** GFLOP/s from FLOPs and milliseconds (1 GFLOP/s = 1e6 FLOP/ms). */
export const gflopsOf = (flops: number, ms: number): number => flops / (ms * 1e6);
/** GB/s (1e9 bytes/s) from bytes and milliseconds. */
export const gbpsOf = (bytes: number, ms: number): number => bytes / (ms * 1e6);

function stepGpuMs(run: ProfileRun): number | null {
  if (run.timing !== 'gpu-timestamps') return null;
  return run.dispatches.reduce((a, d) => a + (d.ms ?? 0), 0);
}

function group<K extends string>(ds: readonly ProfiledDispatch[], key: (d: ProfiledDispatch) => K): Map<K, ProfiledDispatch[]> {
  const m = new Map<K, ProfiledDispatch[]>();
  for (const d of ds) {
    const k = key(d);
    const g = m.get(k);
    if (g) g.push(d);
    else m.set(k, [d]);
  }
  return m;
}

/** Sum of times of timed dispatches; null if none is timed. */
function sumMs(ds: readonly ProfiledDispatch[]): { ms: number | null; flops: number; bytes: number } {
  let ms: number | null = null;
  let flops = 0;
  let bytes = 0;
  // FLOPs and bytes of timed dispatches only, so rates are not inflated by untimed ones.
  for (const d of ds) {
    if (d.ms === null) continue;
    ms = (ms ?? 0) + d.ms;
    flops += d.flops;
    bytes += d.bytes;
  }
  if (ms === null) for (const d of ds) (flops += d.flops), (bytes += d.bytes);
  return { ms, flops, bytes };
}

/** One row per kernel variant, most expensive first. */
export function kernelTable(run: ProfileRun, ceiling?: Ceiling): KernelRow[] {
  const step = stepGpuMs(run);
  const rows: KernelRow[] = [];
  for (const [kernel, ds] of group(run.dispatches, (d) => d.kernel)) {
    const { ms, flops, bytes } = sumMs(ds);
    const gflops = ms && ms > 0 ? gflopsOf(flops, ms) : null;
    const gbps = ms && ms > 0 ? gbpsOf(bytes, ms) : null;
    // engine kernels accumulate in f32 whatever they store: the f32 roof applies to them
    const sh = ceilingShares(ceiling, gflops ?? NaN, gbps ?? NaN, isF16(kernel) && ds[0]!.family === 'ceiling');
    const choices = [...new Set(ds.flatMap((d) => (d.choice === undefined ? [] : [d.choice])))];
    rows.push({
      kernel,
      family: ds[0]!.family,
      calls: ds.length,
      totalMs: ms,
      meanMs: ms === null ? null : ms / ds.filter((d) => d.ms !== null).length,
      stepShare: ms !== null && step ? ms / step : null,
      ...(choices.length ? { choice: choices.join(', ') } : {}),
      flops,
      bytes,
      gflops,
      gbps,
      computeShare: sh.compute,
      bandwidthShare: sh.bandwidth,
      ceilingShare: sh.share,
    });
  }
  return rows.sort((a, b) => (b.totalMs ?? 0) - (a.totalMs ?? 0) || b.flops - a.flops);
}

/**
 * One row per layer, in first-dispatch order. `depth` keeps only the first `depth` dot-separated
 * parts of layer names (e.g. depth 2: `blocks.3.attn1` → `blocks.3`); 0 keeps whole names.
 */
export function layerTable(run: ProfileRun, depth = 0): LayerRow[] {
  const step = stepGpuMs(run);
  const name = (d: ProfiledDispatch) => {
    const l = d.layer || '(no layer)';
    return depth > 0 ? l.split('.').slice(0, depth).join('.') : l;
  };
  const rows: LayerRow[] = [];
  for (const [layer, ds] of group(run.dispatches, name)) {
    const { ms, flops, bytes } = sumMs(ds);
    const byKernel = [...group(ds, (d) => d.kernel)].map(([k, g]) => [k, g.reduce((a, d) => a + (d.ms ?? 0), 0)] as const);
    rows.push({
      layer,
      calls: ds.length,
      totalMs: ms,
      stepShare: ms !== null && step ? ms / step : null,
      flops,
      bytes,
      gflops: ms && ms > 0 ? gflopsOf(flops, ms) : null,
      kernels: byKernel.sort((a, b) => b[1] - a[1]).map(([k]) => k),
    });
  }
  return rows;
}

const f = (v: number | null, digits = 3): string => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(digits));
const pct = (v: number | null): string => (v === null || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(1)}%`);

function table(head: string[], rows: string[][], leftCols = 1): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < leftCols ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

/** The share column's default header: a row's share of the summed per-dispatch medians (KernelRow.stepShare). */
const SUM_SHARE = '% sum';

/** How formatKernelTable labels and trims its columns. */
export interface KernelTableFormat {
  /**
   * Header of the share column (KernelRow.stepShare: each row's share of the rows' summed per-dispatch
   * medians, which is not the step's median time): '% sum' (default), or a name for what those rows
   * cover, e.g. '% stage' (a whole encode or decode), '% total' (several stages together).
   */
  shareLabel?: string;
  /** Print the `% FMA  % BW  % ceiling` columns (default true); false drops them, e.g. when no ceiling was measured (they would all read '—'). */
  ceilingColumns?: boolean;
}

/** The kernel table; a share above 100 % is starred and a footnote says the ceiling was under-measured. */
export function formatKernelTable(rows: readonly KernelRow[], opts: KernelTableFormat = {}): string {
  const s = (v: number | null) => formatShare(v, true);
  const withCeiling = opts.ceilingColumns ?? true;
  const head = ['kernel', 'calls', 'total ms', 'mean ms', opts.shareLabel ?? SUM_SHARE, 'GFLOP/s', 'GB/s', ...(withCeiling ? ['% FMA', '% BW', '% ceiling'] : [])];
  const t = table(
    head,
    rows.map((r) => [r.kernel, String(r.calls), f(r.totalMs), f(r.meanMs), pct(r.stepShare), f(r.gflops, 2), f(r.gbps, 2), ...(withCeiling ? [s(r.computeShare), s(r.bandwidthShare), s(r.ceilingShare)] : [])]),
  );
  return withCeiling && rows.some((r) => (r.ceilingShare ?? 0) > 1) ? `${t}\n* above 100 %: ${UNDER_MEASURED}` : t;
}

/**
 * layerTable's rows as text: a fixed-width table (a header, a rule, then one line per row in the
 * given order) with the columns `layer  calls  total ms  % sum  GFLOP/s  top kernel` (% sum: LayerRow.stepShare);
 * '—' where a figure was not measured.
 */
export function formatLayerTable(rows: readonly LayerRow[]): string {
  return table(
    ['layer', 'calls', 'total ms', SUM_SHARE, 'GFLOP/s', 'top kernel'],
    rows.map((r) => [r.layer, String(r.calls), f(r.totalMs), pct(r.stepShare), f(r.gflops, 2), r.kernels[0] ?? '']),
  );
}

/**
 * What the header's step time is, next to the kernel rows' sum: the step is the median of the
 * repeats' whole-step sums, the rows are per-dispatch medians, so the two differ when the repeats do.
 */
function stepWhat(run: ProfileRun): string {
  const rows = stepGpuMs(run) ?? 0;
  if (run.repeats <= 1) return 'sum of dispatches';
  return `median over ${run.repeats} repeats of the summed dispatch times; the kernel rows are per-dispatch medians, summing to ${f(rows)} ms: ${SUM_SHARE} is each row as a share of that`;
}

/** The whole report as text: header, per-kernel table, per-layer table (when layers differ). */
export function formatReport(run: ProfileRun, ceiling?: Ceiling, opts: { layerDepth?: number } = {}): string {
  const out = [
    `adapter   ${run.adapter}`,
    `timing    ${run.timing}${run.note ? ` (${run.note})` : ''}; ${run.repeats} repeat(s) after ${run.warmup} warm-up; medians`,
    `step      ${f(run.totalMs)} ms${run.timing === 'gpu-timestamps' ? ` GPU (${stepWhat(run)})` : ' wall'}, ${run.dispatches.length} dispatches, peak GPU memory ${fmtBytes(run.peakBytes)}${run.residentBytes ? ` (weights ${fmtBytes(run.residentBytes)} + activations ${fmtBytes(run.peakBytes - run.residentBytes)})` : ' (the plan\'s own buffers)'}`,
  ];
  if (ceiling) out.push(`ceiling   ${formatCeiling(ceiling, 1, true)}`);
  if (run.dropped) out.push(`dropped   ${run.dropped} zero/negative timestamp delta(s)`);
  out.push('', formatKernelTable(kernelTable(run, ceiling)));
  const layers = layerTable(run, opts.layerDepth ?? 0);
  if (layers.length > 1) out.push('', formatLayerTable(layers));
  return out.join('\n');
}

/** One event of the Chrome trace event format (what Perfetto and chrome://tracing read). */
export interface TraceEvent {
  /** The kernel variant (a dispatch), or the metadata's key. */
  name: string;
  /** Category: the kernel family, `step`, or `__metadata`. */
  cat: string;
  /** 'X': a complete event with `dur`; 'M': metadata (process and thread names). */
  ph: 'X' | 'M';
  /** Start, µs from the trace's start. */
  ts: number;
  /** Duration, µs ('X' events). */
  dur?: number;
  /** Process id (1: the GPU). */
  pid: number;
  /** Track: one per run (a pipeline stage, a queue). */
  tid: number;
  /** Shapes, FLOPs, bytes, layer, workgroups, the tuned `choice` (when the kernel has alternatives) and medians of a dispatch; a metadata event's name. */
  args: Record<string, unknown>;
}

/** A Chrome/Perfetto trace JSON object (chromeTrace). */
export interface ChromeTrace {
  traceEvents: TraceEvent[];
  /** How the viewer shows times (ChromeTraceOptions.displayTimeUnit; ts and dur are µs either way). */
  displayTimeUnit: 'ns' | 'ms';
  /**
   * The adapter, the timing ('gpu-timestamps' or 'wall-clock' when every run was timed so, 'mixed' when
   * the runs differ), the date, `units` (what ts, dur and the *_ms fields are in) and each run's figures
   * (`runs`: TraceRunData).
   */
  otherData: Record<string, unknown>;
}

/**
 * One run's figures in a trace's `otherData.runs`, each quantity under its own name (a trace once had `total_ms`, the
 * step median, beside tracks drawn from the sum of the dispatch medians: two figures under one name) and
 * `peak_bytes` meaning what it means in every bench --json (ProfileRun.peakBytes: resident weights + the run's own
 * peak), with the two parts apart. Times in ms rounded to the ns (MS_DIGITS decimals).
 */
export interface TraceRunData {
  /** The track's name (NamedRun.name). */
  name: string;
  /** NamedRun.group, where the run has a timeline of its own. */
  group?: string;
  timing: ProfileRun['timing'];
  /** ProfileRun.totalMs: the median over repeats of the summed dispatch times (GPU timestamps), or the wall time of the step (wall clock). */
  step_median_ms: number;
  /** The sum of the per-dispatch medians (the tables' rows, and the track's length with layout 'median'); null under wall-clock timing. */
  dispatch_medians_sum_ms: number | null;
  /** The span the track draws, first event start to last event end (ms). */
  track_ms: number;
  repeats: number;
  warmup: number;
  /** ProfileRun.peakBytes: GPU bytes at the peak, resident (weights) + the run's own buffers, as `peak_bytes` in the bench JSON. */
  peak_bytes: number;
  /** ProfileRun.residentBytes: the part of peak_bytes the run read but did not allocate (a model's weights; 0 for a lone kernel). */
  resident_bytes: number;
  /** peak_bytes − resident_bytes: the run's own activations and workspace at their peak. */
  peak_activation_bytes: number;
  /** 1-based: the repeat drawn ('repeat' layout, GPU timestamps). */
  trace_repeat?: number;
}

/** Decimals of the ms figures a trace writes (6: the ns, the timestamps' own resolution); ts and dur (µs) get 3. */
export const MS_DIGITS = 6;
const roundTo = (v: number, digits: number): number => {
  const k = 10 ** digits;
  return Math.round(v * k) / k;
};
/** µs to the ns (ts, dur): sums of float ms carry noise such as 559.4259999999999. */
const us = (v: number): number => roundTo(v, 3);
const msOf = (v: number | null): number | null => (v === null ? null : roundTo(v, MS_DIGITS));

/** Options of chromeTrace. */
export interface ChromeTraceOptions {
  /** The process track's name (default `GPU: <adapter>`). */
  process?: string;
  /**
   * What a timed run's events draw. 'repeat' (default): the representative repeat's GPU stamps (ts with the gaps
   * between passes, dur of that one repeat). 'median': each dispatch's median over the repeats (the tables' figure)
   * as dur, the dispatches laid end to end: the trace then agrees with the tables (`args.shown` says which).
   */
  layout?: 'repeat' | 'median';
  /** The name of a wall-clock run's one event: 'step' (default: `step (wall clock)`), or 'track': `<the run's name> (wall clock)` (a pipeline's stages are not steps). */
  wallClockEvent?: 'step' | 'track';
  /**
   * How the viewer shows times (ts and dur are µs either way): 'ns' or 'ms'; default 'ms' when the longest timeline
   * spans 1 ms or more (a model step: a 309 ms step read in ns is 309000000 ns), else 'ns' (a single short kernel).
   */
  displayTimeUnit?: 'ns' | 'ms';
}

/** A profile run under a track name, for a trace of several (chromeTrace; e.g. one per pipeline stage). */
export interface NamedRun {
  /** The track's name. */
  name: string;
  run: ProfileRun;
  /**
   * A timeline of its own: runs with the same `group` go on one process track (pid) named by it, from ts 0, apart from
   * the runs without one (the main timeline). For a run that did not happen in sequence with the others, e.g. a
   * denoising step replayed after the loop (stageRuns): laid end to end with the loop's own steps it would count the
   * step's work twice and lengthen the timeline.
   */
  group?: string;
}

/** Which repeat a run's trace events draw, in words (their `args.shown`). */
export function traceShown(run: ProfileRun): string {
  if (run.repeats <= 1) return 'the one timed run';
  const k = run.traceRepeat === undefined ? '' : ` (${run.traceRepeat + 1} of ${run.repeats})`;
  return `ts and dur from one repeat${k}: the one whose step time is closest to the median step; median_ms is this dispatch's median over all ${run.repeats} repeats`;
}

/** What `args.shown` says of a trace laid out from medians (ChromeTraceOptions.layout 'median'). */
export function traceShownMedian(run: ProfileRun): string {
  const n = Math.max(run.repeats, ...run.dispatches.map((d) => d.samples.length));
  return n <= 1
    ? 'ts and dur from the one timed run, dispatches laid end to end (gaps between passes removed)'
    : `dur is this dispatch's median over ${n} repeats (median_ms), as the tables show; dispatches laid end to end (gaps between passes removed), so ts is the sum of the medians before it`;
}

/** X events of one run (ts from its first dispatch, µs), sorted by ts. */
function runEvents(run: ProfileRun, pid: number, tid: number, t0: number, o: { layout: 'repeat' | 'median'; wallName: string }): TraceEvent[] {
  const xs: TraceEvent[] = [];
  if (run.timing === 'gpu-timestamps') {
    const median = o.layout === 'median';
    const shown = median ? traceShownMedian(run) : traceShown(run);
    let at = 0;
    for (const d of run.dispatches) {
      // 'median': every dispatch with a median, end to end; 'repeat': the representative repeat's stamps
      const start = median ? (d.ms === null ? null : at) : d.startMs;
      const dur = median ? d.ms : d.runMs;
      if (start === null || dur === null) continue;
      at += dur;
      xs.push({
        name: d.kernel,
        cat: d.family,
        ph: 'X',
        ts: us(t0 + start * 1000),
        dur: us(dur * 1000),
        pid,
        tid,
        // 'repeat': dur is that one repeat's ('median': the median itself); median_ms (and gflops) are over all repeats, as in the tables
        args: { shapes: d.shapes, flops: d.flops, bytes: d.bytes, layer: d.layer, workgroups: d.workgroups, ...(d.choice !== undefined ? { choice: d.choice } : {}), shown, this_run_ms: msOf(d.runMs), median_ms: msOf(d.ms), repeats: run.repeats, gflops: d.ms ? Number(gflopsOf(d.flops, d.ms).toPrecision(4)) : null },
      });
    }
    xs.sort((a, b) => a.ts - b.ts);
  } else {
    const flops = run.dispatches.reduce((a, d) => a + d.flops, 0);
    const bytes = run.dispatches.reduce((a, d) => a + d.bytes, 0);
    const layer = [...new Set(run.dispatches.map((d) => d.layer))].join(',');
    xs.push({ name: o.wallName, cat: 'step', ph: 'X', ts: us(t0), dur: us(run.totalMs * 1000), pid, tid, args: { shapes: `${run.dispatches.length} dispatches`, flops, bytes, layer, note: run.note } });
  }
  return xs;
}

/**
 * Chrome trace JSON (opens in Perfetto / chrome://tracing): the representative repeat of each
 * run (the one whose step time is closest to the median; `args.shown` says so, `args.median_ms`
 * is the dispatch's median over all repeats, as the tables show), one `ph:'X'` event per timed dispatch, `ts`/`dur` in µs
 * rounded to the ns, the ms figures of `args` and `otherData` to the ns too (MS_DIGITS), GFLOP/s to 4 significant digits.
 * Several named runs go one after another (a 10 µs gap), each on its own track (tid), all on pid 1 ("GPU: <adapter>");
 * runs with a `group` (NamedRun.group) go on a process of their own per group, from ts 0. Under wall-clock timing a run
 * is one event for the whole step. Events after the metadata are sorted by `ts`. `otherData.runs` (TraceRunData): each
 * run's timing, step median, sum of dispatch medians, drawn span and peak memory; `otherData.timing` is the runs' timing
 * when all agree, else 'mixed'. `opts` (ChromeTraceOptions): the medians end to end instead of one repeat
 * (`layout: 'median'`), wall-clock events named by their track, the display unit.
 */
export function chromeTrace(runs: ProfileRun | readonly NamedRun[], opts: ChromeTraceOptions = {}): ChromeTrace {
  checkTraceRuns(runs);
  const list: readonly NamedRun[] = Array.isArray(runs) ? runs : [{ name: (runs as ProfileRun).timing === 'gpu-timestamps' ? 'queue (one pass per dispatch)' : 'queue (wall clock)', run: runs as ProfileRun }];
  if (list.length === 0) throw new Error('chromeTrace: no runs');
  const first = list[0]!.run;
  const events: TraceEvent[] = [];
  const xs: TraceEvent[] = [];
  // one process per timeline (the main one: runs without a group), each with its own clock from 0
  const timelines = new Map<string | undefined, { pid: number; t0: number }>();
  const data: TraceRunData[] = [];
  list.forEach(({ name, run, group }, i) => {
    let tl = timelines.get(group);
    if (!tl) {
      tl = { pid: timelines.size + 1, t0: 0 };
      timelines.set(group, tl);
      events.push({ name: 'process_name', cat: '__metadata', ph: 'M', ts: 0, pid: tl.pid, tid: i + 1, args: { name: group ?? opts.process ?? `GPU: ${first.adapter}` } });
    }
    const tid = i + 1;
    events.push({ name: 'thread_name', cat: '__metadata', ph: 'M', ts: 0, pid: tl.pid, tid, args: { name } });
    const ev = runEvents(run, tl.pid, tid, tl.t0, { layout: opts.layout ?? 'repeat', wallName: opts.wallClockEvent === 'track' ? `${name} (wall clock)` : 'step (wall clock)' });
    xs.push(...ev);
    const end = ev.reduce((m, e) => Math.max(m, e.ts + (e.dur ?? 0)), tl.t0);
    const begin = ev.reduce((m, e) => Math.min(m, e.ts), end);
    data.push({
      name,
      ...(group !== undefined ? { group } : {}),
      timing: run.timing,
      step_median_ms: msOf(run.totalMs)!,
      dispatch_medians_sum_ms: msOf(stepGpuMs(run)),
      track_ms: msOf((end - begin) / 1000)!,
      repeats: run.repeats,
      warmup: run.warmup,
      peak_bytes: run.peakBytes,
      resident_bytes: run.residentBytes,
      peak_activation_bytes: run.peakBytes - run.residentBytes,
      ...(run.traceRepeat !== undefined ? { trace_repeat: run.traceRepeat + 1 } : {}),
    });
    tl.t0 = us(end + 10); // a 10 µs gap between runs
  });
  xs.sort((a, b) => a.ts - b.ts);
  const spanUs = Math.max(...[...timelines.values()].map((t) => t.t0 - 10));
  return {
    traceEvents: [...events, ...xs],
    displayTimeUnit: opts.displayTimeUnit ?? (spanUs >= 1000 ? 'ms' : 'ns'),
    otherData: {
      adapter: first.adapter,
      timing: new Set(list.map(({ run }) => run.timing)).size > 1 ? 'mixed' : first.timing,
      date: first.date,
      units: 'ts and dur in µs (the Trace Event Format), rounded to the ns; *_ms in ms; *_bytes in bytes',
      runs: data,
    },
  };
}

/** Everything in one JSON-serializable object (`null` where a figure is not measured). */
export function profileJson(run: ProfileRun, ceiling?: Ceiling, opts: { layerDepth?: number } = {}) {
  return {
    adapter: run.adapter,
    date: run.date,
    timing: run.timing,
    ...(run.note ? { note: run.note } : {}),
    repeats: run.repeats,
    warmup: run.warmup,
    total_ms: run.totalMs,
    step_ms: run.stepMs,
    wall_ms: run.wallMs,
    dropped: run.dropped,
    peak_bytes: run.peakBytes,
    resident_bytes: run.residentBytes,
    ceiling: ceiling ?? null,
    kernels: kernelTable(run, ceiling),
    layers: layerTable(run, opts.layerDepth ?? 0),
    dispatches: run.dispatches.map((d) => ({ kernel: d.kernel, family: d.family, layer: d.layer, shapes: d.shapes, flops: d.flops, bytes: d.bytes, workgroups: d.workgroups, ...(d.choice !== undefined ? { choice: d.choice } : {}), ms: d.ms, start_ms: d.startMs, samples_ms: d.samples })),
  };
}
