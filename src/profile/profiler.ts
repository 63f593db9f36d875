// Profile mode for a Plan: every dispatch in its own compute pass with `timestampWrites` into
// query sets (≤ 4096 queries each), resolved and read back once per run. Without the
// `timestamp-query` feature it falls back to wall clock around `onSubmittedWorkDone()` for the
// whole plan, and says so (`timing: 'wall-clock'`, per-dispatch `ms: null`).
//
// Browser-safe: no Node imports. The CLI, the tests and the browser demo all time through here.
import { checkAlive, describeAdapter, GpuError, gpuWait, untilLost, withErrorScopes, type Gpu } from '../gpu/device.js';
import { Pace, Plan, type Dispatch } from '../gpu/plan.js';
import { InputError, kindOf, shown } from '../model/input-error.js';
import { checkOptionNames } from '../model/options.js';

/** The WebGPU maximum query count of one query set. */
export const MAX_QUERIES = 4096;
/** `resolveQuerySet` destination offsets must be multiples of this. */
export const RESOLVE_ALIGN = 256;

/** How a run was timed: GPU timestamps per dispatch (timestamp-query), or the wall clock around the whole plan. */
export type Timing = 'gpu-timestamps' | 'wall-clock';

/** A recorded dispatch's description (kernel, family, layer, shapes, flops, bytes, workgroups) with its times. */
export interface ProfiledDispatch extends Pick<Dispatch, 'kernel' | 'family' | 'layer' | 'shapes' | 'flops' | 'bytes' | 'workgroups' | 'choice'> {
  /** Median GPU time over repeats (ms); null under wall-clock timing or when every sample was dropped. */
  ms: number | null;
  /** Start relative to the first dispatch of the representative repeat (ms); null under wall-clock timing. */
  startMs: number | null;
  /** Duration in the representative repeat (ms: ProfileRun.traceRepeat), for the trace timeline; null when not measured. May differ from `ms`, the median over all repeats. */
  runMs: number | null;
  /** Valid per-repeat durations (ms); zero/negative deltas are dropped. */
  samples: number[];
}

/** What profilePlan returns: per-dispatch and per-step times of a plan over its repeats. */
export interface ProfileRun {
  /** How it was timed (no per-dispatch times under 'wall-clock'). */
  timing: Timing;
  /** Why per-dispatch figures are missing, when they are. */
  note?: string;
  /** describeAdapter of the device. */
  adapter: string;
  /** Timed repeats. */
  repeats: number;
  /** Untimed runs before them. */
  warmup: number;
  /** Every dispatch of the plan, in order, with its times. */
  dispatches: ProfiledDispatch[];
  /**
   * Median over repeats of the step time (ms): the sum of per-dispatch GPU times under
   * 'gpu-timestamps' (busy time, pass gaps excluded); submit → onSubmittedWorkDone under 'wall-clock'.
   */
  totalMs: number;
  /** Per-repeat step times (ms), as `totalMs` defines them. */
  stepMs: number[];
  /** Per-repeat wall clock, submit → onSubmittedWorkDone (ms); in profile mode this includes readback. */
  wallMs: number[];
  /** Timestamp deltas dropped as zero or negative (over all repeats). */
  dropped: number;
  /**
   * 0-based index of the "representative" repeat (the one whose step time is closest to the median)
   * that `startMs`/`runMs` and the Chrome trace show; undefined under wall-clock timing and for joined runs.
   */
  traceRepeat?: number;
  /** Peak GPU bytes of the step: `residentBytes` plus the peak of the plan's own Allocator (activations, workspace). */
  peakBytes: number;
  /** Bytes the plan reads but did not allocate, e.g. the model's weights (ProfileOptions.residentBytes; 0 when not given). */
  residentBytes: number;
  /** ISO date of the run. */
  date: string;
}

