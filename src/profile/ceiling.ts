// The device's achievable ceilings: FMA throughput (f32, and f16 when the adapter has shader-f16)
// and copy bandwidth, timed through the profiler. Every other figure is reported as a share of
// these. Measured once per device and cached in-process.
import { describeAdapter, type Gpu } from '../gpu/device.js';
import { defineKernel } from '../gpu/kernel.js';
import { grid1D, Plan } from '../gpu/plan.js';
import { roundF16 } from '../gpu/half.js';
import { Allocator, fmtBytes, readTensor, writeTensor, type Tensor } from '../gpu/tensor.js';
import { randn } from '../random.js';
import { median, profilePlan, type ProfileRun } from './profiler.js';
import { WrongResultError } from './check.js';

/**
 * The arithmetic ceiling's kernel (kernels/ceiling.wgsl): FMA chains with no memory traffic in the
 * loop, f32 or f16 (flag F16, needs shader-f16), workgroup size WG 64/128/256. measureCeiling runs it.
 */
export const ceilingKernel = defineKernel({
  name: 'ceiling',
  flags: { F16: [false, true] },
  overrides: { WG: [64, 128, 256] },
  bindings: ['uniform', 'rw'],
  needs: { F16: 'shader-f16' },
});

/**
 * The bandwidth ceiling's kernel (kernels/ceiling_copy.wgsl): a vec4<f32> copy, VPT vec4 elements per
 * invocation (1 or 8), workgroup size WG 256/64/128. measureCeiling runs it.
 */
export const copyKernel = defineKernel({
  name: 'ceiling_copy',
  flags: {},
  overrides: { WG: [256, 64, 128], VPT: [1, 8] },
  bindings: ['uniform', 'read', 'rw'],
});

/** Independent vec4 chains per invocation in kernels/ceiling.wgsl. */
const CHAINS = 8;
/** vec4 elements per invocation of the copy variants measured (kernels/ceiling_copy.wgsl). */
const COPY_VPT = [1, 8] as const;

/** The device ceiling (deviceCeiling): the best measured FMA throughput and copy bandwidth, the roofs kernels are held to. */
export interface Ceiling {
  /** Best f32 FMA throughput (GFLOP/s) over the timed repeats. */
  fma_gflops: number;
  /** Best f16 FMA throughput (GFLOP/s), on a shader-f16 adapter only. */
  fma_f16_gflops?: number;
  /**
   * Best copy bandwidth (GB/s, bytes read + written) over vec4 copies of 1 and 8 elements per
   * invocation, on a cache-sized (4 MiB) and a memory-sized buffer pair: the most bytes per second
   * this device moved, so a kernel whose data stays in cache is held to the cache figure.
   */
  copy_gbps: number;
  /** Which copy set copy_gbps, e.g. `VPT=8, 4.0 MiB per buffer`. */
  copy_best?: string;
  /** describeAdapter of the device measured. */
  adapter: string;
  /** How the kernels were timed: GPU timestamps or the wall clock. */
  timing: ProfileRun['timing'];
  /**
   * measureCeiling's repeats of each roof: the rates of every timed repeat (min, median, max), where the roof above is
   * their max. Absent where the ceiling was not measured by repeats (a test's, or one built from other figures).
   */
  spread?: CeilingSpread;
}

/** One roof's timed repeats as rates (GFLOP/s or GB/s): the slowest, the median and the fastest (the roof), and how many. */
export interface RoofSpread {
  min: number;
  median: number;
  max: number;
  repeats: number;
}

/** The spread of each roof measureCeiling timed: f32 FMA, f16 FMA (shader-f16 adapters), and the copy that set copy_gbps. */
export interface CeilingSpread {
  fma: RoofSpread;
  fma_f16?: RoofSpread;
  copy: RoofSpread;
}

/**
 * Above this ratio of a roof's fastest to slowest repeat the device was busy while the ceiling was timed (on an idle
 * device the repeats agree within a few %; on this project's shared 2-core host 1.1–12×): the roof, its best repeat,
 * may still be under what a quieter moment gives, so shares of it are unreliable (WIDE_SPREAD_WORDS).
 */
