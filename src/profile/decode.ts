// Profiling a stage that runs many small recorded plans (the VAE decode: frame by frame, band by
// band, src/vae/decoder.ts; the text encoder: layer by layer when streamed) like a transformer step:
// each plan is timed dispatch by dispatch as it runs (profilePlan, one timed run, no warm-up: the
// stage's numbers are unchanged) and the pieces are joined into one ProfileRun for the same tables,
// timelines and traces. profileWarm runs the stage once untimed first, so that the first dispatch
// of each kernel (where the device compiles it) is not counted as kernel time.
import type { Plan } from '../gpu/plan.js';
import type { TensorData } from '../model/model.js';
import type { DecodeOptions, Vae } from '../vae/vae.js';
import { median, medianIndex, profilePlan, type ProfileRun } from './profiler.js';

/**
 * One ProfileRun from consecutive runs: dispatches in order, each piece's timeline shifted to
 * start where the previous one ended; totals summed, peak memory the largest (profileDecode
 * replaces it with the decoder's own peak: frames, caches and weights).
 * @throws Error when `runs` is empty.
 */
export function joinRuns(runs: readonly ProfileRun[]): ProfileRun {
  if (runs.length === 0) throw new Error('joinRuns: no runs');
  const first = runs[0]!;
  const dispatches: ProfileRun['dispatches'] = [];
  let offset = 0;
  for (const r of runs) {
    let end = 0;
    for (const d of r.dispatches) {
      dispatches.push({ ...d, samples: [...d.samples], startMs: d.startMs === null ? null : d.startMs + offset });
      if (d.startMs !== null) end = Math.max(end, d.startMs + (d.runMs ?? 0));
    }
    offset += end || r.totalMs;
  }
  const sum = (f: (r: ProfileRun) => number) => runs.reduce((a, r) => a + f(r), 0);
  const totalMs = sum((r) => r.totalMs);
  const wall = sum((r) => r.wallMs.reduce((a, b) => a + b, 0));
  return {
    ...first,
    timing: runs.every((r) => r.timing === 'gpu-timestamps') ? 'gpu-timestamps' : 'wall-clock',
    note: runs.find((r) => r.note)?.note,
    repeats: 1,
    warmup: 0,
    // each piece timed once: its one run is what the trace shows; pieces repeated more have no single repeat
    traceRepeat: runs.every((r) => r.repeats === 1) ? 0 : undefined,
    dispatches,
    totalMs,
    stepMs: [totalMs],
    wallMs: [wall],
    dropped: sum((r) => r.dropped),
    peakBytes: Math.max(...runs.map((r) => r.peakBytes)),
    residentBytes: Math.max(...runs.map((r) => r.residentBytes)),
  };
}

/**
 * Several profiled runs of the same stage as one, so that a one-off stall (a busy CPU adapter
 * preempted mid-dispatch) does not read as a kernel's time: each dispatch's samples from every run
 * and their median as `ms`; `totalMs` the median of the runs' totals (`stepMs` all of them); the
 * timeline (startMs/runMs, what the trace draws) of the run whose total is closest to the median
 * (`traceRepeat`). Runs whose dispatch lists differ are not merged: the first is returned.
 * @throws Error when `runs` is empty.
 */
export function mergeRepeats(runs: readonly ProfileRun[]): ProfileRun {
  if (runs.length === 0) throw new Error('mergeRepeats: no runs');
  const first = runs[0]!;
  const same = runs.every((r) => r.dispatches.length === first.dispatches.length && r.dispatches.every((d, i) => d.kernel === first.dispatches[i]!.kernel));
  if (runs.length === 1 || !same) return first;
  const totals = runs.map((r) => r.totalMs);
  const rep = medianIndex(totals);
  const dispatches = first.dispatches.map((d, i) => {
    const samples = runs.flatMap((r) => r.dispatches[i]!.samples);
    const shown = runs[rep]!.dispatches[i]!;
    return { ...d, samples, ms: samples.length ? median(samples) : null, startMs: shown.startMs, runMs: shown.runMs };
  });
  return {
    ...first,
    repeats: runs.length,
    dispatches,
    totalMs: median(totals),
    stepMs: totals,
    wallMs: runs.flatMap((r) => r.wallMs),
    dropped: runs.reduce((a, r) => a + r.dropped, 0),
    peakBytes: Math.max(...runs.map((r) => r.peakBytes)),
    traceRepeat: rep,
  };
}

/** The hook a stage runs each of its recorded plans through (Umt5Encoder.encode's and Vae.decode's `runPlan`). */
export type RunPlanHook = (plan: Plan, where: string) => Promise<void>;

/** What profileWarm returns. */
export interface WarmProfile<T> {
  /** What the first (untimed) run returned: the stage's output. */
  result: T;
  /** Wall time of the first run (ms): what the user waited for, the kernels' compilation included on a cold shader cache. */
  wallMs: number;
  /** Every dispatch of the profiled runs, timed as it ran, joined into one run (repeated: mergeRepeats). */
  run: ProfileRun;
  /** Wall time of the profiled runs (ms, all of them). */
  profileMs: number;
}