/** Options of profilePlan. */
export interface ProfileOptions {
  /** Timed repeats (default 5). */
  repeats?: number;
  /** Untimed runs first (default 1): pipeline warm-up, first-touch of buffers. */
  warmup?: number;
  /** Ignore timestamp-query even when present (tests of the fallback). */
  forceWallClock?: boolean;
  /** GPU bytes the plan reads that its Allocator does not hold (a model's weights: `model.weights.bytes`), counted in peakBytes. ≥ 0. */
  residentBytes?: number;
  /**
   * Called after every timed repeat but the last, outside the timed region: other work to
   * interleave with the repeats (the bench runs the ceiling kernels here, so both are timed
   * under the same machine load).
   */
  between?: (repeat: number) => Promise<void>;
  /**
   * Paces the timed repeats' waits with timestamps (sleep, then wait: Plan.run's Pace); default a new
   * one per call. A caller that times one plan over several calls (the tuner's interleaved rounds,
   * one repeat each) passes the same one to every call, so that the waits learn the plan's duration:
   * with a new one per call every wait is Dawn's busy wait, a core taken from a CPU adapter's
   * threads. (Without timestamps each repeat is plan.run, paced by the plan's own.)
   */
  pace?: Pace;
}

/**
 * The median of `xs` (the mean of the two middle values for an even count); `xs` is not reordered.
 * NaN for an empty list.
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Index in `xs` of the sample closest to its median (the "representative" repeat; the first of ties).
 * @throws RangeError for an empty list, which has no sample to point at (it returned 0).
 */
export function medianIndex(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('medianIndex: no samples (an empty list has no median)');
  const m = median(xs);
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (Math.abs(xs[i]! - m) < Math.abs(xs[best]! - m)) best = i;
  return best;
}

/** How `n` dispatches (2 queries each) split over query sets: [firstDispatch, count][] per set. */
export function queryChunks(n: number, maxQueries = MAX_QUERIES): [number, number][] {
  const per = Math.floor(maxQueries / 2);
  const out: [number, number][] = [];
  for (let i = 0; i < n; i += per) out.push([i, Math.min(per, n - i)]);
  return out;
}

/** Byte offset of chunk `c` in the resolve buffer (each chunk's slot rounded up to 256 bytes). */
export function resolveOffsets(chunks: [number, number][]): { offsets: number[]; total: number } {
  const offsets: number[] = [];
  let off = 0;
  for (const [, count] of chunks) {
    offsets.push(off);
    off += Math.ceil((count * 2 * 8) / RESOLVE_ALIGN) * RESOLVE_ALIGN;
  }
  return { offsets, total: Math.max(off, RESOLVE_ALIGN) };
}

/** Query sets and buffers for timing one plan, reused across repeats. */
class TimestampRig {
  readonly chunks: [number, number][];
  readonly offsets: number[];
  readonly sets: GPUQuerySet[];
  readonly resolve: GPUBuffer;
  readonly readback: GPUBuffer;
  readonly bytes: number;

