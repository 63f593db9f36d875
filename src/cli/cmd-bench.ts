// `tessera bench <ceiling|gemm|attention|layernorm|conv|block|model|vae|suite|plan>`: validated, timed kernel benchmarks.
// Every kernel workload is checked against its float64 reference before it is timed; a wrong
// kernel gets no time (WrongResultError, exit 1). bench model and vae check what a whole model can
// be checked by (finite, bit-identical reruns; batch items, or row bands, against each other).
// Per-kernel times come from GPU timestamps (the profiler); end-to-end wall clock from Benchmark.js. `--json` prints one JSON object as the
// last line of stdout (progress goes to stderr).
import { writeFileAtomic } from '../io/node-write.js';
import { acquireGpu, describeAdapter, type Gpu } from '../gpu/device.js';
import { fmtBytes, type DType } from '../gpu/tensor.js';
import { ceilingDrift, ceilingDriftNote, ceilingProbe, ceilingShares, ceilingSpreadNote, deviceCeiling, wideSpreads, fmaCeilingPlan, formatCeiling, formatShare, measureCeilingDetailed, UNDER_MEASURED, type Ceiling, type CeilingReading, type RoofSpread, WIDE_SPREAD } from '../profile/ceiling.js';
import { median, profilePlan, type ProfileRun } from '../profile/profiler.js';
import { ceilingKey, lastCeiling, recordCeiling } from './bench-ceiling-history.js';
import { chromeTrace, formatKernelTable, formatLayerTable, kernelTable, layerTable, timedFigures, type KernelRow, type NamedRun, type TimedFigures } from '../profile/report.js';
import { wallClock, type WallStats } from '../profile/wallclock.js';
import { assertCheck, attentionWorkload, blockWorkload, checkWorkloadFits, convWorkload, gemmWorkload, layernormWorkload, workloadTensors, WrongResultError, type Check, type Workload, type WorkloadName } from '../profile/workloads.js';
import { checkSeedFlag, givenFlags, helpText, UsageError, type FlagSpec, type Parsed } from './args.js';
import { closestNames, meantText } from '../closest-name.js';
import { isQuiet, plural } from './progress.js';
import { GEMM_CANDIDATES, GEMM_COMPILED_K, gemmCandidatesFor, gemmHeuristic, gemmKcOk, gemmVariant, type GemmCandidate } from '../ops/gemm.js';
import { ATTENTION_CANDIDATES, ATTENTION_MAX_HEAD_DIM, attentionHeadDimOk, attentionHeuristic, attentionStrategiesFor, attentionVariant, rowsDhOk, type AttentionCandidate, type AttentionStrategy } from '../ops/attention.js';
import { convKernel } from '../ops/conv.js';
import { MODEL_FLAGS, parseModelSizes, printModelResult, runModelBench } from './bench-model.js';
import { checkVaeFlags, printVaeResult, runVaeBench, VAE_FLAGS } from './bench-vae.js';
import { kernelsAt, useKernelsAt } from './bench-ref.js';
import { checkOutputPath, MAX_MEMORY_FLAG } from './outputs.js';
import { ropeAsUsage } from './errors.js';
import { tuneKey, tuneMode, tunePlan } from '../gpu/tune.js';
import { ShaderError } from '../gpu/shader.js';
import { PLAN_FLAG_SPECS, PLAN_FLAGS, printPlanResult, runPlanBench } from './bench-plan.js';
import type { Command } from './main.js';

export const BENCH_SUBCOMMANDS = ['ceiling', 'gemm', 'attention', 'layernorm', 'conv', 'block', 'suite', 'model', 'vae', 'plan'] as const;
type Sub = (typeof BENCH_SUBCOMMANDS)[number];

const size = (help: string, arg: string): FlagSpec => ({ type: 'int', help, arg });
/** The head dims with a compiled-in-head-dim attention variant (tuner candidate rows-dh). */
const ROWS_DH_HEAD_DIMS = Array.from({ length: 257 }, (_, i) => 4 * i).filter(rowsDhOk);

/** Flags that belong to one subcommand: required and optional ones (the rest are common). */
const SUB_FLAGS: Record<Sub, { required: string[]; optional: string[] }> = {
  ceiling: { required: [], optional: [] },
  gemm: { required: ['m', 'k', 'n'], optional: ['tile', 'variants'] },
  attention: { required: ['heads', 'tokens', 'head-dim'], optional: ['kv-tokens', 'batch', 'tile', 'variants'] },
  layernorm: { required: ['rows', 'cols'], optional: [] },
  conv: { required: ['height', 'width', 'in-channels', 'out-channels'], optional: ['kernel', 'tile', 'variants'] },
  block: { required: ['hidden', 'heads', 'tokens'], optional: ['mlp-ratio', 'variants'] },
  model: { required: [], optional: Object.keys(MODEL_FLAGS) },
  suite: { required: [], optional: ['quick'] },
  vae: { required: [], optional: [...Object.keys(VAE_FLAGS), 'variant', 'frames', 'height', 'width', 'batch', 'seed', 'max-memory'] },
  plan: { required: [], optional: PLAN_FLAGS },
};
const SPECIFIC = new Set(Object.values(SUB_FLAGS).flatMap((s) => [...s.required, ...s.optional]));

/** What each benchmark does: the first line of `bench SUB --help`. */
const SUB_SUMMARY: Record<Sub, string> = {
  ceiling: `the device's FMA throughput (f32, and f16 where the adapter has it) and copy bandwidth: the roofs the other benchmarks' shares are of, each its best repeat with the spread of the repeats (min, median, max); a 'spread:' line naming every roof whose fastest repeat is above ${WIDE_SPREAD}× its slowest, and a 'between runs:' line naming every roof more than ${WIDE_SPREAD}× from the last reading on this adapter (kept in $XDG_CACHE_HOME/tessera/ceiling.json, else ~/.cache/tessera): either means a busy device, and the other benchmarks' % ceiling shares are unreliable; --json: wide_spread, last_run, between_runs, busy`,
  gemm: 'one GEMM x[M,K] · W[N,K]ᵀ + b, checked against float64, then timed (GPU timestamps)',
  attention: 'one attention (the flash kernel or a strategy), checked against float64, then timed',
  layernorm: 'one LayerNorm over rows×cols, checked against float64, then timed',
  conv: "one of the VAE's convolutions (causal 3×3×3 by default), checked against float64, then timed",
  block: 'one DiT transformer block (attention + MLP, adaLN), checked, then timed kernel by kernel',
  model: "one denoising step of a whole transformer (a preset with seeded random weights made on the GPU, or a folder), checked, then timed kernel by kernel. The check (finite, bit-identical rerun, batch item 0 vs alone: 3 forwards) runs at the timed latent capped at 2 frames × 16 × 16, the timed forwards' output is checked finite at full size; the report says which of the timed step's kernel variants the check ran, and the seconds of weights, check, recording, tuning, compiling and the timed forwards apart (a full-size timing: --repeats 1 --warmup 0)",
  suite: 'the default benchmark suite (gemm, layernorm and attention at DiT-S/DiT-XL sizes), each checked against float64 before timing',
  vae: 'VAE decodes of random latents (a preset with seeded random weights, or a folder), checked (finite, a bit-identical rerun, 2 row bands vs 1: no float64 reference), then timed by wall clock (median_ms per decode; no GFLOP/s or ceiling share)',
  plan: 'the memory plan of one denoising step, f16 and f32 (a dry run: no GPU, no weights; with --model only config.json is read)',
};

/** The common flags each benchmark takes (`--json` all of them): only the timed ones repeat, warm up, trace or measure wall time and the ceiling. */
const TIMED = ['dtype', 'repeats', 'warmup', 'trace', 'no-wall', 'no-ceiling'];
const SUB_COMMON: Record<Sub, string[]> = {
  ceiling: ['repeats', 'warmup', 'trace'],
  gemm: TIMED,
  attention: TIMED,
  layernorm: TIMED,
  conv: TIMED,
  block: TIMED,
  model: TIMED,
  suite: TIMED,
  vae: ['dtype', 'repeats'],
  plan: [],
};