export const WIDE_SPREAD = 1.5;

/** What is said of a ceiling whose spread is wide (ceilingSpreadNote). */
export const WIDE_SPREAD_WORDS = 'the device is busy: the ceiling and the shares of it are unreliable (rerun on a quiet machine)';

/** A spread's rates from repeat times (ms) of `work` (FLOPs or bytes): rate = work / ms / 1e6; non-positive or non-finite times skipped. */
export function roofSpread(work: number, ms: readonly number[]): RoofSpread | undefined {
  const rates = ms.filter((m) => m > 0 && Number.isFinite(m)).map((m) => work / (m * 1e6)).sort((a, b) => a - b);
  if (rates.length === 0) return undefined;
  return { min: rates[0]!, median: median(rates), max: rates[rates.length - 1]!, repeats: rates.length };
}

/** The roofs of a CeilingSpread whose max / min is above WIDE_SPREAD, widest first (roofs of one repeat left out: no spread to read). */
export function wideSpreads(s: CeilingSpread): { roof: string; ratio: number }[] {
  const out: { roof: string; ratio: number }[] = [];
  for (const [roof, r] of [['f32 FMA', s.fma], ['f16 FMA', s.fma_f16], ['copy', s.copy]] as const) {
    if (!r || r.repeats < 2 || !(r.min > 0)) continue;
    const ratio = r.max / r.min;
    if (ratio > WIDE_SPREAD) out.push({ roof, ratio });
  }
  return out.sort((a, b) => b.ratio - a.ratio);
}

/**
 * The widest roof of a spread, by max / min, or undefined when every roof's max / min is at most WIDE_SPREAD (or a
 * roof has one repeat only: no spread to read). wideSpreads gives every wide roof.
 */
export function wideSpread(s: CeilingSpread): { roof: string; ratio: number } | undefined {
  return wideSpreads(s)[0];
}

/**
 * One line when the spread is wide, naming every roof above WIDE_SPREAD, widest first: "spread: copy's fastest repeat
 * is 11.7× its slowest, f32 FMA's 2.7× (each above 1.5×): the device is busy: …" (session 23: one roof was named, the
 * f32 FMA's 2.7× went unsaid beside copy's 11.7×), else undefined.
 */
export function ceilingSpreadNote(s: CeilingSpread | undefined): string | undefined {
  const w = s ? wideSpreads(s) : [];
  if (!w.length) return undefined;
  const [first, ...rest] = w;
  const more = rest.map((x) => `, ${x.roof}'s ${x.ratio.toFixed(1)}×`).join('');
  return `spread: ${first!.roof}'s fastest repeat is ${first!.ratio.toFixed(1)}× its slowest${more} (${w.length > 1 ? 'each ' : ''}above ${WIDE_SPREAD}×): ${WIDE_SPREAD_WORDS}`;
}

/** The roofs of a ceiling reading, as kept from one run to the next (ceilingDrift). */
export interface CeilingReading {
  fma_gflops: number;
  fma_f16_gflops?: number;
  copy_gbps: number;
  /** ISO date of the reading. */
  date: string;
}

/** What is said of a ceiling that moved between runs (ceilingDriftNote). */
export const DRIFT_WORDS = "the device's load changed between the runs: shares of either reading are unreliable, and % ceiling figures of the two runs do not compare (rerun both on a quiet machine)";

/**
 * The roofs whose reading moved between two runs by more than WIDE_SPREAD (the larger over the smaller), widest first:
 * each with this run's figure (`now`), the last run's (`last`) and the ratio. A spread within one run can be narrow
 * while the whole run was slowed (session 23: f32 FMA 35.4 GFLOP/s with a 1.18× spread, 71.7 the run before).
 */