  constructor(
    readonly gpu: Gpu,
    readonly n: number,
  ) {
    const d = gpu.device;
    this.chunks = queryChunks(n);
    const { offsets, total } = resolveOffsets(this.chunks);
    this.offsets = offsets;
    this.bytes = total;
    this.sets = this.chunks.map(([, count], c) => d.createQuerySet({ label: `profile:queries${c}`, type: 'timestamp', count: count * 2 }));
    this.resolve = d.createBuffer({ label: 'profile:resolve', size: total, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.readback = d.createBuffer({ label: 'profile:readback', size: total, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /** Each dispatch in its own pass, timestamps at its begin and end; resolve + copy in the same encoder. */
  encode(enc: GPUCommandEncoder, ds: readonly Dispatch[]): void {
    this.chunks.forEach(([first, count], c) => {
      const querySet = this.sets[c]!;
      for (let j = 0; j < count; j++) {
        const dsp = ds[first + j]!;
        const pass = enc.beginComputePass({
          label: dsp.kernel,
          timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * j, endOfPassWriteIndex: 2 * j + 1 },
        });
        pass.setPipeline(dsp.pipeline);
        pass.setBindGroup(0, dsp.bindGroup);
        pass.dispatchWorkgroups(...dsp.workgroups);
        pass.end();
      }
      enc.resolveQuerySet(querySet, 0, count * 2, this.resolve, this.offsets[c]!);
    });
    enc.copyBufferToBuffer(this.resolve, 0, this.readback, 0, this.bytes);
  }

  /**
   * Raw [begin, end] nanosecond stamps per dispatch. The map waits through gpuWait (no busy core on a CPU
   * adapter in Node): the stamps are the GPU's own, so its poll's granularity (up to WAIT_SLEEP_MS once the
   * wait is past WAIT_SPIN_MS) reaches only `wallMs`, never the dispatch or step times. After profilePlan's
   * paced idle the map is short (within the spin); DispatchTimer.read right after a submit waits the whole run.
   */
  async read(where: string): Promise<[bigint, bigint][]> {
    const lost = (i: GPUDeviceLostInfo) => new GpuError(`GPU device lost (${i.reason}) while reading timestamps of ${where}: ${i.message}`, 'lost', where);
    await gpuWait(this.gpu, untilLost(this.gpu, this.readback.mapAsync(GPUMapMode.READ), lost));
    try {
      const all = new BigUint64Array(this.readback.getMappedRange());
      const out: [bigint, bigint][] = [];
      this.chunks.forEach(([, count], c) => {
        const base = this.offsets[c]! / 8;
        for (let j = 0; j < count; j++) out.push([all[base + 2 * j]!, all[base + 2 * j + 1]!]);
      });
      return out;
    } finally {
      this.readback.unmap();
    }
  }

  destroy(): void {
    for (const s of this.sets) s.destroy();
    this.resolve.destroy();
    this.readback.destroy();
  }
}

/**
 * Run a recorded plan `warmup + repeats` times and time it: per dispatch with GPU timestamps when the
 * adapter has timestamp-query (one compute pass per dispatch), else by the wall clock over the whole plan.
 * @throws InputError naming profilePlan and the argument, before any work: `plan` not a Plan, an unknown option
 *   (with a did-you-mean), repeats not an integer ≥ 1, warmup not an integer ≥ 0, residentBytes below 0, a plan
 *   without dispatches; DisposedError for a plan whose buffers were freed (Plan.checkLive); what plan.run throws
 *   (GpuError, ShaderError, TuneEnvError).
 *
 * @example
 * const run = await profilePlan(plan, { repeats: 5, warmup: 1 });
 * console.log(run.timing, run.totalMs, run.dispatches.map((d) => [d.kernel, d.ms]));
 */
export async function profilePlan(plan: Plan, opts: ProfileOptions = {}): Promise<ProfileRun> {
  checkProfileArgs(plan, opts);
  const gpu = plan.gpu;
  const repeats = opts.repeats ?? 5;
  const warmup = opts.warmup ?? 1;
  const residentBytes = opts.residentBytes ?? 0;
  const ds = plan.dispatches;
  plan.checkLive('profilePlan');
  const useTimestamps = gpu.timestamps && !opts.forceWallClock;
  const base = (): ProfiledDispatch[] => describeDispatches(ds);
  const common = { adapter: describeAdapter(gpu), repeats, warmup, date: new Date().toISOString(), residentBytes };

  for (let i = 0; i < warmup; i++) await plan.run(`warmup of ${plan.layer || 'plan'}`);

  if (!useTimestamps) {
    // plan.run waits through Pace and waitIdle, so through gpuWait: on a CPU adapter in Node each repeat may end
    // up to WAIT_SLEEP_MS (0.5 ms) after the work did, once the wait is past its 1 ms spin. Kept: Dawn's busy
    // wait instead takes a core from the driver's threads being timed (a larger bias: bench/RESULTS.md, session
    // 14), and the lateness is a small share of a whole plan's run there (tens of ms and up). On a GPU adapter
    // and in a browser gpuWait is the plain wait.
    const wallMs: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      await plan.run('profile (wall clock)');
      wallMs.push(performance.now() - t0);
      if (opts.between && r < repeats - 1) await opts.between(r);
    }
    return {
      ...common,
      timing: 'wall-clock',
      note: wallClockNote(gpu.timestamps),
      dispatches: base(),
      totalMs: median(wallMs),
      stepMs: wallMs,
      wallMs,
      dropped: 0,
      peakBytes: residentBytes + plan.alloc.peakBytes,
    };
  }

  const rig = new TimestampRig(gpu, ds.length);
  try {
    const stamps: [bigint, bigint][][] = [];
    const wallMs: number[] = [];
    const pace = opts.pace ?? new Pace(); // Dawn's busy wait would take a core from a CPU adapter's kernels being timed
    for (let r = 0; r < repeats; r++) {
      checkAlive(gpu, 'profile');
      plan.checkLive('profilePlan');
      const t0 = performance.now();
      await withErrorScopes(gpu, 'profile', () => {
        const enc = gpu.device.createCommandEncoder({ label: 'profile' });
        rig.encode(enc, ds);
        gpu.device.queue.submit([enc.finish()]);
      });
      await pace.idle(gpu, 'profile', t0);
      stamps.push(await rig.read('profile'));
      wallMs.push(performance.now() - t0);
      if (opts.between && r < repeats - 1) await opts.between(r);
    }
    return { ...common, ...summarize(base(), stamps), wallMs, peakBytes: residentBytes + plan.alloc.peakBytes };
  } finally {
    rig.destroy();
  }
}

/**
 * Per-dispatch GPU timestamps of dispatches that another caller encodes into its own command encoder (the
 * sampler's denoising step, src/sampler/generate.ts), timed by the same query sets, passes and summary as
 * profilePlan: `encode` records each dispatch in its own compute pass with timestamp writes, then the resolve
 * and the copy to the read-back buffer; once that command buffer has run, `read` gives a ProfileRun of the
 * one run (repeats 1, no warm-up) and frees the query sets and buffers. Needs the adapter's timestamp-query
 * (`gpu.timestamps`); without it see wallClockRun.
 */
export class DispatchTimer {
  private readonly rig: TimestampRig;

  constructor(
    gpu: Gpu,
    readonly dispatches: readonly Dispatch[],
  ) {
    if (!gpu.timestamps) throw new Error('DispatchTimer: the adapter lacks timestamp-query');
    this.rig = new TimestampRig(gpu, dispatches.length);
  }

  /** Each dispatch in its own pass with its begin and end timestamps; then the resolve and the copy, in `enc`. */
  encode(enc: GPUCommandEncoder): void {
    this.rig.encode(enc, this.dispatches);
  }

  /**
   * After the encoder's command buffer ran: its ProfileRun (`wallMs`: the caller's wall time of the run;
   * `peakBytes`/`residentBytes` as ProfileRun defines them). Frees the timer's GPU objects.
   */
  async read(where: string, o: { wallMs: number; peakBytes: number; residentBytes: number }): Promise<ProfileRun> {
    try {
      const stamps = await this.rig.read(where);
      const gpu = this.rig.gpu;
      return { adapter: describeAdapter(gpu), repeats: 1, warmup: 0, date: new Date().toISOString(), ...summarize(describeDispatches(this.dispatches), [stamps]), wallMs: [o.wallMs], peakBytes: o.peakBytes, residentBytes: o.residentBytes };
    } finally {
      this.rig.destroy();
    }
  }

  /** Frees the query sets and buffers (read does it; for a run that failed before its read). */
  destroy(): void {
    this.rig.destroy();
  }
}

/** The dispatches' descriptions with no times yet (ProfiledDispatch with ms, startMs and runMs null). */
function describeDispatches(ds: readonly Dispatch[]): ProfiledDispatch[] {
  return ds.map((d) => ({ kernel: d.kernel, family: d.family, layer: d.layer, shapes: d.shapes, flops: d.flops, bytes: d.bytes, workgroups: [...d.workgroups] as [number, number, number], ...(d.choice !== undefined ? { choice: d.choice } : {}), ms: null, startMs: null, runMs: null, samples: [] }));
}

/**
 * A ProfileRun of dispatches run without timestamps (DispatchTimer's counterpart on an adapter without
 * timestamp-query, or with them turned off): the dispatches named, no per-dispatch times, `totalMs` the wall
 * time of the run, and `note` saying why (`o.what`: what the wall clock was around, default "the whole plan"; `o.forced`:
 * timestamps were there but turned off).
 */
export function wallClockRun(gpu: Gpu, ds: readonly Dispatch[], o: { wallMs: number; peakBytes: number; residentBytes: number; forced?: boolean; what?: string }): ProfileRun {
  return {
    adapter: describeAdapter(gpu),
    repeats: 1,
    warmup: 0,
    date: new Date().toISOString(),
    timing: 'wall-clock',
    note: wallClockNote(gpu.timestamps && !!o.forced, o.what),
    dispatches: describeDispatches(ds),
    totalMs: o.wallMs,
    stepMs: [o.wallMs],
    wallMs: [o.wallMs],
    dropped: 0,
    peakBytes: o.peakBytes,
    residentBytes: o.residentBytes,
  };
}

/** Why a run has no per-dispatch times: timestamps turned off on request, or missing on the adapter. */
const wallClockNote = (forced: boolean, what = 'the whole plan'): string =>
  `${forced ? 'timestamp queries disabled on request' : 'the adapter lacks timestamp-query'}: wall clock around onSubmittedWorkDone() over ${what}, no per-dispatch times`;

const PROFILE_OPTIONS: readonly (keyof ProfileOptions)[] = ['repeats', 'warmup', 'forceWallClock', 'residentBytes', 'between', 'pace'];

/** profilePlan's arguments, before any work: one line naming the argument or option and what it takes. */
function checkProfileArgs(plan: unknown, opts: unknown): asserts plan is Plan {
  if (!(plan instanceof Plan)) {
    const workload = typeof plan === 'object' && plan !== null && (plan as { plan?: unknown }).plan instanceof Plan;
    throw new InputError(`profilePlan: plan: a recorded Plan (a workload's .plan, model.planFor(inputs)), got ${workload ? 'a workload (pass its .plan)' : kindOf(plan)}`);
  }
  checkOptionNames(opts, PROFILE_OPTIONS, 'profilePlan', '{ repeats: 5, warmup: 1 }');
  const o = opts as ProfileOptions;
  const int = (k: 'repeats' | 'warmup', min: number) => {
    const v = o[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new InputError(`profilePlan: ${k} must be an integer ≥ ${min}, got ${shown(v)}`);
  };
  int('repeats', 1);
  int('warmup', 0);
  if (o.residentBytes !== undefined && !(typeof o.residentBytes === 'number' && o.residentBytes >= 0)) throw new InputError(`profilePlan: residentBytes must be ≥ 0, got ${shown(o.residentBytes)}`);
  if (o.between !== undefined && typeof o.between !== 'function') throw new InputError(`profilePlan: between: a function (repeat) => Promise<void>, got ${kindOf(o.between)}`);
  if (plan.dispatches.length === 0) throw new InputError('profilePlan: the plan has no dispatches');
}

/**
 * Turn raw stamps (per repeat, per dispatch [begin, end] in ns) into per-dispatch medians and a
 * representative timeline. Exported for tests.
 */
export function summarize(out: ProfiledDispatch[], stamps: [bigint, bigint][][]): Pick<ProfileRun, 'timing' | 'dispatches' | 'totalMs' | 'stepMs' | 'dropped' | 'note' | 'traceRepeat'> {
  let dropped = 0;
  const stepMs = stamps.map((run) => {
    let s = 0;
    for (const [b, e] of run) {
      const d = Number(e - b) / 1e6;
      if (d > 0) s += d;
    }
    return s;
  });
  for (let i = 0; i < out.length; i++) {
    for (const run of stamps) {
      const [b, e] = run[i]!;
      const d = Number(e - b) / 1e6;
      if (d > 0) out[i]!.samples.push(d);
      else dropped++;
    }
    out[i]!.ms = out[i]!.samples.length ? median(out[i]!.samples) : null;
  }
  // Timeline of the repeat whose step time is the median one, relative to its first valid begin.
  const traceRepeat = medianIndex(stepMs);
  const rep = stamps[traceRepeat]!;
  let t0: bigint | null = null;
  for (const [b, e] of rep) if (e > b && (t0 === null || b < t0)) t0 = b;
  rep.forEach(([b, e], i) => {
    if (t0 !== null && e > b) {
      out[i]!.startMs = Number(b - t0) / 1e6;
      out[i]!.runMs = Number(e - b) / 1e6;
    }
  });
  const untimed = out.filter((d) => d.ms === null).length;
  return {
    timing: 'gpu-timestamps',
    dispatches: out,
    totalMs: median(stepMs),
    stepMs,
    dropped,
    traceRepeat,
    ...(untimed ? { note: `${untimed} dispatch(es) had only zero/negative timestamp deltas and are untimed` } : {}),
  };
}
