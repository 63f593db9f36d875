// `tessera tune`: run the autotuner ahead of time (src/gpu/tune.ts) and print its choices.
// Without --preset: the GEMM shapes of the benchmark suite and of the models' layers (DiT-S/XL,
// Wan-1.3B widths; modulation/timestep rows). With --preset: one forward of that model with
// seeded random weights at its latent size, which tunes every op of its plan. Choices are cached
// per adapter, on lavapipe per llvmpipe thread count ($XDG_CACHE_HOME/tessera/tune.json); later runs
// use them; --force re-times.
import { acquireGpu, describeAdapter, type Gpu } from '../gpu/device.js';
import { Plan } from '../gpu/plan.js';
import { Allocator, fmtBytes, storageBytes, type DType } from '../gpu/tensor.js';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { cachedChoices, loadTuneCache, saveTuneCacheOrThrow, setTuneMode, TUNE_MARGIN, TUNE_ROUNDS, tuneAdapterKey, tunePlan, tuneRoundsProblem, tuneStoreWhere, type TuneEntry, type TuneReport } from '../gpu/tune.js';
import { tuneCachePath } from '../gpu/tune-store-node.js';
import { parseConfig } from '../model/config.js';
import { bindingLimit } from '../model/memory.js';
import { getPreset, loadRandomModel, presetNames } from '../model/presets.js';
import { describeGemmStrategy, gemm, type GemmStrategy } from '../ops/gemm.js';
import { stepInputs, type ModelLatent } from '../profile/model-bench.js';
import { intInRange, UsageError, type Parsed } from './args.js';
import { checkDitFrames, checkLatentPatch } from './bench-plan.js';
import { checkRopeGrid } from '../model/wan.js';
import { ropeAsUsage } from './errors.js';
import { unwritableDir } from './outputs.js';
import { isQuiet } from './progress.js';
import type { Command } from './main.js';

/** [M, K, N]: suite shapes, then model layers (DiT-S 384/1536, DiT-XL 1152/4608, Wan-1.3B 1536/8960, modulation, timestep). */
export const TUNE_GEMM_SHAPES: [number, number, number][] = [
  [1024, 384, 384], [1024, 384, 1536], [1024, 1536, 384], [4096, 1152, 1152], [1024, 1152, 4608], [1024, 4608, 1152],
  [4096, 1536, 1536], [4096, 1536, 8960], [4096, 8960, 1536], [512, 4096, 1536],
  [2, 1536, 9216], [2, 256, 1536], [2, 1152, 6912], [16, 384, 1536], [64, 1152, 1152],
];

/**
 * The most FLOPs (2·M·K·N) a default-list shape may take on a CPU adapter (lavapipe): past it one run takes seconds
 * there, and the race times each of its 4 candidates 4 to 10 times (plus a check run each). Plain `tessera tune` took
 * 700 s for its 13 shapes on lavapipe at load 17–22 (4096×1152×1152: 89 s, 1.07 s a run), the four shapes of 10 GFLOP or
 * more nearly all of it; under this cap the rest finish in a minute or two. --shapes (or --shapes all) tunes them.
 */
export const CPU_TUNE_MAX_FLOPS = 2 ** 31;

/**
 * --shapes: `all` (the whole list, on a CPU adapter too) or GEMM shapes M×K×N (or MxKxN) separated by commas.
 * @throws UsageError naming the flag and the item it cannot read.
 */
export function parseTuneShapes(text: string): [number, number, number][] | 'all' {
  if (text.trim() === 'all') return 'all';
  return text.split(',').map((item) => {
    const m = /^\s*(\d+)\s*[x×]\s*(\d+)\s*[x×]\s*(\d+)\s*$/.exec(item);
    const dims = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
    if (!m || dims.some((d) => d < 1 || d > 2 ** 20)) throw new UsageError(`--shapes: "${item.trim()}" is not a GEMM shape M×K×N of integers from 1 to ${2 ** 20} (e.g. --shapes 1024×384×1536,4096x1152x1152, or --shapes all for the whole list)`);
    return dims as [number, number, number];
  });
}

const flops = ([M, K, N]: readonly number[]) => 2 * M! * K! * N!;

/**
 * Seconds left to tune shapes of `left` FLOPs, from the shapes `done` (their FLOPs and seconds): a fixed cost per
 * shape (compiles, check runs: the quickest shape's time) plus the rest in proportion to FLOPs; null before any.
 */