/** Help lines of flags shared by several benchmarks, as each one reads them (the generic line names them all). */
const SUB_FLAG_HELP: Partial<Record<Sub, Record<string, string>>> = {
  gemm: {
    tile: 'override tile knobs, e.g. TM=4,TN=2',
    variants: "time several variants in one process, round-robin, each checked first: 'all' (every strategy and tuner candidate; subgroup-sr16-k/-sr32-k only at a K with a compiled-in-K variant) or ';'-separated entries: default, a strategy (tiled-128, subgroup-sr32, …) or tile knobs K=V,…; ENTRY@REV: that entry with git revision REV's kernel sources (e.g. 'default@HEAD;default')",
  },
  attention: {
    batch: 'batch items (default 1)',
    heads: 'heads',
    tokens: 'query tokens',
    tile: 'override tile knobs K=V,…',
    variants: `time several variants in one process, round-robin, each checked first: 'all' (every strategy and tuner candidate; rows-dh only at a head dim with a compiled-in variant, ${ROWS_DH_HEAD_DIMS.join(', ')}) or ';'-separated entries: default, a strategy or tuner candidate (${ATTENTION_CANDIDATES.join(', ')}) or tile knobs K=V,…; ENTRY@REV: that entry with git revision REV's kernel sources (e.g. 'default@HEAD;default')`,
  },
  block: {
    heads: 'heads',
    tokens: 'tokens',
    variants: "time this checkout's kernels against a git revision's, round-robin, each checked first: 'default@HEAD;default' (';'-separated default and default@REV entries); each set of kernel sources is tuned afresh (entries with identical sources run one set of choices), each side's kernels are listed and differing choices named",
  },
  conv: {
    height: 'output rows (pixels)',
    width: 'output columns (pixels)',
    tile: 'override the tile knob: PX=4 or PX=8',
    variants: "time several knob sets in one process, round-robin, each checked first: ';'-separated entries, default or PX=4, PX=8; ENTRY@REV: that entry with git revision REV's kernel sources (e.g. 'default@HEAD;default')",
  },
  model: {
    frames: "latent frames (default: the preset's; 1 with --model)",
    height: "latent height (default: the preset's; required with --model)",
    width: "latent width (default: the preset's; required with --model)",
    seed: 'seed of the random weights and inputs (default 0)',
    variant: "with --model, the weight variant (e.g. fp16), as diffusers' variant=: diffusion_pytorch_model.NAME.safetensors",
  },
  vae: {
    frames: 'latent frames (default 2; an AutoencoderKL decodes 4-D latents without it)',
    height: 'latent height (default 8 with --vae-preset; required with --vae)',
    width: 'latent width (default 8 with --vae-preset; required with --vae)',
    batch: 'latents batch items (default 1)',
    seed: 'seed of the random weights and latents (default 0)',
    variant: "with --vae, the weight variant (e.g. fp16), as diffusers' variant=: diffusion_pytorch_model.NAME.safetensors",
    'max-memory': `${MAX_MEMORY_FLAG.help}, as tessera decode's`,
  },
  plan: {
    preset: 'a named architecture (its config and latent size)',
    model: 'a diffusers transformer folder; only its config.json is read',
    frames: "latent frames (default: the preset's; 1 with --model)",
    height: "latent height (default: the preset's; required with --model)",
    width: "latent width (default: the preset's; required with --model)",
    'text-len': "text tokens for Wan/Latte (default: the preset's, else 32)",
    batch: 'batch items of the step: 2 is the classifier-free-guidance batch (default 2)',
  },
};

const MAX_DIM = 1 << 20;

/** The flags of one benchmark (the common ones aside): its own, then --json and the common benchmark flags it takes. */
const subFlagNames = (sub: Sub): string[] => [...SUB_FLAGS[sub].required, ...SUB_FLAGS[sub].optional, 'json', ...SUB_COMMON[sub]];

export interface BenchResult extends TimedFigures {
  bench: Sub;
  label: string;
  args: Record<string, number | string>;
  dtype: DType;
  adapter: string;
  timing: ProfileRun['timing'];
  kernels: string[];
  check: { rows: number; total_rows: number; elements: number; max_abs_err: number; atol: number; rtol: number };
  wall: WallStats | null;
  peak_bytes: number;
  /** Per-kernel table (GPU timestamps), for workloads of more than one dispatch. */
  per_kernel?: KernelRow[];
}