export function ceilingDrift(now: Omit<CeilingReading, 'date'>, last: Omit<CeilingReading, 'date'>): { roof: string; now: number; last: number; ratio: number }[] {
  const out: { roof: string; now: number; last: number; ratio: number }[] = [];
  for (const [roof, a, b] of [['f32 FMA', now.fma_gflops, last.fma_gflops], ['f16 FMA', now.fma_f16_gflops, last.fma_f16_gflops], ['copy', now.copy_gbps, last.copy_gbps]] as const) {
    if (!(a !== undefined && b !== undefined && a > 0 && b > 0)) continue;
    const ratio = Math.max(a, b) / Math.min(a, b);
    if (ratio > WIDE_SPREAD) out.push({ roof, now: a, last: b, ratio });
  }
  return out.sort((x, y) => y.ratio - x.ratio);
}

/**
 * One line when a roof moved between the last run on this adapter and this one by more than WIDE_SPREAD, naming each:
 * "between runs: f32 FMA 35.40 GFLOP/s, 2.0× below the last run's 71.70 (2026-12-03T19:40:00.000Z) (above 1.5×): …";
 * undefined when none did or there is no last run.
 */
export function ceilingDriftNote(now: Omit<CeilingReading, 'date'>, last: CeilingReading | undefined): string | undefined {
  const d = last ? ceilingDrift(now, last) : [];
  if (!d.length) return undefined;
  const unit = (roof: string) => (roof === 'copy' ? 'GB/s' : 'GFLOP/s');
  const parts = d.map((x) => `${x.roof} ${x.now.toFixed(2)} ${unit(x.roof)}, ${x.ratio.toFixed(1)}× ${x.now < x.last ? 'below' : 'above'} the last run's ${x.last.toFixed(2)}`);
  return `between runs: ${parts.join('; ')} (the last run on this adapter: ${last!.date}; ${d.length > 1 ? 'each ' : ''}above ${WIDE_SPREAD}×): ${DRIFT_WORDS}`;
}

/** Options of the ceiling measurement. */
export interface CeilingOptions {
  /** Timed runs per kernel (default 9; the best counts). */
  repeats?: number;
  /** Untimed runs before them (default 1). */
  warmup?: number;
  /** Target GPU time per timed kernel run (ms), reached by scaling the work after a probe. */
  targetMs?: number;
}

/** FLOPs of one ceiling dispatch: invocations · iters · chains · 4 lanes · 2 (fma). */
export const fmaFlops = (invocations: number, iters: number): number => invocations * iters * CHAINS * 4 * 2;

function recordFma(plan: Plan, f16: boolean, invocations: number, iters: number): Tensor {
  const out = plan.alloc.tensor([invocations], 'f32', 'ceiling:out');
  const wg = 64;
  plan.record({
    spec: ceilingKernel,
    variant: { flags: { F16: f16 }, overrides: { WG: wg } },
    uniforms: [
      ['iters', 'u32', iters],
      ['m', 'f32', 0.999],
      ['a', 'f32', 0.001],
      ['invocations', 'u32', invocations],
    ],
    buffers: [out],
    workgroups: grid1D(plan.gpu, Math.ceil(invocations / wg)),
    layer: f16 ? 'ceiling.fma_f16' : 'ceiling.fma_f32',
    shapes: `invocations=${invocations} iters=${iters} chains=${CHAINS}`,
    flops: fmaFlops(invocations, iters),
    bytes: invocations * 4,
  });
  return out;
}

function recordCopy(plan: Plan, n4: number, vpt = 1): { src: Tensor; dst: Tensor } {
  const src = plan.alloc.tensor([n4 * 4], 'f32', 'ceiling:src');
  const dst = plan.alloc.tensor([n4 * 4], 'f32', 'ceiling:dst');
  const wg = 256;
  plan.record({
    spec: copyKernel,
    variant: { overrides: { WG: wg, VPT: vpt } },
    uniforms: [
      ['n4', 'u32', n4],
      ['_pad0', 'u32', 0],
      ['_pad1', 'u32', 0],
      ['_pad2', 'u32', 0],
    ],
    buffers: [src, dst],
    workgroups: grid1D(plan.gpu, Math.ceil(Math.ceil(n4 / vpt) / wg)),
    layer: 'ceiling.copy',
    shapes: `src[${n4 * 4}] dst[${n4 * 4}] vpt=${vpt}`,
    flops: 0,
    // one read and one write of 16-byte elements
    bytes: 2 * 16 * n4,
  });
  return { src, dst };
}