export function tuneEta(done: readonly { flops: number; s: number }[], left: readonly number[]): number | null {
  if (!done.length) return null;
  const fixed = Math.min(...done.map((d) => d.s));
  const perFlop = Math.max(0, done.reduce((a, d) => a + d.s - fixed, 0)) / done.reduce((a, d) => a + d.flops, 0);
  return Math.ceil(left.length * fixed + perFlop * left.reduce((a, f) => a + f, 0));
}

/**
 * The GEMM shapes `tessera tune` times on `gpu` for `dtype`: `shapes` as --shapes gives them ('all': the whole list),
 * else the list ('quick': its first two); `left`: those left out, each with why (beyond the adapter's limits, or, for
 * the list on a CPU adapter, above CPU_TUNE_MAX_FLOPS).
 */
export function tuneShapeList(gpu: Pick<Gpu, 'limits' | 'isCpu'>, dtype: DType, shapes?: [number, number, number][] | 'all' | 'quick'): { shapes: [number, number, number][]; left: { shape: string; why: string }[] } {
  const listed = Array.isArray(shapes) ? shapes : shapes === 'quick' ? TUNE_GEMM_SHAPES.slice(0, 2) : TUNE_GEMM_SHAPES;
  // on a CPU adapter the list's largest shapes take seconds a run: left out unless asked for (--shapes)
  const cpuCap = gpu.isCpu && (shapes === undefined || shapes === 'quick');
  const out = { shapes: [] as [number, number, number][], left: [] as { shape: string; why: string }[] };
  for (const [M, K, N] of listed) {
    const f = flops([M, K, N]);
    const why = gemmBeyondLimits(gpu, M, K, N, dtype) ?? (cpuCap && f > CPU_TUNE_MAX_FLOPS ? `${(f / 1e9).toFixed(1)} GFLOP a call, seconds a run on this CPU adapter (give --shapes ${M}×${K}×${N}, or --shapes all)` : null);
    if (why) out.left.push({ shape: `${M}×${K}×${N}`, why });
    else out.shapes.push([M, K, N]);
  }
  return out;
}

/**
 * Why GEMM M×K×N cannot run on this adapter (a tensor above maxStorageBufferBindingSize or
 * maxBufferSize: the list holds large models' shapes, beyond small adapters such as lavapipe's
 * 128 MiB bindings), or null when it can. Tuning skips such a shape and says so.
 */
export function gemmBeyondLimits(gpu: Pick<Gpu, 'limits'>, M: number, K: number, N: number, dtype: DType): string | null {
  const limit = bindingLimit(gpu.limits);
  for (const [t, rows, cols] of [['x', M, K], ['w', N, K], ['y', M, N]] as const) {
    const bytes = storageBytes(rows * cols, dtype);
    if (bytes > limit.bytes) return `its ${t} [${rows}, ${cols}] (${fmtBytes(bytes)} in ${dtype}) is above this adapter's ${limit.name} of ${fmtBytes(limit.bytes)}`;
  }
  return null;
}

/**
 * The tuning cache file must be writable before anything is timed (saving is tune's point):
 * its folder may be missing but not a file, below a file or read-only, and the path itself not a folder.
 * @throws UsageError naming the path and XDG_CACHE_HOME.
 */