function parseTile(s: string | undefined): Record<string, number> | undefined {
  if (s === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const part of s.split(',').filter(Boolean)) {
    const m = /^([A-Za-z_]\w*)=(\d+)$/.exec(part.trim());
    if (!m) throw new UsageError(`--tile must look like KEY=INT[,KEY=INT...] (e.g. TM=4,TN=2), got "${s}"`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

function intFlag(p: Parsed, name: string, min: number, max: number): number {
  const v = p[name] as number;
  if (v < min || v > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${v}`);
  return v;
}

/** Checks which flags apply to `sub` and that the required ones are there. */
function checkSubFlags(sub: Sub, p: Parsed): void {
  const s = SUB_FLAGS[sub];
  for (const name of SPECIFIC) {
    if (p[name] !== undefined && !s.required.includes(name) && !s.optional.includes(name)) {
      const owners = BENCH_SUBCOMMANDS.filter((x) => SUB_FLAGS[x].required.includes(name) || SUB_FLAGS[x].optional.includes(name));
      throw new UsageError(`tessera bench ${sub}: --${name} does not apply (it is a flag of bench ${owners.join('/')})`);
    }
  }
  // the common flags a benchmark does not use (they have defaults, so only what was typed counts); --trace has its own message below
  for (const name of givenFlags(p)) {
    if (TIMED.includes(name) && name !== 'trace' && !SUB_COMMON[sub].includes(name)) {
      throw new UsageError(`tessera bench ${sub}: --${name} does not apply (bench ${sub} takes ${['json', ...SUB_COMMON[sub]].map((f) => `--${f}`).join(', ')} of the common flags)`);
    }
  }
  const missing = s.required.filter((n) => p[n] === undefined);
  if (missing.length) throw new UsageError(`tessera bench ${sub}: missing ${missing.map((n) => `--${n}`).join(', ')} (usage: tessera bench ${sub} ${s.required.map((n) => `--${n} N`).join(' ')})`);
}

interface Common {
  json: boolean;
  dtype: DType;
  repeats: number;
  warmup: number;
  trace?: string;
  wall: boolean;
  ceiling: boolean;
}

/** What is being checked or timed: stderr with --json, else stdout; nothing with --quiet (the results still print). */
const log = (c: Common, msg: string) => (isQuiet() ? undefined : c.json ? console.error(msg) : console.log(msg));

/**
 * Validate, then time with GPU timestamps (and Benchmark.js wall clock), then summarize. With a
 * ceiling, the ceiling kernels run again before and between the timed repeats (ceilingProbe) and
 * the shares are taken against the best of all their runs: both timed under the same load.
 */
async function benchWorkload(gpu: Gpu, w: Workload, bench: Sub, args: Record<string, number | string>, c: Common, base: Ceiling | undefined): Promise<{ result: BenchResult; run: ProfileRun }> {
  const probe = base ? await ceilingProbe(gpu, base) : null;
  try {
    // The check runs the plan once (it also warms the pipelines) and must pass before timing.
    const check: Check = await w.check();
    assertCheck(w.label, check);
    await probe?.round();
    const run = await profilePlan(w.plan, { repeats: c.repeats, warmup: c.warmup, ...(probe ? { between: () => probe.round() } : {}) });
    const ceiling = probe?.ceiling();
    const wall = c.wall ? await wallClock(w.plan, { minSamples: Math.min(Math.max(3, c.repeats), 20), maxTimeS: 0.5, name: w.label }) : null;
    const work = { flops: w.plan.dispatches.reduce((a, d) => a + d.flops, 0), bytes: w.plan.dispatches.reduce((a, d) => a + d.bytes, 0) };
    const result: BenchResult = {
      bench,
      label: w.label,
      args,
      dtype: w.dtype,
      adapter: describeAdapter(gpu),
      timing: run.timing,
      kernels: [...new Set(w.plan.dispatches.map((d) => d.kernel))],
      ...timedFigures(run, work, ceiling),
      check: { rows: check.rows, total_rows: check.totalRows, elements: check.elements, max_abs_err: check.maxAbsErr, atol: check.tol.atol, rtol: check.tol.rtol },
      wall,
      peak_bytes: run.peakBytes,
      ...(w.plan.dispatches.length > 1 ? { per_kernel: kernelTable(run, ceiling) } : {}),
    };
    return { result, run };
  } finally {
    w.destroy();
    probe?.destroy();
  }
}

/** A share for a table cell: above 100 % starred (the table's footnote: UNDER_MEASURED). */
const pctStr = (v: number | null) => formatShare(v, true);
const footnote = (shares: (number | null)[]) => (shares.some((v) => (v ?? 0) > 1) ? [`* above 100 %: ${UNDER_MEASURED}`] : []);

function printResult(c: Common, r: BenchResult, run: ProfileRun, ceiling: Ceiling | undefined): void {
  if (c.json) return;
  console.log(`${r.label}  [${r.timing}, ${plural(r.repeats, 'repeat')} after ${r.warmup} warm-up, checked ${r.check.rows}/${r.check.total_rows} rows, max |err| ${r.check.max_abs_err.toExponential(2)}]`);
  console.log(
    `  median ${r.median_ms.toFixed(3)} ms (min ${r.min_ms.toFixed(3)}, max ${r.max_ms.toFixed(3)})  ${r.gflops.toFixed(2)} GFLOP/s  ${r.gbps.toFixed(2)} GB/s  ` +
      `ceiling ${formatShare(r.ceiling_share)} (FMA ${pctStr(r.compute_share)}, BW ${pctStr(r.bandwidth_share)}${r.ceiling_used ? ` of ${r.ceiling_used.fma_gflops.toFixed(2)} GFLOP/s, ${r.ceiling_used.copy_gbps.toFixed(2)} GB/s` : ''})  peak ${fmtBytes(r.peak_bytes)}`,
  );
  if (r.wall) console.log(`  wall clock (Benchmark.js, submit→done): ${r.wall.mean_ms.toFixed(3)} ms ±${r.wall.rme_pct.toFixed(1)}% over ${r.wall.samples} samples`);
  if (run.dispatches.length > 1) {
    // the per-kernel shares of the result: against the ceiling re-timed between the repeats
    console.log(formatKernelTable(r.per_kernel ?? kernelTable(run, ceiling), { ceilingColumns: ceiling !== undefined }).replace(/^/gm, '  '));
    console.log('');
    console.log(formatLayerTable(layerTable(run)).replace(/^/gm, '  '));
  }
}

/** Writes --trace atomically (temp + rename, removed on failure or interrupt, as every CLI output). */
async function writeTrace(c: Common, runs: NamedRun[]): Promise<void> {
  if (!c.trace || runs.length === 0) return;
  await writeFileAtomic(c.trace, new TextEncoder().encode(JSON.stringify(chromeTrace(runs))));
  log(c, `wrote ${c.trace} (a Chrome trace: open it at https://ui.perfetto.dev or chrome://tracing)`);
}

async function getCeiling(gpu: Gpu, c: Common): Promise<Ceiling | undefined> {
  if (!c.ceiling) return undefined;
  if (!c.json) console.log('measuring the device ceiling (FMA and copy kernels)…');
  const ceiling = await deviceCeiling(gpu, { repeats: 3, warmup: 1, targetMs: 30 });
  // a wide spread within this measurement, or a roof far from the last run's on this adapter: the shares below say less
  for (const line of await ceilingNotes(gpu, ceiling)) log(c, line);
  return ceiling;
}

/**
 * The lines said of a ceiling just measured: its spread when wide (ceilingSpreadNote, every roof above WIDE_SPREAD
 * named) and its move from the last run's reading on this adapter (ceilingDriftNote; bench-ceiling-history.ts), which
 * it then replaces as the last reading. Also the figures behind them, for --json.
 */
async function ceilingNotes(gpu: Gpu, ceiling: Ceiling): Promise<string[] & { last?: CeilingReading }> {
  const key = ceilingKey(gpu);
  const last = await lastCeiling(key);
  await recordCeiling(key, ceiling);
  const lines = [ceilingSpreadNote(ceiling.spread), ceilingDriftNote(ceiling, last)].filter((x): x is string => x !== undefined);
  return Object.assign(lines, last ? { last } : {});
}

interface Sizes {
  sub: Sub;
  args: Record<string, number | string>;
  tile?: Record<string, number>;
}

/** conv's tile knobs are its kernel's overrides (PX, WG), at their declared values. */
function checkConvTile(tile: Record<string, number>, where: string): void {
  for (const [k, v] of Object.entries(tile)) {
    const allowed = convKernel.overrides[k];
    if (!allowed) throw new UsageError(`${where}: bench conv has no tile knob ${k} (knobs: ${Object.entries(convKernel.overrides).map(([n, vs]) => `${n}=${vs.join('|')}`).join(', ')})`);
    if (!allowed.includes(v)) throw new UsageError(`${where}: bench conv knob ${k}=${v} is not a declared value (${k}=${allowed.join('|')})`);
  }
}

/**
 * Tile knobs the op would refuse at record time, as a UsageError naming `where` (the flag), before
 * the ceiling is measured. Needs the adapter: the subgroup kernels and workgroup memory depend on it.
 */
function checkTile(gpu: Gpu, s: Sizes, dtype: DType, tile: Record<string, number> | undefined, where: string): void {
  if (!tile) return;
  const a = s.args as Record<string, number>;
  try {
    if (s.sub === 'gemm') gemmVariant(gpu, { M: a.m!, N: a.n!, K: a.k!, dtype, tile });
    else if (s.sub === 'attention') attentionVariant(gpu, { lq: a.tokens!, dtype, tile, headDim: a.head_dim! });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${where}: ${(e as Error).message}`);
  }
}

/** The flag of a workload option (kvTokens → --kv-tokens; conv's frames and ks come from --kernel). */
const flagOf = (option: string): string => (option === 'frames' || option === 'ks' ? '--kernel' : `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);

/**
 * A workload whose tensors cannot be bound on this adapter, refused before any data is generated or uploaded:
 * the library workloads' own check (checkWorkloadFits), naming the flags.
 */
function checkFits(gpu: Gpu, s: Sizes, dtype: DType): void {
  const w = workloadArgs(s, dtype);
  if (w) checkWorkloadFits(gpu, `bench ${s.sub}`, workloadTensors(w.name, w.args), dtype, flagOf);
}

/** Reads and range-checks the size flags of `sub` (before any GPU work). */
function parseSizes(sub: Sub, p: Parsed): Sizes {
  const tile = parseTile(p.tile as string | undefined);
  const withTile = tile ? { tile } : {};
  const tileArg: Record<string, string> = tile ? { tile: p.tile as string } : {};
  switch (sub) {
    case 'gemm': {
      const [m, k, n] = ['m', 'k', 'n'].map((f) => intFlag(p, f, 1, MAX_DIM)) as [number, number, number];
      return { sub, args: { m, k, n, ...tileArg }, ...withTile };
    }
    case 'attention': {
      const heads = intFlag(p, 'heads', 1, 1024);
      const tokens = intFlag(p, 'tokens', 1, MAX_DIM);
      const kvTokens = p['kv-tokens'] === undefined ? tokens : intFlag(p, 'kv-tokens', 1, MAX_DIM);
      const headDim = intFlag(p, 'head-dim', 1, 1024);
      if (!attentionHeadDimOk(headDim)) throw new UsageError(`--head-dim ${headDim} is not supported by the attention kernels (need a multiple of 4 from 8 to ${ATTENTION_MAX_HEAD_DIM})`);
      const batch = p.batch === undefined ? 1 : intFlag(p, 'batch', 1, 1024);
      return { sub, args: { batch, heads, tokens, kv_tokens: kvTokens, head_dim: headDim, ...tileArg }, ...withTile };
    }
    case 'layernorm': {
      const rows = intFlag(p, 'rows', 1, MAX_DIM * 16);
      const cols = intFlag(p, 'cols', 1, MAX_DIM);
      return { sub, args: { rows, cols } };
    }
    case 'conv': {
      const height = intFlag(p, 'height', 1, 1 << 14);
      const width = intFlag(p, 'width', 1, 1 << 14);
      const cin = intFlag(p, 'in-channels', 1, 4096);
      const cout = intFlag(p, 'out-channels', 1, 4096);
      if (tile) checkConvTile(tile, '--tile');
      return { sub, args: { height, width, in_channels: cin, out_channels: cout, kernel: (p.kernel as string | undefined) ?? '3x3x3', ...tileArg }, ...withTile };
    }
    case 'block': {
      const hidden = intFlag(p, 'hidden', 1, MAX_DIM);
      const heads = intFlag(p, 'heads', 1, 1024);
      const tokens = intFlag(p, 'tokens', 1, MAX_DIM);
      const ratio = p['mlp-ratio'] === undefined ? 4 : (p['mlp-ratio'] as number);
      if (!(ratio > 0 && ratio <= 64)) throw new UsageError(`--mlp-ratio must be in (0, 64], got ${ratio}`);
      if (hidden % heads !== 0) throw new UsageError(`--hidden ${hidden} must be a multiple of --heads ${heads}`);
      if (!attentionHeadDimOk(hidden / heads)) throw new UsageError(`--hidden ${hidden} / --heads ${heads} = head dim ${hidden / heads}, which the attention kernels do not support (need a multiple of 4 from 8 to ${ATTENTION_MAX_HEAD_DIM})`);
      return { sub, args: { hidden, heads, tokens, mlp_ratio: ratio } };
    }
    default:
      throw new Error(`no workload for bench ${sub}`);
  }
}

type WorkloadCall = { [N in WorkloadName]: { name: N; args: Parameters<(typeof WORKLOADS)[N]>[1] } }[WorkloadName];

const WORKLOADS = { gemm: gemmWorkload, attention: attentionWorkload, layernorm: layernormWorkload, conv: convWorkload, block: blockWorkload } as const;

/** The library workload and its arguments for bench `s.sub`'s flags (null for a bench without one). */
function workloadArgs(s: Sizes, dtype: DType, strategy?: GemmCandidate | AttentionCandidate): WorkloadCall | null {
  const a = s.args as Record<string, number>;
  const tile = s.tile ? { tile: s.tile } : {};
  switch (s.sub) {
    case 'gemm':
      return { name: 'gemm', args: { m: a.m!, k: a.k!, n: a.n!, dtype, ...tile, ...(strategy ? { strategy: strategy as GemmCandidate } : {}) } };
    case 'attention':
      return { name: 'attention', args: { batch: a.batch!, heads: a.heads!, tokens: a.tokens!, kvTokens: a.kv_tokens!, headDim: a.head_dim!, dtype, ...tile, ...(strategy ? { strategy: strategy as AttentionCandidate } : {}) } };
    case 'layernorm':
      return { name: 'layernorm', args: { rows: a.rows!, cols: a.cols!, dtype } };
    case 'conv': {
      const [frames, ks] = (s.args.kernel as string).split('x').map(Number) as [1 | 3, 1 | 3];
      return { name: 'conv', args: { height: a.height!, width: a.width!, inChannels: a.in_channels!, outChannels: a.out_channels!, frames, ks, dtype, ...tile } };
    }
    case 'block':
      return { name: 'block', args: { hidden: a.hidden!, heads: a.heads!, tokens: a.tokens!, mlpRatio: a.mlp_ratio!, dtype } };
    default:
      return null;
  }
}

function workloadFor(gpu: Gpu, s: Sizes, c: Common, strategy?: GemmCandidate | AttentionCandidate): Workload {
  const w = workloadArgs(s, c.dtype, strategy);
  if (!w) throw new Error(`no workload for bench ${s.sub}`);
  return (WORKLOADS[w.name] as (gpu: Gpu, a: WorkloadCall['args']) => Workload)(gpu, w.args);
}

/** The default suite: real model sizes (DiT-S D=384, DiT-XL D=1152) at token counts that finish on a CPU. */
export const SUITE: { sub: Sub; flags: Record<string, number> }[] = [
  { sub: 'gemm', flags: { m: 1024, k: 384, n: 384 } },
  { sub: 'gemm', flags: { m: 1024, k: 384, n: 1536 } },
  { sub: 'gemm', flags: { m: 1024, k: 1152, n: 1152 } },
  { sub: 'layernorm', flags: { rows: 4096, cols: 1152 } },
  { sub: 'attention', flags: { heads: 6, tokens: 1024, 'head-dim': 64 } },
  { sub: 'attention', flags: { heads: 16, tokens: 1024, 'head-dim': 72 } },
];

/**
 * `bench ceiling`: each roof is its best repeat (a ceiling is an upper bound: see timeOne in profile/ceiling.ts), printed
 * with the spread of its repeats (min, median, max; --json `spread`), one line when the spread is wide naming every roof
 * whose max/min is above WIDE_SPREAD (--json `wide_spread`), and one line naming every roof that moved by more than
 * WIDE_SPREAD from the last run's reading on this adapter (--json `last_run`, `between_runs`; kept in
 * $XDG_CACHE_HOME/tessera/ceiling.json). `busy`: either: the shares of this ceiling are unreliable.
 */
async function runCeiling(gpu: Gpu, c: Common): Promise<number> {
  if (!c.json && !isQuiet()) console.log('checking and timing the FMA (f32' + (gpu.f16 ? ', f16' : '') + ') and copy kernels…');
  const { ceiling, runs } = await measureCeilingDetailed(gpu, { repeats: c.repeats, warmup: c.warmup });
  await writeTrace(c, runs);
  const spread = ceiling.spread!;
  const notes = await ceilingNotes(gpu, ceiling);
  const wide = wideSpreads(spread);
  const drift = notes.last ? ceilingDrift(ceiling, notes.last) : [];
  const out = {
    fma_gflops: ceiling.fma_gflops,
    ...(ceiling.fma_f16_gflops !== undefined ? { fma_f16_gflops: ceiling.fma_f16_gflops } : {}),
    copy_gbps: ceiling.copy_gbps,
    copy_best: ceiling.copy_best,
    adapter: ceiling.adapter,
    timing: ceiling.timing,
    roof: 'best repeat',
    spread,
    // every roof whose repeats spread above WIDE_SPREAD (max/min), and every roof that moved by more than that from the last run's reading
    wide_spread: wide,
    last_run: notes.last ?? null,
    between_runs: drift,
    busy: wide.length > 0 || drift.length > 0,
  };
  if (c.json) console.log(JSON.stringify(out));
  else {
    const of = (r: RoofSpread) => `(best of ${plural(r.repeats, 'repeat')}: min ${r.min.toFixed(2)}, median ${r.median.toFixed(2)}, max ${r.max.toFixed(2)})`;
    console.log(`adapter         ${out.adapter}`);
    console.log(`fma f32         ${out.fma_gflops.toFixed(2)} GFLOP/s ${of(spread.fma)}`);
    if (out.fma_f16_gflops !== undefined) console.log(`fma f16         ${out.fma_f16_gflops.toFixed(2)} GFLOP/s ${of(spread.fma_f16!)}`);
    console.log(`copy            ${out.copy_gbps.toFixed(2)} GB/s ${of(spread.copy)} (read + write; best copy: ${out.copy_best})`);
    console.log(`timing          ${out.timing}`);
    for (const line of notes) console.log(line);
  }
  return 0;
}

/** The suite's shapes at small token counts (a smoke test of the whole path, and for tests). */
export const QUICK_SUITE: { sub: Sub; flags: Record<string, number> }[] = [
  { sub: 'gemm', flags: { m: 64, k: 384, n: 384 } },
  { sub: 'layernorm', flags: { rows: 64, cols: 1152 } },
  { sub: 'attention', flags: { heads: 6, tokens: 64, 'head-dim': 64 } },
];

async function runSuite(gpu: Gpu, c: Common, quick: boolean): Promise<number> {
  const ceiling = await getCeiling(gpu, c);
  // each workload's shares are of the best of this and the ceiling kernels re-timed between its repeats (its ceiling_used)
  if (ceiling && !c.json) console.log(`ceiling measured first: ${formatCeiling(ceiling)} (each workload's shares are of the best of it and the ceiling kernels re-timed between that workload's repeats)`);
  const results: BenchResult[] = [];
  const failures: { label: string; error: string }[] = [];
  const runs: NamedRun[] = [];
  for (const item of quick ? QUICK_SUITE : SUITE) {
    const sizes = parseSizes(item.sub, { _: [], ...item.flags } as unknown as Parsed);
    const w = workloadFor(gpu, sizes, c);
    log(c, `… ${w.label}`);
    try {
      const { result, run } = await benchWorkload(gpu, w, item.sub, sizes.args, c, ceiling);
      printResult(c, result, run, ceiling);
      results.push(result);
      runs.push({ name: result.label, run });
    } catch (e) {
      // A wrong kernel gets no time, but the rest of the suite still runs; the exit code says it.
      if (!(e instanceof WrongResultError)) throw e;
      failures.push({ label: w.label, error: e.message });
      console.error(`tessera: error: ${e.name}: ${e.message}`);
    }
  }
  await writeTrace(c, runs);
  if (c.json) {
    // `ceiling`: the one measured first; each result's shares are of its own ceiling_used (see benchWorkload)
    console.log(JSON.stringify({ bench: 'suite', adapter: describeAdapter(gpu), dtype: c.dtype, date: new Date().toISOString(), ceiling: ceiling ?? null, ceiling_shares_of: 'each result\'s ceiling_used: the best of this ceiling and the ceiling kernels re-timed between its repeats', results, failures }));
  } else {
    console.log('');
    const head = ['workload', 'median ms', 'GFLOP/s', 'GB/s', '% ceiling'];
    const rows = results.map((r) => [r.label, r.median_ms.toFixed(3), r.gflops.toFixed(2), r.gbps.toFixed(2), pctStr(r.ceiling_share)]);
    for (const f of failures) rows.push([f.label, 'WRONG', '—', '—', '—']);
    const wd = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows]) console.log(r.map((x, i) => (i ? x.padStart(wd[i]!) : x.padEnd(wd[i]!))).join('  '));
    for (const l of footnote(results.map((r) => r.ceiling_share))) console.log(l);
  }
  return failures.length ? 1 : 0;
}

/** One entry of --variants: a GEMM or attention strategy name, or tile knobs K=V[,K=V…] ('default': the op's own choice). */
interface VariantSpec {
  name: string;
  /** `…@REV`: the kernels compiled from git revision REV's kernels/*.wgsl (src/cli/bench-ref.ts). */
  ref?: string;
  strategy?: GemmCandidate | AttentionCandidate;
  tile?: Record<string, number>;
}

/** What a compiled-in candidate of `--variants` is compiled for: gemm's K, attention's head dim. */
const variantDim = (s: Sizes | null): number | undefined => (s?.sub === 'gemm' ? (s.args.k as number) : s?.sub === 'attention' ? (s.args.head_dim as number) : undefined);

/** The tuner's candidates with K compiled in (subgroup-sr16-k, subgroup-sr32-k): a kernel of their own only at a K in GEMM_COMPILED_K. */
const isKCandidate = (s: string): boolean => s.endsWith('-k');

/** What an entry of bench `sub`'s --variants may be (its refusals name only these): gemm's strategies, attention's, conv's knobs. */
function variantEntries(sub: Sub): string {
  if (sub === 'gemm') return `default, a GEMM strategy (${GEMM_CANDIDATES.join(', ')}) or tile knobs K=V[,K=V…]`;
  if (sub === 'attention') return `default, an attention strategy (${ATTENTION_CANDIDATES.join(', ')}) or tile knobs K=V[,K=V…]`;
  return `default or tile knobs K=V[,K=V…] (${Object.entries(convKernel.overrides).map(([n, vs]) => `${n}=${vs.join('|')}`).join(', ')})`;
}

/**
 * Parses --variants: `all` (gemm, attention: every strategy and tuner candidate this adapter can
 * run; the compiled-in candidates only where `dim` has such a variant: gemm's -k ones at inner
 * dimension K = `dim`, attention's rows-dh at head dim `dim`; elsewhere they are their base
 * strategy, timed twice), or `;`-separated entries. A named compiled-in candidate at a `dim`
 * without its variant is a UsageError saying so. @throws UsageError
 */
export function parseVariants(sub: Sub, s: string, gpu: Gpu | null, dim?: number): VariantSpec[] {
  if (sub === 'block') {
    // The block has no knobs of its own: its variants are kernel sources (default@REV), each tuned afresh
    const out = s.split(';').map((e) => e.trim()).filter(Boolean).map((entry): VariantSpec => {
      const at = entry.lastIndexOf('@');
      const head = at >= 0 ? entry.slice(0, at) : entry;
      const ref = at >= 0 ? entry.slice(at + 1) : undefined;
      if (head !== 'default' || ref === '') throw new UsageError(`--variants: "${entry}": bench block takes default and default@REV entries (this checkout's kernels, or git revision REV's), e.g. 'default@HEAD;default'; strategies and tile knobs belong to bench gemm and attention`);
      return { name: entry, ...(ref ? { ref } : {}) };
    });
    if (out.length < 1) throw new UsageError("--variants needs at least one entry (bench block: default or default@REV, separated by ;)");
    return out;
  }
  if (s === 'all') {
    if (sub === 'attention') {
      const rowsDh: AttentionCandidate[] = dim === undefined || rowsDhOk(dim) ? ['rows-dh'] : [];
      return [...(gpu ? attentionStrategiesFor(gpu) : ATTENTION_CANDIDATES.filter((st) => st !== 'rows-dh')), ...rowsDh].map((st) => ({ name: st, strategy: st }));
    }
    if (sub !== 'gemm') throw new UsageError(`--variants all applies to bench gemm and attention; for bench ${sub} list tile knob sets, e.g. --variants '${sub === 'conv' ? 'PX=4;PX=8' : 'default;SG=0'}'`);
    return (gpu ? gemmCandidatesFor(gpu) : [...GEMM_CANDIDATES]).filter((st) => dim === undefined || !isKCandidate(st) || gemmKcOk(dim)).map((st) => ({ name: st, strategy: st }));
  }
  const out = s.split(';').map((e) => e.trim()).filter(Boolean).map((entry): VariantSpec => {
    // ENTRY@REV: the same entry with the kernel sources of git revision REV
    const at = entry.lastIndexOf('@');
    if (at >= 0) {
      const ref = entry.slice(at + 1);
      if (!ref) throw new UsageError(`--variants: "${entry}" names no revision after @ (e.g. default@HEAD)`);
      return { ...parseVariants(sub, entry.slice(0, at) || 'default', gpu, dim)[0]!, name: entry, ref };
    }
    const e = entry;
    if (e === 'default') return { name: 'default' };
    if ((GEMM_CANDIDATES as readonly string[]).includes(e)) {
      if (sub !== 'gemm') throw new UsageError(`--variants: ${e} is a GEMM strategy; bench ${sub} takes ${sub === 'attention' ? `an attention strategy (${ATTENTION_CANDIDATES.join(', ')}) or ` : ''}tile knobs K=V[,K=V…]`);
      if (dim !== undefined && isKCandidate(e) && !gemmKcOk(dim)) {
        throw new UsageError(`--variants: ${e} compiles K in, but --k ${dim} has no compiled-in-K variant (K ${GEMM_COMPILED_K.join(', ')}): it would run as ${e.slice(0, -2)}; name that instead`);
      }
      return { name: e, strategy: e as GemmCandidate };
    }
    if ((ATTENTION_CANDIDATES as readonly string[]).includes(e)) {
      if (sub !== 'attention') throw new UsageError(`--variants: ${e} is an attention strategy; bench ${sub} takes ${sub === 'gemm' ? `a GEMM strategy (${GEMM_CANDIDATES.join(', ')}) or ` : ''}tile knobs K=V[,K=V…]`);
      if (e === 'rows-dh' && dim !== undefined && !rowsDhOk(dim)) {
        throw new UsageError(`--variants: rows-dh compiles the head dim in, but --head-dim ${dim} has no compiled-in variant (head dims ${ROWS_DH_HEAD_DIMS.join(', ')}): it would run as rows; name that instead`);
      }
      // rows-dh is the rows kernel with the head dim compiled in: it runs wherever rows does
      const st = e === 'rows-dh' ? 'rows' : (e as AttentionStrategy);
      if (gpu && !attentionStrategiesFor(gpu).includes(st)) throw new UsageError(`--variants: attention strategy ${e} cannot run on this adapter (usable: ${attentionStrategiesFor(gpu).join(', ')})`);
      return { name: e, strategy: e as AttentionCandidate };
    }
    const tile = /^[A-Za-z_]\w*=/.test(e) ? parseTile(e) : undefined;
    if (!tile || !Object.keys(tile).length) {
      const named = sub === 'gemm' ? GEMM_CANDIDATES : sub === 'attention' ? ATTENTION_CANDIDATES : [];
      const near = meantText(closestNames(e, ['default', ...named]));
      throw new UsageError(`--variants: "${e}" is not an entry of bench ${sub}${near ? ` (did you mean ${near}?)` : ''}; it takes ${variantEntries(sub)}`);
    }
    if (sub === 'conv') checkConvTile(tile, `--variants "${e}"`);
    return { name: e, tile };
  });
  if (out.length < 1) throw new UsageError(`--variants needs at least one entry, separated by ; (bench ${sub}: ${sub === 'conv' ? '' : 'all, '}${variantEntries(sub)})`);
  return out;
}

interface VariantResult {
  variant: string;
  kernel: string;
  /** The kernel of each dispatch, in plan order (a block's tuned GEMM and attention choices among them). */
  kernels: string[];
  median_ms: number;
  min_ms: number;
  max_ms: number;
  gflops: number;
  ceiling_share: number | null;
  compute_share: number | null;
  /** median of the first variant / this one's (same process, round-robin). */
  speedup: number;
  /** This variant's min–max range over the rounds overlaps the first one's: the speed-up is within the run-to-run spread. Null for the first variant and with one round (no spread). */
  within_noise: boolean | null;
  check: { rows: number; max_abs_err: number };
}

/**
 * Whether a speed-up is within the run-to-run spread: the two min–max ranges (ms) overlap, as the
 * browser profiler judges a kernel edit. Null with fewer than 2 rounds (a range of one sample says nothing).
 */
export function withinNoise(base: { min_ms: number; max_ms: number }, v: { min_ms: number; max_ms: number }, rounds: number): boolean | null {
  if (rounds < 2) return null;
  return v.min_ms <= base.max_ms && base.min_ms <= v.max_ms;
}

/**
 * The dispatches where variants that ask for the same kernels (the same strategy and tile knobs,
 * differing only in @REV) ran different kernels: the tuner chose differently for them, so their
 * speed-up compares those choices, not only the kernel sources. Plans of different lengths are compared by index up to the shorter.
 */
export function kernelDifferences(vs: { variant: string; strategy?: string; tile?: Record<string, number>; kernels: string[]; layers: string[] }[]): { dispatch: number; layer: string; kernels: Record<string, string> }[] {
  const out: { dispatch: number; layer: string; kernels: Record<string, string> }[] = [];
  const groups = new Map<string, typeof vs>();
  for (const v of vs) {
    const key = JSON.stringify([v.strategy ?? null, v.tile ?? null]);
    groups.set(key, [...(groups.get(key) ?? []), v]);
  }
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    const n = Math.min(...g.map((v) => v.kernels.length));
    for (let i = 0; i < n; i++) {
      if (g.every((v) => v.kernels[i] === g[0]!.kernels[i])) continue;
      out.push({ dispatch: i, layer: g[0]!.layers[i] ?? '', kernels: Object.fromEntries(g.map((v) => [v.variant, v.kernels[i]!])) });
    }
  }
  return out;
}

/** A plan's kernels in one line, each once with its count: `gemm_tiled[BIAS] ×4, attention[SG], norm ×2`. */
const kernelSummary = (kernels: readonly string[]): string =>
  [...kernels.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>())].map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(', ');

/** What identifies a variant's kernel sources: the sources of `ref` that differ from this checkout ('' for none: this checkout's). */
function sourcesKey(ref: string | undefined): string {
  if (!ref) return '';
  return [...kernelsAt(ref)].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, src]) => `${n}\0${src}`).join('\0\0');
}