/**
 * Time one single-dispatch plan; returns its fastest repeat (ms; GPU timestamps or wall clock) and every repeat's
 * time (`samples`, ms). A ceiling is an upper bound, what the device can do, so the roof is the best repeat, not the
 * median: on a shared machine the median of the ceiling runs fell below the medians other kernels reached at quieter
 * moments (shares above 100 %), and a median moves with the load as much as any kernel's. The spread of the repeats
 * (CeilingSpread) says how far to trust it: a wide one means even the best repeat may be under-measured.
 */
async function timeOne(gpu: Gpu, rec: (plan: Plan) => unknown, repeats: number, warmup: number): Promise<{ ms: number; samples: number[]; run: ProfileRun }> {
  const alloc = new Allocator(gpu);
  try {
    const plan = new Plan(gpu, alloc);
    rec(plan);
    const run = await profilePlan(plan, { repeats, warmup });
    const samples = run.timing === 'gpu-timestamps' ? run.dispatches[0]!.samples : run.stepMs;
    const ms = samples.length ? Math.min(...samples) : run.totalMs;
    return { ms, samples: samples.length ? [...samples] : [run.totalMs], run };
  } finally {
    alloc.destroyAll();
  }
}

/** Grow the work until a run takes about `targetMs` (launch overhead then no longer matters), and measure. */
async function calibrated(gpu: Gpu, rec: (plan: Plan, scale: number) => unknown, scale: number, maxScale: number, o: Required<CeilingOptions>): Promise<{ ms: number; samples: number[]; scale: number; run: ProfileRun }> {
  for (let i = 0; i < 12 && scale < maxScale; i++) {
    const probe = await timeOne(gpu, (p) => rec(p, scale), 1, 1);
    const next = Math.min(maxScale, Math.round(scale * Math.min(16, o.targetMs / Math.max(probe.ms, 1e-3))));
    if (probe.ms >= o.targetMs / 2) {
      scale = next;
      break;
    }
    scale = Math.max(next, scale * 2);
  }
  scale = Math.min(scale, maxScale);
  const r = await timeOne(gpu, (p) => rec(p, scale), o.repeats, o.warmup);
  return { ...r, scale };
}

/** Expected output of one invocation of the FMA kernel, in float64 from the f32/f16-rounded constants. */
export function fmaExpected(gid: number, iters: number, f16: boolean): number {
  const r = f16 ? roundF16 : Math.fround;
  const m = r(0.999);
  const a = r(0.001);
  const s = r((gid % 64) * 0.001);
  let total = 0;
  for (let chain = 0; chain < CHAINS; chain++) {
    for (let lane = 0; lane < 4; lane++) {
      let c = r(r(s + r(0.01 * lane)) + r(0.1 * chain));
      for (let i = 0; i < iters; i++) c = c * m + a;
      total += c;
    }
  }
  return total;
}

/**
 * Check both ceiling kernels before timing them: the FMA chains against the float64 recurrence
 * (a contraction towards a/(1−m), so rounding stays bounded) and the copy bit-exactly.
 */