function checkCacheWritable(): void {
  const path = tuneCachePath();
  if (tuneStoreWhere() !== path) return; // another store registered (tests): not a file
  const xdg = process.env.XDG_CACHE_HOME;
  // a relative XDG_CACHE_HOME is ignored (tuneCachePath, as the XDG spec says): name that, not the value
  const where = !xdg ? 'XDG_CACHE_HOME is unset, so ~/.cache' : isAbsolute(xdg) ? `XDG_CACHE_HOME=${xdg}` : `XDG_CACHE_HOME=${xdg} is relative, so ignored: ~/.cache`;
  // a folder in the file's place: saving cannot replace it (the one line about it: main leaves the cache to tune, which loads it after this)
  let why = unwritableDir(dirname(path));
  if (!why && statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`tessera tune: cannot save the tuning cache at ${path}: a folder is in its place (${where}); remove that folder, or set XDG_CACHE_HOME to another folder (an absolute path)`);
  }
  if (!why) {
    // the cache's folder now: some folders pass the checks and still refuse a mkdir (e.g. below /sys)
    try {
      mkdirSync(dirname(path), { recursive: true });
      return;
    } catch (e) {
      why = `cannot create ${dirname(path)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    }
  }
  throw new UsageError(`tessera tune: cannot save the tuning cache at ${path}: ${why} (${where}); set XDG_CACHE_HOME to a writable folder (an absolute path)`);
}

/**
 * --no-tune and TESSERA_TUNE=off mean no autotuning and no tuning cache read or written (the global
 * help); tune's one job is to time kernels and cache the winners, so with either it refuses rather
 * than tuning anyway (it did, and printed '(cached)' choices) or doing nothing. --no-tune is refused
 * by the parser (spec.without below: tune's help does not list it), TESSERA_TUNE=off here.
 * @throws UsageError naming the variable.
 */
const TUNING_OFF = "turns autotuning off (no cached choice is read or written), and tune's job is to time kernel variants and cache the winners";
function checkTuningOn(): void {
  if (process.env.TESSERA_TUNE === 'off') throw new UsageError(`tessera tune: TESSERA_TUNE=off ${TUNING_OFF}: unset it (or TESSERA_TUNE=auto) to tune`);
}

/**
 * The latent of `--preset NAME`: the preset's, with --frames/--height/--width in [1, 4096] and
 * divisible by the model's patch size, checked before the GPU is acquired (a bad size was a raw
 * RangeError or a tensor error after the model was loaded). A DiT has no frames, so --frames is
 * refused for one rather than ignored.
 * @throws UsageError naming the flag: `--height must be between 1 and 4096, got 0`,
 *   `tessera tune: latent 8×24×31 must be divisible by the patch size 1×2×2 of wan-tiny: --width 31 is not a multiple of 2` (checkLatentPatch, as bench plan and bench model),
 *   `--frames: latent: [2,16,1030,2,2] gives a grid of 1030×1×1 …` (past Wan's rope_max_seq_len, as bench's and generate's).
 */
function presetLatent(preset: string, p: Parsed): ModelLatent {
  const pr = getPreset(preset);
  const cfg = parseConfig(pr.config);
  for (const f of ['frames', 'height', 'width'] as const) if (p[f] !== undefined) intInRange(p, f, 1, 4096);
  checkDitFrames('tune', preset, cfg, p.frames as number | undefined);
  const latent = { frames: (p.frames as number | undefined) ?? pr.latent.frames, height: (p.height as number | undefined) ?? pr.latent.height, width: (p.width as number | undefined) ?? pr.latent.width };
  checkLatentPatch('tune', preset, cfg, latent);
  // a Wan grid past rope_max_seq_len: the flags' problem before the model is made (forward() refused it after)
  if (cfg.family === 'wan') {
    const fhw = [latent.frames, latent.height, latent.width] as const;
    try {
      checkRopeGrid(cfg, 'latent', [2, cfg.inChannels, ...fhw], fhw);
    } catch (e) {
      throw ropeAsUsage(e);
    }
  }
  return latent;
}

/**
 * `; subgroup-sr16 kept: subgroup-sr32 faster by at most 5 %, …` when the choice is the heuristic (the
 * first timed) although a candidate timed faster (by entry.ratio, when the entry has one): by no more
 * than TUNE_MARGIN, or undecided (entry.verdict: tune.ts raceCandidates could not tell within its most
 * rounds whether it beats the margin); '' otherwise.
 */
export function keptNote(e: Pick<TuneEntry, 'choice' | 'ms' | 'ratio' | 'verdict' | 'rounds'>): string {
  const fig = e.ratio ?? e.ms;
  if (Object.keys(fig)[0] !== e.choice) return '';
  const open = Object.keys(e.verdict ?? {}).filter((n) => e.verdict![n] === 'undecided' && n in fig && fig[n]! < fig[e.choice]!);
  const faster = Object.keys(fig).filter((n) => n !== e.choice && !open.includes(n) && fig[n]! < fig[e.choice]!);
  const notes = [
    ...(faster.length ? [`${faster.join(', ')} faster by at most ${TUNE_MARGIN * 100} %, within the run-to-run spread`] : []),
    ...(open.length ? [`${open.join(', ')} undecided after ${e.rounds?.[e.choice] ?? '?'} rounds (too wide a spread between rounds to tell whether faster by ${TUNE_MARGIN * 100} %)`] : []),
  ];
  return notes.length ? `; ${e.choice} kept: ${notes.join('; ')}` : '';
}

/**
 * The figures beside a tuner choice, what decided first: `time per round over subgroup-sr16's (what decided):
 * subgroup-sr32 0.71, subgroup-sr32-k 0.88; fastest round of each (not the same rounds): subgroup-sr16 28.22 ms, …`.
 * entry.ratio is each challenger's time over the heuristic's in the same round, over the rounds; entry.ms each
 * candidate's fastest round, which on a loaded machine may fall in different rounds and so can order the candidates
 * otherwise (a user read sr32's 31.79 ms beside sr16's 28.22 ms as contradicting the choice of sr32 at 0.71).
 * An entry without ratios (cached before tessera decided by them): the ms alone, labelled.
 */
export function choiceFigures(e: Pick<TuneEntry, 'ms' | 'ratio'>): string {
  const ms = `fastest round of each${e.ratio ? ' (not the same rounds)' : ''}: ${Object.entries(e.ms).map(([n, v]) => `${n} ${v.toFixed(2)} ms`).join(', ')}`;
  const [ref, ...rest] = Object.entries(e.ratio ?? {});
  return ref && rest.length ? `time per round over ${ref[0]}'s (what decided): ${rest.map(([n, v]) => `${n} ${v.toFixed(2)}`).join(', ')}; ${ms}` : ms;
}

/**
 * A GEMM choice's result line: `gemm M1024 N1536 K384 [f32 M1024 N2048 K512 SWG64x4] → subgroup-sr32 = … (figures)`.
 * The shape is written in its bucket's order and words (M N K: the bucket is the cache key, not reordered), not as
 * --shapes' M×K×N, so the line holds one order (a user read 1024×384×1536 beside M1024 N2048 K512 as two).
 */
export function gemmChoiceLine(M: number, K: number, N: number, x: Pick<TuneReport, 'bucket' | 'entry' | 'measured'>): string {
  return `gemm M${M} N${N} K${K} [${x.bucket}] → ${x.entry.choice} = ${describeGemmStrategy(x.entry.choice as GemmStrategy, M, N, K)}${x.measured ? `  (${choiceFigures(x.entry) + keptNote(x.entry)})` : '  (cached)'}`;
}

export const tuneCommand: Command = {
  // loaded in run(), after checkCacheWritable: a cache it cannot save is refused without a warning about loading it first
  ownTuneCache: true,
  spec: {
    name: 'tune',
    quiet: true,
    summary: 'time candidate kernel variants for this adapter ahead of time and cache the winners (refused with --no-tune or TESSERA_TUNE=off, which turn tuning off)',
    usage: 'tessera tune [--preset NAME [--frames F --height H --width W] | --shapes M×K×N,…|all] [--dtype f32|f16] [--force] [--rounds N] [--quick] [--json]',
    without: { 'no-tune': `${TUNING_OFF}: drop --no-tune to tune` },
    flags: {
      preset: { type: 'choice', choices: presetNames(), help: 'tune the ops of one forward of this model (seeded random weights) instead of the GEMM shape list', arg: 'NAME' },
      frames: { type: 'int', help: "--preset: latent frames (default: the preset's)", arg: 'F' },
      height: { type: 'int', help: "--preset: latent height (default: the preset's)", arg: 'H' },
      width: { type: 'int', help: "--preset: latent width (default: the preset's)", arg: 'W' },
      dtype: { type: 'choice', choices: ['f32', 'f16'], default: 'f32', help: 'storage dtype to tune for' },
      force: { type: 'bool', help: 're-time shape buckets that are already cached' },
      quick: { type: 'bool', help: 'only the first shapes of the list (a smoke test)' },
      shapes: { type: 'string', arg: 'LIST', help: `GEMM shapes M×K×N to tune instead of the list, separated by commas (1024×384×1536 or 1024x384x1536); "all": the whole list, also on a CPU adapter, where the list's shapes above ${(CPU_TUNE_MAX_FLOPS / 1e9).toFixed(1)} GFLOP a call are left out by default (seconds a run there)` },
      rounds: { type: 'int', default: TUNE_ROUNDS, help: 'a cap on the timed rounds past the least a verdict needs (1 to 50): rounds, each timing every candidate still racing once, run in blocks of one per candidate until every challenger has the 3 a verdict needs, whatever N is (with 2 candidates --rounds 1 to 3 time 4; with 4 candidates --rounds 2 times 4); after that at most N, fewer once each challenger is clearly faster than the heuristic by 5 % or clearly not. One not ruled on keeps the heuristic', arg: 'N' },
      json: { type: 'bool', help: 'print one JSON object on the last line of stdout' },
    },
  },
  async run(p) {
    const dtype = p.dtype as DType;
    const rounds = p.rounds as number;
    const roundsProblem = tuneRoundsProblem(rounds);
    if (roundsProblem) throw new UsageError(`--rounds ${roundsProblem}`);
    const json = !!p.json;
    // results (each choice, the summary): stdout, or stderr beside --json's one object
    const log = (m: string) => (json ? console.error(m) : console.log(m));
    // progress (what is being tuned, each candidate timed, shapes skipped): stderr, as every command's; not with --quiet
    const note = (m: string) => (isQuiet() ? undefined : console.error(m));
    const preset = p.preset as string | undefined;
    if (!preset && (p.frames !== undefined || p.height !== undefined || p.width !== undefined)) throw new UsageError('--frames/--height/--width apply with --preset only');
    if (p.shapes !== undefined && (preset || p.quick)) throw new UsageError(`--shapes replaces the GEMM shape list: not with ${preset ? '--preset' : '--quick'}`);
    const shapesFlag = p.shapes !== undefined ? parseTuneShapes(p.shapes as string) : undefined;
    const latent = preset ? presetLatent(preset, p) : undefined;
    checkTuningOn();
    checkCacheWritable();
    const gpu = await acquireGpu();
    try {
      if (dtype === 'f16' && !gpu.f16) throw new UsageError(`--dtype f16 needs the adapter feature shader-f16, which ${describeAdapter(gpu)} lacks: use --dtype f32`);
      setTuneMode(gpu, 'auto');
      await loadTuneCache();
      note(`tuning on ${tuneAdapterKey(gpu)}; cache: ${tuneStoreWhere() ?? 'this process only'}`);
      const reports: TuneReport[] = [];
      const skipped: { shape: string; why: string }[] = [];
      const t0 = performance.now();
      if (preset) {
        const pr = getPreset(preset);
        const cfg = parseConfig(pr.config);
        note(`one forward of ${preset} (${cfg.family}) at latent ${latent!.frames}×${latent!.height}×${latent!.width}, ${dtype}, CFG batch 2…`);
        const model = await loadRandomModel(pr.config, { gpu, dtype, seed: 0, name: preset });
        try {
          const before = await cachedChoices(gpu);
          await model.forward(stepInputs(model, latent!, { textLen: pr.textLen ?? 32, batch: 2 }));
          const after = await cachedChoices(gpu);
          for (const [k, entry] of Object.entries(after)) {
            const [family, bucket] = k.split('|') as [string, string];
            reports.push({ key: k, family, bucket, entry, measured: before[k]?.date !== entry.date });
          }
        } finally {
          model.dispose();
        }
      } else {
        const { shapes, left: out } = tuneShapeList(gpu, dtype, shapesFlag ?? (p.quick ? 'quick' : undefined));
        for (const x of out) {
          skipped.push(x);
          note(`skipping gemm ${x.shape}: ${x.why}`);
        }
        // progress: the shape's place, and from the second on an estimate of the time left (tuneEta)
        const done: { flops: number; s: number }[] = [];
        for (const [i, [M, K, N]] of shapes.entries()) {
          const t1 = performance.now();
          const eta = tuneEta(done, shapes.slice(i).map(flops));
          note(`gemm ${i + 1}/${shapes.length}: ${M}×${K}×${N}${eta !== null ? `; about ${eta} s left (${done.reduce((a, d) => a + d.s, 0).toFixed(0)} s so far)` : ''}`);
          const alloc = new Allocator(gpu);
          try {
            const plan = new Plan(gpu, alloc);
            gemm(plan, { x: alloc.tensor([M, K], dtype, 'x'), w: alloc.tensor([N, K], dtype, 'w'), out: alloc.tensor([M, N], dtype, 'y'), layer: 'tune' });
            const r = await tunePlan(plan, { rounds, force: !!p.force, onProgress: note });
            for (const x of r) {
              reports.push(x);
              // a result line, but with --json (on stderr beside the JSON, which holds the same) informational
              (json ? note : log)(gemmChoiceLine(M, K, N, x));
            }
          } finally {
            alloc.destroyAll();
          }
          done.push({ flops: flops([M, K, N]), s: (performance.now() - t1) / 1000 });
        }
      }
      // the saves after each tuned plan only warn; here a cache that could not be written is a failure
      await saveTuneCacheOrThrow();
      const seconds = (performance.now() - t0) / 1000;
      if (json) console.log(JSON.stringify({ adapter: describeAdapter(gpu), cache: tuneStoreWhere(), dtype, seconds, choices: reports.map((r) => ({ family: r.family, bucket: r.bucket, measured: r.measured, ...r.entry })), skipped }));
      else log(`${reports.length} choices (${reports.filter((r) => r.measured).length} timed now) in ${seconds.toFixed(1)} s${skipped.length ? `; ${skipped.length} of the list's shapes skipped (beyond this adapter's limits, or too slow a run on a CPU adapter: the lines above)` : ''}`);
      return 0;
    } finally {
      gpu.destroy();
    }
  },
};