/** Applies tuned choices (tuning-cache key → candidate) to a plan's pending tuned dispatches, as tunePlan re-records them. */
function applyTunedChoices(gpu: Gpu, plan: Workload['plan'], choices: ReadonlyMap<string, string>): void {
  for (const site of plan.takeTunables()) {
    const choice = choices.get(tuneKey(gpu, site.family, site.bucket));
    if (choice !== undefined && choice !== site.chosen && site.candidates.includes(choice)) plan.replace(site.index, site.args(choice), choice);
  }
}

/**
 * `--variants`: every variant checked against the float64 reference first (a wrong one is
 * reported, never timed), then timed interleaved (one GPU-timestamped run each per round, c.repeats
 * rounds, the order reversed every other round: A B B A …) so load drift hits all alike; medians,
 * speed-ups as ratios of medians within this one run, and each one's share of the device ceiling
 * measured in the same rounds. `ENTRY@REV` entries compile git revision REV's kernel sources (an
 * A/B of kernel edits in one process). Replaces the scripts/*-ab.ts A/B scripts (gemm, attention, fused, conv).
 */
async function runVariants(gpu: Gpu, sizes: Sizes, specs: VariantSpec[], c: Common): Promise<number> {
  // The f32 FMA ceiling kernel runs in the same round-robin (one more entry), so each variant's
  // share of it is a ratio of medians taken under the same load (the machine may be shared).
  for (const spec of specs) checkTile(gpu, sizes, c.dtype, spec.tile, `--variants "${spec.name}"`);
  if (c.ceiling) log(c, '… checking and sizing the f32 FMA ceiling kernel');
  const fma = c.ceiling ? await fmaCeilingPlan(gpu, 40) : null;
  const fmaMs: number[] = [];
  const ws: { spec: VariantSpec; w: Workload; check: Check }[] = [];
  const wrong: { variant: string; error: string }[] = [];
  // a block's tuned choices per kernel sources: variants with identical sources (e.g. default@HEAD
  // when HEAD's kernels are this checkout's) run the same choices, so their A/B times only the sources
  const tunedBySources = new Map<string, { name: string; choices: Map<string, string> }>();
  try {
    for (const spec of specs) {
      // @REV: record and check (which compiles) with REV's kernel sources, then put this checkout's back; the plan keeps its pipelines
      const at = spec.ref ? useKernelsAt(gpu, spec.ref) : null;
      if (at) log(c, `… ${spec.name}: kernels differing from this checkout at ${spec.ref}: ${at.changed.join(', ') || 'none'}`);
      let w: Workload | undefined;
      try {
        w = workloadFor(gpu, { ...sizes, ...(spec.tile ? { tile: spec.tile } : {}) }, c, spec.strategy);
        // A block's GEMMs and attention are tuned afresh for each variant's kernel sources (while REV's
        // are in place), for this plan only: the tuning cache keeps this checkout's choices.
        if (sizes.sub === 'block' && tuneMode(gpu) === 'auto') {
          const key = sourcesKey(spec.ref);
          const prior = tunedBySources.get(key);
          if (prior) {
            log(c, `… ${spec.name}: the same kernel sources as ${prior.name}, whose tuned choices it reuses`);
            applyTunedChoices(gpu, w.plan, prior.choices);
          } else {
            log(c, `… tuning ${spec.name}`);
            const reports = await tunePlan(w.plan, { force: true, save: false });
            tunedBySources.set(key, { name: spec.name, choices: new Map(reports.map((r) => [r.key, r.entry.choice])) });
          }
        }
        log(c, `… checking ${spec.name} (${w.plan.dispatches.map((d) => d.kernel).join(' + ')})`);
        const check = await w.check();
        assertCheck(`${w.label} ${spec.name}`, check);
        ws.push({ spec, w, check });
      } catch (e) {
        w?.destroy();
        // a kernel that does not compile: say which entry (several are compiled, maybe from another revision's sources)
        if (e instanceof ShaderError) throw new ShaderError(`--variants "${spec.name}"${spec.ref ? ` (kernel sources of ${spec.ref})` : ''}: ${e.message}`);
        if (!(e instanceof WrongResultError)) throw e;
        wrong.push({ variant: spec.name, error: e.message });
        console.error(`tessera: error: ${e.name}: ${e.message}`);
      } finally {
        at?.restore();
      }
    }
    for (let i = 0; i < c.warmup; i++) for (const v of ws) await profilePlan(v.w.plan, { repeats: 1, warmup: 0 });
    const samples = ws.map(() => [] as number[]);
    for (let r = 0; r < c.repeats; r++) {
      if (fma) fmaMs.push((await profilePlan(fma.plan, { repeats: 1, warmup: 0 })).totalMs);
      // A B … then … B A: every variant runs as often early as late in a round pair (load drift cancels)
      const order = ws.map((_, i) => (r % 2 ? ws.length - 1 - i : i));
      for (const i of order) samples[i]!.push((await profilePlan(ws[i]!.w.plan, { repeats: 1, warmup: 0 })).totalMs);
    }
    const base = ws.length ? median(samples[0]!) : NaN;
    const fmaGflops = fma ? fma.flops / (median(fmaMs) * 1e6) : null;
    const ceiling: Ceiling | undefined = fmaGflops ? { fma_gflops: fmaGflops, copy_gbps: NaN, adapter: describeAdapter(gpu), timing: 'gpu-timestamps' } : undefined;
    const results: VariantResult[] = ws.map((v, i) => {
      const med = median(samples[i]!);
      const flops = v.w.plan.dispatches.reduce((a, d) => a + d.flops, 0);
      const bytes = v.w.plan.dispatches.reduce((a, d) => a + d.bytes, 0);
      const sh = ceilingShares(ceiling, flops / (med * 1e6), bytes / (med * 1e6), false); // the f32 roof, as timedFigures
      const range = { min_ms: Math.min(...samples[i]!), max_ms: Math.max(...samples[i]!) };
      return {
        variant: v.spec.name,
        // a block's eight dispatches are listed below the table (kernelSummary)
        kernel: sizes.sub === 'block' ? `${v.w.plan.dispatches.length} dispatches` : v.w.plan.dispatches.map((d) => d.kernel).join(' + '),
        kernels: v.w.plan.dispatches.map((d) => d.kernel),
        median_ms: med,
        ...range,
        gflops: flops / (med * 1e6),
        ceiling_share: sh.share,
        compute_share: sh.compute,
        speedup: base / med,
        within_noise: i === 0 ? null : withinNoise({ min_ms: Math.min(...samples[0]!), max_ms: Math.max(...samples[0]!) }, range, c.repeats),
        check: { rows: v.check.rows, max_abs_err: v.check.maxAbsErr },
      };
    });
    const differ = kernelDifferences(ws.map((v, i) => ({ variant: v.spec.name, ...(v.spec.strategy ? { strategy: v.spec.strategy } : {}), ...(v.spec.tile ? { tile: v.spec.tile } : {}), kernels: results[i]!.kernels, layers: v.w.plan.dispatches.map((d) => d.layer ?? '') })));
    const label = ws[0]?.w.label ?? sizes.sub;
    const heuristic = sizes.sub === 'gemm' ? gemmHeuristic(gpu, sizes.args.m as number, sizes.args.n as number) : sizes.sub === 'attention' ? attentionHeuristic(gpu) : null;
    if (c.json) {
      console.log(JSON.stringify({ bench: sizes.sub, variants: true, label, args: sizes.args, dtype: c.dtype, adapter: describeAdapter(gpu), rounds: c.repeats, heuristic, fma_ceiling_gflops: fmaGflops, results, kernel_choices_differ: differ.length > 0, kernel_differences: differ, wrong }));
    } else {
      console.log(`${label}: ${plural(c.repeats, 'interleaved round')} (A B … B A) after ${c.warmup} warm-up${fmaGflops ? `; f32 FMA ceiling kernel in the same rounds: ${fmaGflops.toFixed(2)} GFLOP/s (median)` : ''}${heuristic ? `; heuristic: ${heuristic}` : ''}`);
      const head = ['variant', 'kernel', 'median ms', 'min ms', 'max ms', 'GFLOP/s', '% FMA ceiling', 'speed-up', 'check max |err|'];
      const rows = results.map((r) => [r.variant, r.kernel, r.median_ms.toFixed(2), r.min_ms.toFixed(2), r.max_ms.toFixed(2), r.gflops.toFixed(2), pctStr(r.compute_share), `×${r.speedup.toFixed(2)}${r.within_noise ? ' ~' : ''}`, r.check.max_abs_err.toExponential(1)]);
      for (const f of wrong) rows.push([f.variant, 'WRONG', '—', '—', '—', '—', '—', '—', '—']);
      const wd = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const r of [head, ...rows]) console.log(r.map((x, i) => (i > 1 ? x.padStart(wd[i]!) : x.padEnd(wd[i]!))).join('  '));
      for (const l of footnote(results.map((r) => r.compute_share))) console.log(l);
      if (results.some((r) => r.within_noise)) console.log(`~ its min–max range over the rounds overlaps ${results[0]!.variant}'s: no change beyond the run-to-run spread`);
      if (sizes.sub === 'block') for (const r of results) console.log(`kernels of ${r.variant}: ${kernelSummary(r.kernels)}`);
      const same = results.length > 1 ? kernelDifferences(results.map((r) => ({ variant: r.variant, kernels: r.kernels, layers: [] }))).length === 0 : false;
      if (differ.length) {
        console.log(`kernel choices differ (the speed-up compares these choices, not only the kernel sources): ${differ.map((d) => `${d.layer || `dispatch ${d.dispatch + 1}`}: ${Object.entries(d.kernels).map(([v, k]) => `${k} (${v})`).join(' vs ')}`).join('; ')}`);
      } else if (same) console.log('every variant ran the same kernels');
    }
    return wrong.length ? 1 : 0;
  } finally {
    for (const v of ws) v.w.destroy();
    fma?.destroy();
  }
}