export async function validateCeiling(gpu: Gpu): Promise<void> {
  const alloc = new Allocator(gpu);
  try {
    for (const f16 of gpu.f16 ? [false, true] : [false]) {
      const plan = new Plan(gpu, alloc);
      const inv = 130;
      const iters = 500;
      const t = recordFma(plan, f16, inv, iters);
      await plan.run('ceiling check');
      const out = await readTensor(gpu, t);
      // f16 chains stall a few ulps short of the fixed point: 5% of the 32-term sum.
      const tol = f16 ? 0.05 : 1e-3;
      for (let g = 0; g < inv; g++) {
        const want = fmaExpected(g, iters, f16);
        if (!(Math.abs(out[g]! - want) <= tol * Math.abs(want))) {
          throw new WrongResultError(`ceiling FMA kernel (${f16 ? 'f16' : 'f32'}) is WRONG at invocation ${g}: gpu ${out[g]} vs ref ${want}. Refusing to report a ceiling.`);
        }
      }
    }
    for (const vpt of COPY_VPT) {
      const plan = new Plan(gpu, alloc);
      const n4 = 1001; // not a multiple of VPT or the workgroup: the tail is checked too
      const t = recordCopy(plan, n4, vpt);
      const src = randn(n4 * 4, 5);
      writeTensor(gpu, t.src, src);
      await plan.run('ceiling check');
      const got = await readTensor(gpu, t.dst);
      for (let i = 0; i < src.length; i++) {
        if (got[i] !== src[i]) throw new WrongResultError(`ceiling copy kernel (VPT=${vpt}) is WRONG at element ${i}: ${got[i]} vs ${src[i]}. Refusing to report a ceiling.`);
      }
    }
  } finally {
    alloc.destroyAll();
  }
}

/** Measure the ceilings (no cache); also returns the profile runs (for traces). */
export async function measureCeilingDetailed(gpu: Gpu, opts: CeilingOptions = {}): Promise<{ ceiling: Ceiling; runs: { name: string; run: ProfileRun }[] }> {
  // Many short runs rather than a few long ones: the best of them is the figure (see timeOne).
  const o: Required<CeilingOptions> = { repeats: opts.repeats ?? 9, warmup: opts.warmup ?? 1, targetMs: opts.targetMs ?? 15 };
  await validateCeiling(gpu);
  const runs: { name: string; run: ProfileRun }[] = [];
  // Enough invocations to fill every core's SIMD lanes many times over; the loop length scales.
  const invocations = 16384;
  const fma = async (f16: boolean) => {
    const r = await calibrated(gpu, (p, iters) => recordFma(p, f16, invocations, iters), 16, 1 << 20, o);
    runs.push({ name: f16 ? 'fma f16' : 'fma f32', run: r.run });
    const work = fmaFlops(invocations, r.scale);
    return { gflops: work / (r.ms * 1e6), spread: roofSpread(work, r.samples)! };
  };
  const f32 = await fma(false);
  const f16 = gpu.f16 ? await fma(true) : undefined;
  const fma_gflops = f32.gflops;
  const fma_f16_gflops = f16?.gflops;
  // Copy: the best of 1 and 8 vec4 per invocation, from memory and from cache.
  const maxN4 = Math.floor(Math.min(gpu.limits.maxStorageBufferBindingSize, 64 << 20) / 16);
  let best = { gbps: 0, how: '', run: null as ProfileRun | null, spread: undefined as RoofSpread | undefined };
  for (const vpt of COPY_VPT) {
    // memory: 64 MiB per buffer (or the binding limit), past any last-level cache
    const mem = await timeOne(gpu, (p) => recordCopy(p, maxN4, vpt), o.repeats, o.warmup);
    // cache: 4 MiB per buffer
    const n4 = Math.min((4 << 20) / 16, maxN4);
    const cached = await timeOne(gpu, (p) => recordCopy(p, n4, vpt), o.repeats * 2, o.warmup + 1);
    for (const [r, n] of [[mem, maxN4], [cached, n4]] as const) {
      const gbps = (2 * 16 * n) / (r.ms * 1e6);
      runs.push({ name: `copy VPT=${vpt} ${fmtBytes(n * 16)}`, run: r.run });
      if (gbps > best.gbps) best = { gbps, how: `VPT=${vpt}, ${fmtBytes(n * 16)} per buffer`, run: r.run, spread: roofSpread(2 * 16 * n, r.samples) };
    }
  }
  const ceiling: Ceiling = {
    fma_gflops,
    ...(fma_f16_gflops !== undefined ? { fma_f16_gflops } : {}),
    copy_gbps: best.gbps,
    copy_best: best.how,
    adapter: describeAdapter(gpu),
    timing: best.run!.timing,
    spread: { fma: f32.spread, ...(f16 ? { fma_f16: f16.spread } : {}), copy: best.spread! },
  };
  return { ceiling, runs };
}