/** How profileWarm and profileDecode time a stage's plans. */
export type ProfileOpts = {
  /** Ignore timestamp-query (the default profiler's fallback: wall clock per plan). */
  forceWallClock?: boolean;
  /** Times one recorded plan of a profiled run, as it runs (default profilePlan, one run, no warm-up; forceWallClock applies to that default only). */
  profile?: (plan: Plan) => Promise<ProfileRun>;
  /** profileWarm: how many times the whole stage runs profiled (integer ≥ 1, default 1); per-dispatch medians over them (mergeRepeats). */
  repeats?: number;
};

/** How each plan of a profiled run is timed: `opts.profile` (tests), else profilePlan, one run, no warm-up. */
const planProfiler = (opts: ProfileOpts) => opts.profile ?? ((plan: Plan) => profilePlan(plan, { repeats: 1, warmup: 0, forceWallClock: opts.forceWallClock }));

/** Runs `stage` once with every dispatch of every plan timed as it runs: its result, the joined profile and the run's wall time (ms). */
async function profiledStage<T>(stage: (runPlan: RunPlanHook) => Promise<T>, profile: (plan: Plan) => Promise<ProfileRun>): Promise<{ result: T; run: ProfileRun; ms: number }> {
  const runs: ProfileRun[] = [];
  const t0 = performance.now();
  const result = await stage(async (plan) => {
    runs.push(await profile(plan));
  });
  return { result, run: joinRuns(runs), ms: performance.now() - t0 };
}

/**
 * Runs a stage twice with the same inputs: first as the user runs it (each plan's plain `run`),
 * timed as a whole, then again with every dispatch of every plan timed (profilePlan, one run, no
 * warm-up) — `opts.repeats` times, each a whole run of the stage (a plan alone may not be re-runnable:
 * it can update its inputs in place), merged into per-dispatch medians. The per-kernel profile is the second run's: a device compiles a kernel variant at its
 * first dispatch (lavapipe JIT-compiles each, 0.1–2 s on a CPU), which the first run absorbs and
 * would otherwise show as that dispatch's GPU time. `stage` must run every plan through the hook
 * it is given (both runs get one, so a cache in front of the stage is bypassed both times).
 * `opts.profile` replaces profilePlan (tests).
 * @throws what `stage` throws.
 */
export async function profileWarm<T>(stage: (runPlan: RunPlanHook) => Promise<T>, opts: ProfileOpts = {}): Promise<WarmProfile<T>> {
  const repeats = opts.repeats ?? 1;
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`profileWarm: repeats must be an integer ≥ 1, got ${repeats}`);
  const t0 = performance.now();
  const result = await stage((plan, where) => plan.run(where));
  const wallMs = performance.now() - t0;
  const runs: ProfileRun[] = [];
  let profileMs = 0;
  for (let i = 0; i < repeats; i++) {
    const p = await profiledStage(stage, planProfiler(opts));
    runs.push(p.run);
    profileMs += p.ms;
  }
  return { result, wallMs, run: mergeRepeats(runs), profileMs };
}

/**
 * Decodes `latents` with `vae` (its pipeline scaling included) while timing every dispatch.
 * `opts.warm`: decode twice (profileWarm): the sample and `wallMs` are the first, untimed decode's,
 * the profile the second's (`opts.repeats` profiled decodes, per-dispatch medians), so no kernel's compilation counts as its GPU time; default false (one
 * decode, profiled as it runs: on a cold shader cache each kernel's first dispatch includes its compilation).
 * `opts.onProgress`, `opts.onBlock`: Vae.decode's, for the decode the sample comes from (the first), not the profiled repeats.
 * `opts.profile`: how each recorded plan of a profiled decode is timed (as profileWarm's; default profilePlan, one
 * run, no warm-up): the decode's pieces, each handed to it as it runs.
 * @returns the decoder's sample (as vae.decode), the joined profile of all its pieces, and the wall
 *   time of the decode the sample came from (ms).
 * @throws what vae.decode throws.
 */
export async function profileDecode(
  vae: Vae,
  latents: TensorData,
  opts: ProfileOpts & { warm?: boolean } & Pick<DecodeOptions, 'onProgress' | 'onBlock'> = {},
): Promise<{ sample: TensorData; run: ProfileRun; wallMs: number }> {
  // opts.onProgress and opts.onBlock follow the decode the sample comes from (Vae.decode's), not the profiled repeats
  let first = true;
  const stage = (runPlan: RunPlanHook) => {
    const hooks = first ? { ...(opts.onProgress ? { onProgress: opts.onProgress } : {}), ...(opts.onBlock ? { onBlock: opts.onBlock } : {}) } : {};
    first = false;
    return vae.decode(latents, { runPlan, ...hooks });
  };
  let sample: TensorData;
  let run: ProfileRun;
  let wallMs: number;
  if (opts.warm) ({ result: sample, run, wallMs } = await profileWarm(stage, opts));
  else ({ result: sample, run, ms: wallMs } = await profiledStage(stage, planProfiler(opts)));
  // the decoder's frames, caches and weights live outside the pieces' plans: take its own figures
  const stats = vae.lastStats;
  if (stats) {
    run.residentBytes = stats.weightBytes;
    run.peakBytes = stats.weightBytes + stats.peakBytes;
  }
  return { sample, run, wallMs };
}