export const benchCommand: Command = {
  spec: {
    name: 'bench',
    quiet: true,
    summary: 'validated benchmarks: ceiling, gemm, attention, layernorm, conv, block, model, vae, suite; plan (memory, no GPU)',
    usage:
      'tessera bench ceiling | gemm --m M --k K --n N | attention --heads H --tokens N [--kv-tokens M] --head-dim D | layernorm --rows R --cols C | conv --height H --width W --in-channels C --out-channels C [--kernel 3x3x3] | block --hidden D --heads H --tokens T [--mlp-ratio 4] | model --preset NAME | --model DIR [--variant NAME] [--frames F --height H --width W] | vae --vae-preset wan2.1|sd | --vae DIR [--variant NAME] [--frames F --height H --width W] [--batch B] [--seed N] [--max-memory SIZE] | suite [--quick] | plan --preset NAME | --model DIR [--frames F --height H --width W] [--text-len L] [--batch B] [--max-binding SIZE]   [--json] [--dtype f32|f16] [--repeats N] [--warmup N] [--trace FILE] [--no-wall] [--no-ceiling] [--tile K=V,...] [--variants LIST]   (vae takes only --json, --dtype and --repeats of these, plan only --json, ceiling --json, --repeats, --warmup and --trace; --tile gemm, attention and conv, --variants those and block; tessera bench BENCHMARK --help lists its flags)',
    positionals: [{ name: 'benchmark', choices: BENCH_SUBCOMMANDS, required: true }],
    // `bench gemm --zzz` is refused by `tessera bench gemm: …`, listing gemm's flags (as `bench gemm --help`), not every benchmark's
    subcommand: (pos) => (BENCH_SUBCOMMANDS.includes(pos[0] as Sub) ? { name: `bench ${pos[0]}`, flags: subFlagNames(pos[0] as Sub) } : undefined),
    flags: {
      m: size('gemm: rows of x (tokens)', 'M'),
      k: size('gemm: inner dimension', 'K'),
      n: size('gemm: output features', 'N'),
      heads: size('attention/block: heads', 'H'),
      tokens: size('attention/block: (query) tokens', 'N'),
      hidden: size('block: hidden size D', 'D'),
      'mlp-ratio': { type: 'number', help: 'block: MLP width / hidden (default 4)', arg: 'R' },
      'kv-tokens': size('attention: key/value tokens (default = --tokens)', 'M'),
      'head-dim': size('attention: head dimension', 'D'),
      batch: size('attention: batch items (default 1); vae: latent batch items (default 1); plan: batch items of the step (default 2: the classifier-free-guidance batch)', 'B'),
      rows: size('layernorm: rows', 'R'),
      cols: size('layernorm: columns (normalized dim)', 'C'),
      'in-channels': size('conv: input channels', 'C'),
      'out-channels': size('conv: output channels', 'C'),
      kernel: { type: 'choice', choices: ['3x3x3', '3x1x1', '1x3x3', '1x1x1'], help: "conv: frames×height×width of the kernel: 3x3x3 (default) the VAE's causal Conv3d over frames t−2..t, 3x1x1 its upsamplers' time_conv, 1x3x3 a Conv2d 3×3 (SD VAE), 1x1x1 a 1×1 shortcut", arg: 'KIND' },
      tile: { type: 'string', help: 'gemm/attention/conv: override tile knobs, e.g. TM=4,TN=2 (conv: PX=4|8)', arg: 'K=V,...' },
      variants: { type: 'string', help: "gemm/attention/conv/block: time several variants in one process, round-robin, each checked first: 'all' (gemm, attention: every strategy) or ';'-separated entries: default, a strategy (gemm: tiled-128, …; attention: rows, fa2, fa2-wg) or tile knobs K=V,… (conv: PX=4, PX=8); ENTRY@REV: that entry with the kernel sources of git revision REV (e.g. 'default@HEAD;default': an A/B of uncommitted kernel edits; bench block takes only these two forms, each set of kernel sources tuned afresh); a speed-up whose min–max range overlaps the first entry's is marked ~ (within the run-to-run spread)", arg: 'LIST' },
      json: { type: 'bool', help: "print one JSON object on the last line of stdout; a run refused or failed before it has a result prints nothing on stdout (the one 'tessera: error: …' line goes to stderr; exit 2 for a usage error, else 1), as every command's --json; suite and --variants still print the object when a kernel fails its check (its failures / wrong list it) and exit 1" },
      dtype: { type: 'choice', choices: ['f32', 'f16'], default: 'f32', help: 'storage dtype (f16 needs shader-f16)' },
      repeats: { type: 'int', default: 10, help: 'timed repeats (median, min, max over them)' },
      warmup: { type: 'int', default: 2, help: 'untimed runs before timing' },
      trace: { type: 'string', help: 'write a Chrome trace JSON (Perfetto): each dispatch of one timed repeat, the one whose time is closest to the median (args.median_ms: the dispatch\'s median over all repeats)', arg: 'FILE' },
      quick: { type: 'bool', help: 'suite: the same shapes at small token counts (smoke test)' },
      ...MODEL_FLAGS,
      ...VAE_FLAGS,
      ...PLAN_FLAG_SPECS,
      // model, plan and vae all take these (MODEL_FLAGS' help names model only); each benchmark's --help has its own line (SUB_FLAG_HELP)
      frames: { ...MODEL_FLAGS.frames!, help: "model/plan: latent frames (default: the preset's; 1 with --model); vae: latent frames (default 2; an AutoencoderKL decodes 4-D latents without it)" },
      seed: { ...MODEL_FLAGS.seed!, help: 'model: seed of the random weights and inputs; vae: of the random weights and latents (default 0)' },
      variant: { ...MODEL_FLAGS.variant!, help: "model/vae: with --model or --vae DIR, the folder's weight variant (e.g. fp16), as diffusers' variant=: diffusion_pytorch_model.NAME.safetensors" },
      'no-wall': { type: 'bool', help: 'skip the Benchmark.js wall-clock measurement' },
      'no-ceiling': { type: 'bool', help: 'skip measuring the device ceiling (ceiling_share becomes null)' },
    },
  },
  help(p) {
    const spec = benchCommand.spec;
    const sub = p._[0] as Sub | undefined;
    if (!sub || !BENCH_SUBCOMMANDS.includes(sub)) return `${helpText(spec)}\n\ntessera bench <benchmark> --help shows one benchmark's flags.`;
    // one benchmark: its own flags, then the common ones it uses
    const own = SUB_FLAGS[sub];
    const names = subFlagNames(sub);
    const flags = Object.fromEntries(
      names
        .map((n) => [n, spec.flags[n]!] as const)
        .map(([n, f]) => {
          const help = SUB_FLAG_HELP[sub]?.[n] ?? f.help.replace(new RegExp(`^[a-z/]*\\b${sub}\\b[a-z/]*: `), '');
          return [n, { ...f, help, ...(own.required.includes(n) ? { required: true } : {}) }];
        }),
    );
    const opt = (n: string) => `[--${n}${spec.flags[n]!.type === 'bool' ? '' : ` ${spec.flags[n]!.type === 'choice' && n === 'dtype' ? spec.flags[n]!.choices!.join('|') : (spec.flags[n]!.arg ?? 'N')}`}]`;
    const args =
      sub === 'model'
        ? ['--preset NAME | --model DIR [--variant NAME]', '[--frames F] [--height H] [--width W] [--text-len L] [--seed N] [--max-memory SIZE]']
        : sub === 'vae'
        ? ['--vae-preset wan2.1|sd | --vae DIR [--variant NAME]', '[--frames F] [--height H] [--width W] [--batch B] [--seed N] [--max-memory SIZE]']
        : sub === 'plan'
        ? ['--preset NAME | --model DIR', '[--frames F] [--height H] [--width W] [--text-len L] [--batch B] [--max-binding SIZE]']
        : [...own.required.map((n) => `--${n} ${spec.flags[n]!.arg ?? 'N'}`), ...own.optional.map(opt)];
    const usage = `tessera bench ${sub}${args.length ? ` ${args.join(' ')}` : ''} ${['json', ...SUB_COMMON[sub]].map(opt).join(' ')}`;
    return helpText({ ...spec, name: `bench ${sub}`, summary: SUB_SUMMARY[sub], flags, usage, positionals: [] });
  },
  async run(p) {
    const sub = p._[0] as Sub;
    checkSubFlags(sub, p);
    // model and vae seed their weights and inputs with it: the generator's 32 bits, as generate's and demo's --seed
    // (a seed outside them aliases one inside: −1 is 4294967295)
    checkSeedFlag(p);
    const c: Common = {
      json: !!p.json,
      dtype: p.dtype as DType,
      repeats: intFlag(p, 'repeats', 1, 10000),
      warmup: intFlag(p, 'warmup', 0, 1000),
      ...(p.trace !== undefined ? { trace: p.trace as string } : {}),
      wall: !p['no-wall'],
      ceiling: !p['no-ceiling'],
    };
    if (c.trace !== undefined) {
      // only the runs below write one: elsewhere a --trace would be silently ignored
      if (sub === 'plan' || sub === 'vae' || p.variants !== undefined) throw new UsageError(`--trace: ${p.variants !== undefined ? 'bench --variants' : `bench ${sub}`} writes no trace (bench ceiling, gemm, attention, layernorm, conv, block, model and suite do)`);
      // its folder, before the GPU work (the trace is written at the end)
      checkOutputPath('trace', c.trace);
    }
    if (sub === 'plan') {
      // memory planning: a dry run, no GPU
      // bench plan and model size their latent from flags (--frames/--height/--width, or a preset's own): a size past
      // Wan's rope_max_seq_len is the flags' problem, a UsageError naming them (errors.ts ropeAsUsage), as generate's
      let result: ReturnType<typeof runPlanBench>;
      try {
        result = runPlanBench(p);
      } catch (e) {
        throw ropeAsUsage(e);
      }
      if (c.json) console.log(JSON.stringify(result));
      else printPlanResult(result);
      return 0;
    }
    const sizes = sub === 'ceiling' || sub === 'suite' || sub === 'model' || sub === 'vae' ? null : parseSizes(sub, p);
    const modelSizes = sub === 'model' ? parseModelSizes(p) : null;
    if (sub === 'vae') checkVaeFlags(p);
    if (p.variants !== undefined) {
      if (p.tile !== undefined) throw new UsageError('give --tile or --variants, not both (a --variants entry can hold tile knobs)');
      // syntax and @REV revisions (git show) before any GPU work; what the adapter can run is checked once it is there
      for (const v of parseVariants(sub, p.variants as string, null, variantDim(sizes))) if (v.ref) kernelsAt(v.ref);
    }
    const gpu = await acquireGpu();
    try {
      if (c.dtype === 'f16' && !gpu.f16) {
        throw new UsageError(`--dtype f16 needs the adapter feature shader-f16, which ${describeAdapter(gpu)} lacks: use --dtype f32`);
      }
      if (sizes) checkFits(gpu, sizes, c.dtype);
      if (sub === 'ceiling') return await runCeiling(gpu, c);
      if (sub === 'suite') return await runSuite(gpu, c, !!p.quick);
      if (sub === 'vae') {
        const result = await runVaeBench(gpu, p, c);
        printVaeResult(result, c.json);
        if (c.json) console.log(JSON.stringify(result));
        return 0;
      }
      if (sub === 'model') {
        const { result, run } = await runModelBench(gpu, p, modelSizes!, c, () => getCeiling(gpu, c)).catch((e: unknown) => {
          throw ropeAsUsage(e); // as bench plan's (above)
        });
        printModelResult(c, result);
        await writeTrace(c, [{ name: result.label, run }]);
        if (c.json) console.log(JSON.stringify(result));
        return 0;
      }
      if (p.variants !== undefined) {
        const k = sizes!.args.k as number | undefined;
        const specs = parseVariants(sub, p.variants as string, gpu, variantDim(sizes));
        const left = sub === 'gemm' && p.variants === 'all' ? gemmCandidatesFor(gpu).filter((st) => !specs.some((v) => v.name === st)) : [];
        if (left.length) log(c, `… --variants all: ${left.join(', ')} left out: --k ${k} has no compiled-in-K variant (K ${GEMM_COMPILED_K.join(', ')}), where they run as ${left.map((st) => st.slice(0, -2)).join(', ')}`);
        if (sub === 'attention' && p.variants === 'all' && !specs.some((v) => v.name === 'rows-dh')) {
          log(c, `… --variants all: rows-dh left out: --head-dim ${sizes!.args.head_dim} has no compiled-in variant (head dims ${ROWS_DH_HEAD_DIMS.join(', ')}), where it runs as rows`);
        }
        return await runVariants(gpu, sizes!, specs, c);
      }
      checkTile(gpu, sizes!, c.dtype, sizes!.tile, `--tile ${p.tile as string}`);
      // recorded (buffers sized, kernels chosen) before the ceiling: a shape the adapter cannot hold fails first
      const w = workloadFor(gpu, sizes!, c);
      let ceiling: Ceiling | undefined;
      try {
        ceiling = await getCeiling(gpu, c);
      } catch (e) {
        w.destroy();
        throw e;
      }
      const { result, run } = await benchWorkload(gpu, w, sub, sizes!.args, c, ceiling);
      printResult(c, result, run, ceiling);
      await writeTrace(c, [{ name: result.label, run }]);
      if (c.json) console.log(JSON.stringify(result));
      return 0;
    } finally {
      gpu.destroy();
    }
  },
};