/** Measure the ceilings (no cache). */
export async function measureCeiling(gpu: Gpu, opts: CeilingOptions = {}): Promise<Ceiling> {
  return (await measureCeilingDetailed(gpu, opts)).ceiling;
}

const cache = new WeakMap<GPUDevice, Promise<Ceiling>>();

/** The device ceiling, measured on first use and cached for the life of the device. */
export function deviceCeiling(gpu: Gpu, opts: CeilingOptions = {}): Promise<Ceiling> {
  let c = cache.get(gpu.device);
  if (!c) {
    c = measureCeiling(gpu, opts);
    c.catch(() => cache.delete(gpu.device));
    cache.set(gpu.device, c);
  }
  return c;
}

/**
 * Shares of the ceiling a kernel reached; f16 kernels are held to the f16 FMA ceiling when known.
 * `underMeasured`: a share above 1 — no kernel outruns the device, so the ceiling run was slowed
 * (a busy machine while it was timed); reports flag such a figure instead of printing it as is.
 */
export function ceilingShares(c: Ceiling | undefined, gflops: number, gbps: number, f16: boolean): { compute: number | null; bandwidth: number | null; share: number | null; underMeasured: boolean } {
  if (!c) return { compute: null, bandwidth: null, share: null, underMeasured: false };
  const peak = f16 && c.fma_f16_gflops ? c.fma_f16_gflops : c.fma_gflops;
  const compute = Number.isFinite(gflops) && peak > 0 ? gflops / peak : null;
  const bandwidth = Number.isFinite(gbps) && c.copy_gbps > 0 ? gbps / c.copy_gbps : null;
  // The binding roof: whichever resource the kernel is closer to exhausting.
  const share = compute === null && bandwidth === null ? null : Math.max(compute ?? 0, bandwidth ?? 0);
  return { compute, bandwidth, share, underMeasured: share !== null && share > 1 };
}

/** What `formatShare` appends to a share above 100 %, and the footnote tables print under a starred one. */
export const UNDER_MEASURED = 'ceiling under-measured, machine busy?';

/** A share as a percentage ('—' when unknown); above 100 % starred (`short`) or followed by UNDER_MEASURED. */
export function formatShare(v: number | null | undefined, short = false): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const p = `${(v * 100).toFixed(1)}%`;
  return v > 1 ? (short ? `${p}*` : `${p} (${UNDER_MEASURED})`) : p;
}

/**
 * The ceiling in one line, every figure with its unit: "29.49 GFLOP/s f32 FMA, 8.39 GFLOP/s f16 FMA,
 * 10.50 GB/s copy (…)" (`digits` decimals; the f16 figure only where measured, the best copy's
 * description with `withCopyBest`).
 */
export function formatCeiling(c: Ceiling, digits = 2, withCopyBest = false): string {
  const f16 = c.fma_f16_gflops ? `, ${c.fma_f16_gflops.toFixed(digits)} GFLOP/s f16 FMA` : '';
  return `${c.fma_gflops.toFixed(digits)} GFLOP/s f32 FMA${f16}, ${c.copy_gbps.toFixed(2)} GB/s copy${withCopyBest && c.copy_best ? ` (${c.copy_best})` : ''}`;
}

/** One timed run of a ceiling kernel: which roof it measures, its time (ms) and its work (FLOPs or bytes). */
export interface CeilingSample {
  /** The roof: f32 FMA, f16 FMA or copy bandwidth. */
  kind: 'fma' | 'fma_f16' | 'copy';
  /** The run's time, ms. */
  ms: number;
  /** Its work: FLOPs (fma) or bytes read + written (copy). */
  work: number;
  /** copy: which copy it was (e.g. `VPT=8, 4.0 MiB per buffer`). */
  how?: string;
}

/**
 * The best of a measured ceiling and later samples of the same kernels (a ceiling is what the
 * device can do, so the fastest run of each roof counts). Samples with ms ≤ 0 or non-finite are
 * ignored.
 */
export function bestCeiling(base: Ceiling, samples: readonly CeilingSample[]): Ceiling {
  const out: Ceiling = { ...base };
  for (const s of samples) {
    if (!(s.ms > 0) || !Number.isFinite(s.ms)) continue;
    const rate = s.work / (s.ms * 1e6);
    if (s.kind === 'fma' && rate > out.fma_gflops) out.fma_gflops = rate;
    else if (s.kind === 'fma_f16' && rate > (out.fma_f16_gflops ?? 0)) out.fma_f16_gflops = rate;
    else if (s.kind === 'copy' && rate > out.copy_gbps) {
      out.copy_gbps = rate;
      if (s.how !== undefined) out.copy_best = s.how;
    }
  }
  return out;
}

/**
 * The ceiling kernels (f32 FMA, f16 FMA where the adapter has shader-f16, and the vec4 copies of 1
 * and 8 elements per invocation on a cache-sized buffer pair), checked, recorded once and sized to
 * about `targetMs` each, for timing interleaved with a benchmark's own repeats: `round()` runs
 * each once; `ceiling()` is the best of `base` and every round (bestCeiling). A ceiling measured
 * only before the benchmark can be under-measured when the machine was busy just then, and a
 * kernel then shows more than 100 %. Caller destroys.
 */
export async function ceilingProbe(gpu: Gpu, base: Ceiling, targetMs = 10): Promise<{ round: () => Promise<void>; ceiling: () => Ceiling; destroy: () => void }> {
  await validateCeiling(gpu);
  const invocations = 16384;
  const o = { repeats: 1, warmup: 1, targetMs };
  const alloc = new Allocator(gpu);
  const entries: { plan: Plan; kind: CeilingSample['kind']; work: number; how?: string }[] = [];
  try {
    for (const f16 of gpu.f16 ? [false, true] : [false]) {
      const { scale } = await calibrated(gpu, (p, iters) => recordFma(p, f16, invocations, iters), 16, 1 << 20, o);
      const plan = new Plan(gpu, alloc);
      recordFma(plan, f16, invocations, scale);
      entries.push({ plan, kind: f16 ? 'fma_f16' : 'fma', work: fmaFlops(invocations, scale) });
    }
    const n4 = Math.min((4 << 20) / 16, Math.floor(Math.min(gpu.limits.maxStorageBufferBindingSize, 64 << 20) / 16));
    for (const vpt of COPY_VPT) {
      const plan = new Plan(gpu, alloc);
      recordCopy(plan, n4, vpt);
      entries.push({ plan, kind: 'copy', work: 2 * 16 * n4, how: `VPT=${vpt}, ${fmtBytes(n4 * 16)} per buffer` });
    }
  } catch (e) {
    alloc.destroyAll();
    throw e;
  }
  const samples: CeilingSample[] = [];
  return {
    async round() {
      for (const e of entries) {
        const run = await profilePlan(e.plan, { repeats: 1, warmup: 0 });
        samples.push({ kind: e.kind, ms: run.totalMs, work: e.work, ...(e.how ? { how: e.how } : {}) });
      }
    },
    ceiling: () => bestCeiling(base, samples),
    destroy: () => alloc.destroyAll(),
  };
}

/**
 * The f32 FMA ceiling kernel as a plan of one dispatch, checked first (validateCeiling) and sized
 * so one run takes about `targetMs`, for timing in the same round-robin as other kernels (so a
 * share of the ceiling is a ratio of two medians taken under the same load). Caller destroys.
 */
export async function fmaCeilingPlan(gpu: Gpu, targetMs = 40): Promise<{ plan: Plan; flops: number; destroy: () => void }> {
  await validateCeiling(gpu);
  const invocations = 16384;
  const { scale } = await calibrated(gpu, (p, iters) => recordFma(p, false, invocations, iters), 16, 1 << 20, { repeats: 1, warmup: 1, targetMs });
  const alloc = new Allocator(gpu);
  const plan = new Plan(gpu, alloc);
  recordFma(plan, false, invocations, scale);
  return { plan, flops: fmaFlops(invocations, scale), destroy: () => alloc.destroyAll() };
}
