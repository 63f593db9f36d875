// `tessera bench model --preset NAME | --model DIR [--frames F --height H --width W]`: seconds per
// denoising step (one forward on the CFG batch of 2, as generate() runs it), the per-kernel and
// per-block tables, and peak GPU memory. Refused with the numbers, before any weight is made or
// read, when the run cannot fit; refused without a time when the model fails its check
// (src/profile/model-bench.ts).
// A preset's weights are made on the GPU (loadRandomModel). The check's three forwards run at a
// small latent of the same model (CHECK_LATENT) when the timed one is larger, so that a full-size
// timing (Wan 480p: ~5.6e14 FLOPs a forward) costs one forward per repeat, not 3.5 more; the
// timed output is then checked finite at its own size. Weights, check, recording, tuning,
// compiling and the timed forwards are reported apart.
import { freemem } from 'node:os';
import { describeAdapter, type Gpu } from '../gpu/device.js';
import { fmtBytes, type DType } from '../gpu/tensor.js';
import { parseConfig, patchDims, patchTokens, type ModelConfig } from '../model/config.js';
import { checkRunFits, checkWeightsFit, estimateMemory, estimateWeights, type MemoryEstimate } from '../model/memory.js';
import { loadModel, type DiffusionModel, type ForwardInputs } from '../model/model.js';
import { getPreset, loadRandomModel, presetNames } from '../model/presets.js';
import { ceilingProbe, formatShare, type Ceiling } from '../profile/ceiling.js';
import { assertModelCheck, checkModel, stepInputs, type ModelCheck, type ModelLatent } from '../profile/model-bench.js';
import { WrongResultError } from '../profile/check.js';
import { implicitTuneOptions, tunePlan } from '../gpu/tune.js';
import { readTensor } from '../gpu/tensor.js';
import { profilePlan, type ProfileRun } from '../profile/profiler.js';
import { formatKernelTable, formatLayerTable, kernelTable, layerTable, timedFigures, type KernelRow, type LayerRow, type TimedFigures } from '../profile/report.js';
import { wallClock, type WallStats } from '../profile/wallclock.js';
import { UsageError, type FlagSpec, type Parsed } from './args.js';
import { isQuiet, plural } from './progress.js';
import { cpuLoopNoteForModel } from './cpu-note.js';
import { MAX_MEMORY_FLAG, maxMemory } from './outputs.js';
import { checkDitFrames, checkLatentPatch } from './bench-plan.js';
import { checkPathFlags } from './paths.js';
import { checkVariantFlag } from './cmd-forward.js';

export const MODEL_FLAGS: Record<string, FlagSpec> = {
  preset: { type: 'choice', choices: presetNames(), help: `model: a named architecture at its real size with seeded random weights made on the GPU (uniform, standard deviation 1/√fan-in; the same --seed gives the same weights) (${presetNames().join(', ')})`, arg: 'NAME' },
  model: { type: 'string', help: 'model: a diffusers transformer folder (config.json + safetensors) instead of a preset', arg: 'DIR' },
  frames: { type: 'int', help: "model: latent frames (default: the preset's; 1 with --model)", arg: 'F' },
  height: { type: 'int', help: "model: latent height (default: the preset's; required with --model); vae: latent height; conv: output rows (pixels)", arg: 'H' },
  width: { type: 'int', help: "model: latent width (default: the preset's; required with --model); vae: latent width; conv: output columns (pixels)", arg: 'W' },
  'text-len': { type: 'int', help: "model: text tokens for Wan/Latte (default: the preset's, else 32)", arg: 'L' },
  seed: { type: 'int', help: 'model: seed of the random weights and inputs (default 0)', arg: 'N' },
  variant: { type: 'string', help: "model: with --model, the weight variant (e.g. fp16), as diffusers' variant=: diffusion_pytorch_model.NAME.safetensors", arg: 'NAME' },
  'max-memory': { ...MAX_MEMORY_FLAG, help: `${MAX_MEMORY_FLAG.help}; bench model on a CPU adapter defaults to 80% of the host's available memory` },
};

export interface ModelSizes {
  preset?: string;
  dir?: string;
  latent: Partial<ModelLatent>;
  textLen?: number;
  seed: number;
  /** --variant: the folder's weight variant (with --model). */
  variant?: string;
}

const dim = (p: Parsed, name: string): number | undefined => {
  const v = p[name] as number | undefined;
  if (v === undefined) return undefined;
  if (v < 1 || v > 4096) throw new UsageError(`--${name} must be between 1 and 4096, got ${v}`);
  return v;
};

/** Reads the model flags (before any GPU work). */
export function parseModelSizes(p: Parsed): ModelSizes {
  const preset = p.preset as string | undefined;
  const dir = p.model as string | undefined;
  if (!preset === !dir) throw new UsageError(`tessera bench model: give exactly one of --preset NAME (${presetNames().join(', ')}) or --model DIR`);
  if (dir === '') throw new UsageError('--model needs a folder');
  // --model: a missing path or a pipeline root is one line naming the flag, as in forward/generate (bench takes no --pipeline),
  // before the flags that do not depend on it
  checkPathFlags(p, { withPipeline: false });
  const variant = p.variant as string | undefined;
  if (variant !== undefined && preset) throw new UsageError(`--variant names a folder's weight files: it applies with --model DIR, not --preset (whose weights are made on the GPU)`);
  checkVariantFlag(p);
  const latent = { frames: dim(p, 'frames'), height: dim(p, 'height'), width: dim(p, 'width') };
  if (dir && (latent.height === undefined || latent.width === undefined)) throw new UsageError('tessera bench model --model DIR: give --height and --width (and --frames for video models) of the latent');
  const textLen = dim(p, 'text-len');
  const seed = (p.seed as number | undefined) ?? 0;
  // a preset's patch size is known before the GPU is acquired; a folder's once its config is read (preflight)
  if (preset) {
    const pr = getPreset(preset);
    const cfg = parseConfig(pr.config);
    checkDitFrames('bench model', preset, cfg, latent.frames);
    checkLatentPatch('bench model', preset, cfg, fullLatent(cfg, latent, pr.latent));
  }
  return { ...(preset ? { preset } : {}), ...(dir ? { dir } : {}), latent, ...(textLen !== undefined ? { textLen } : {}), seed, ...(variant !== undefined ? { variant } : {}) };
}

export interface ModelBenchCommon {
  json: boolean;
  dtype: DType;
  repeats: number;
  warmup: number;
  wall: boolean;
}

export interface ModelBenchResult extends TimedFigures {
  bench: 'model';
  label: string;
  model: string;
  preset: string | null;
  family: ModelConfig['family'];
  layers: number;
  dim: number;
  heads: number;
  head_dim: number;
  params: number;
  dtype: DType;
  adapter: string;
  /** What one step is. */
  step: string;
  latent: number[];
  text: number[] | null;
  tokens_per_item: number;
  batch: 2;
  timing: ProfileRun['timing'];
  dispatches: number;
  seconds_per_step: number;
  check: {
    method: string;
    /** The latent the check's forwards ran at ([B=2, C, (F,) H, W]): `latent`, or CHECK_LATENT's cap of it. */
    latent: number[];
    finite: boolean;
    deterministic: boolean;
    batch_max_abs_err: number;
    batch_bound: number;
    batch_tol: number;
    elements: number;
    /** Distinct kernel variants of the timed step, and those of them the check's forwards also ran. */
    kernels_timed: number;
    kernels_checked: number;
    /** The timed step's variants the check did not run (another shape bucket: GEMM tiles, attention strategy). */
    unchecked_kernels: string[];
  };
  /** Seconds of each phase, measured apart (wall clock, host side). */
  phases_s: {
    /** Making the seeded random weights on the GPU (a preset), or reading and uploading a folder's. */
    weights: number;
    weights_made: 'gpu' | 'file';
    /** The check's 3 forwards at check.latent, with their recording, tuning and compiling. */
    check: number;
    /** Recording the timed latent's plan (host) and writing its inputs; 0 when the check ran at that latent. */
    record: number;
    /** Autotuning the timed plan's new buckets (TESSERA_TUNE auto) within the scratch maxMemory leaves; 0 when cached, off or already tuned by the check. */
    tune: number;
    /** Compiling the pipelines the check did not already compile. */
    compile: number;
    /** The warm-up and timed forwards, including the ceiling probes between them. */
    timed: number;
  };
  wall: WallStats | null;
  /**
   * Tracked GPU allocations at their peak: resident_bytes + peak_activation_bytes (weights + the step's activations and
   * workspace), the same figure as the --trace's otherData.runs[0].peak_bytes and as peak_bytes in every bench --json.
   */
  peak_bytes: number;
  /** What the timed step reads but its plan did not allocate: the weights and the text part's K/V (prepared once). */
  resident_bytes: number;
  /** The timed plan's own buffers (activations, workspace) at their peak: peak_bytes − resident_bytes. */
  peak_activation_bytes: number;
  weight_bytes: number;
  memory_estimate: MemoryEstimate;
  budget_bytes: number | null;
  budget_source: string;
  per_kernel: KernelRow[];
  per_layer: LayerRow[];
}


/** --max-memory / TESSERA_MAX_GPU_MEMORY, else on a CPU adapter (GPU memory = host memory) 80% of what the host has available. */
function budgetFor(p: Parsed, gpu: Gpu): { bytes: number | undefined; source: string } {
  const given = maxMemory(p);
  if (given !== undefined) return { bytes: given, source: p['max-memory'] !== undefined ? '--max-memory' : 'TESSERA_MAX_GPU_MEMORY' };
  if (gpu.isCpu) return { bytes: Math.floor(0.8 * freemem()), source: `80% of the host's available memory (${fmtBytes(freemem())}): the adapter is a CPU device` };
  return { bytes: undefined, source: 'none (adapter limits only)' };
}

function fullLatent(cfg: ModelConfig, given: Partial<ModelLatent>, preset: ModelLatent | undefined): ModelLatent {
  return {
    frames: cfg.family === 'dit' ? 1 : (given.frames ?? preset?.frames ?? 1),
    height: given.height ?? preset!.height,
    width: given.width ?? preset!.width,
  };
}

/**
 * The most frames, rows and columns of latent the pre-timing check runs at (2 × 16 × 16: at most
 * 128 tokens per item with a 2×2 patch). A larger timed latent is checked at this cap of it,
 * rounded down to whole patches: the same model, weights and kernels, at a size whose three
 * forwards cost a fraction of one timed forward.
 */
export const CHECK_LATENT: ModelLatent = { frames: 2, height: 16, width: 16 };

/** `l` capped at CHECK_LATENT, each capped size a multiple of the patch (at least one patch). */
export function checkLatentOf(cfg: ModelConfig, l: ModelLatent): ModelLatent {
  const [pt, ph, pw] = patchDims(cfg);
  const cap = (v: number, max: number, p: number) => (v <= max ? v : Math.max(p, Math.floor(max / p) * p));
  return { frames: cap(l.frames, CHECK_LATENT.frames, pt), height: cap(l.height, CHECK_LATENT.height, ph), width: cap(l.width, CHECK_LATENT.width, pw) };
}

const sameLatent = (a: ModelLatent, b: ModelLatent) => a.frames === b.frames && a.height === b.height && a.width === b.width;
const latentStr = (cfg: ModelConfig, l: ModelLatent) => `${cfg.family === 'dit' ? '' : `${l.frames}×`}${l.height}×${l.width}`;
const secs = (t0: number) => (performance.now() - t0) / 1000;

/** --text-len sizes Wan's and Latte's text; a DiT is class-conditioned, so the flag would be ignored: refused. */
function checkTextLen(cfg: ModelConfig, s: ModelSizes, name: string): void {
  if (cfg.family === 'dit' && s.textLen !== undefined) throw new UsageError(`tessera bench model: --text-len applies to Wan and Latte models; ${name} is a DiT (class-conditioned, no text input): leave out --text-len`);
}

function shapesOf(cfg: ModelConfig, l: ModelLatent, textLen: number): { latent: number[]; text: number[] | undefined } {
  const latent = cfg.family === 'dit' ? [2, cfg.inChannels, l.height, l.width] : [2, cfg.inChannels, l.frames, l.height, l.width];
  const text = cfg.family === 'dit' ? undefined : [2, textLen, cfg.family === 'wan' ? cfg.textDim : cfg.captionChannels];
  return { latent, text };
}

/** What makes a bench model run shorter, in its flags (the end of its CPU-adapter line). */
export const BENCH_MODEL_SMALLER = '--repeats, --warmup, --frames, --height and --width make it shorter';

/**
 * The line tessera generate and demo print on a CPU adapter before a long loop (cpuLoopNote, src/cli/cpu-note.ts), for
 * bench model's timed forwards: one denoising step (the forward on the CFG batch of 2) at `latent` ([B=2, C, (F,) H, W]),
 * `forwards` of them (warm-up + repeats, + 2 when the check runs at the timed latent: its two batch-2 forwards; its
 * batch-1 forward and the tuning left out, so the figure stays a lower bound). Undefined on a GPU adapter or when a step
 * is short (cpuLoopNote's threshold). No GPU work: a dry run of the recording.
 */
export function benchModelCpuNote(model: Pick<DiffusionModel, 'config' | 'dtype' | 'gpu'>, latent: readonly number[], textLen: number, forwards: number): string | undefined {
  return cpuLoopNoteForModel(model, { latent: [1, ...latent.slice(1)], textLen, steps: forwards, guidance: 2 }, BENCH_MODEL_SMALLER);
}

/** The forwards at the timed latent: warm-up + repeats, and the check's two batch-2 ones when it runs there. */
const timedForwards = (c: ModelBenchCommon, cfg: ModelConfig, latent: ModelLatent): number => c.warmup + c.repeats + (sameLatent(checkLatentOf(cfg, latent), latent) ? 2 : 0);

const log = (c: ModelBenchCommon, msg: string) => (isQuiet() ? undefined : c.json ? console.error(msg) : console.log(msg));

export async function runModelBench(gpu: Gpu, p: Parsed, s: ModelSizes, c: ModelBenchCommon, getCeiling: () => Promise<Ceiling | undefined>): Promise<{ result: ModelBenchResult; run: ProfileRun }> {
  const budget = budgetFor(p, gpu);
  // the step's batch is the CFG pair, which no flag changes: no 'a smaller batch' in a refusal
  const fit = { maxMemory: budget.bytes, f16: gpu.f16, fixedBatch: true };
  let latent: ModelLatent;
  let textLen: number;
  let model: DiffusionModel;
  const tWeights = performance.now();
  if (s.preset) {
    const preset = getPreset(s.preset);
    const cfg = parseConfig(preset.config);
    checkTextLen(cfg, s, s.preset);
    latent = fullLatent(cfg, s.latent, preset.latent);
    textLen = s.textLen ?? preset.textLen ?? 32;
    const sh = shapesOf(cfg, latent, textLen);
    // refused before a single random weight is made
    checkWeightsFit(cfg, c.dtype, gpu.limits, fit);
    checkRunFits(cfg, sh.latent, sh.text, c.dtype, gpu.limits, fit);
    // on a CPU adapter, a run whose forwards take long even at a generous rate says so before any weight is made (user23 #4)
    const note = benchModelCpuNote({ config: cfg, dtype: c.dtype, gpu }, sh.latent, textLen, timedForwards(c, cfg, latent));
    if (note) console.error(note);
    const w = estimateWeights(cfg, c.dtype);
    log(c, `making ${s.preset} with seeded random weights on the GPU (${fmtBytes(w.bytes)} in ${c.dtype})…`);
    model = await loadRandomModel(preset.config, { gpu, dtype: c.dtype, seed: s.seed, name: s.preset, maxMemory: budget.bytes });
  } else {
    let lat: ModelLatent | undefined;
    const tl = s.textLen ?? 32;
    log(c, `loading ${s.dir}…`);
    model = await loadModel(s.dir!, {
      gpu,
      dtype: c.dtype,
      maxMemory: budget.bytes,
      ...(s.variant !== undefined ? { variant: s.variant } : {}),
      preflight: (cfg, g, dtype) => {
        checkTextLen(cfg, s, s.dir!);
        checkDitFrames('bench model', s.dir!, cfg, s.latent.frames);
        lat = fullLatent(cfg, s.latent, undefined);
        checkLatentPatch('bench model', s.dir!, cfg, lat);
        const sh = shapesOf(cfg, lat, tl);
        checkRunFits(cfg, sh.latent, sh.text, dtype, g.limits, fit);
        // before any weight is read, as a preset's before its weights are made
        const note = benchModelCpuNote({ config: cfg, dtype, gpu: g }, sh.latent, tl, timedForwards(c, cfg, lat));
        if (note) console.error(note);
      },
    });
    latent = lat ?? fullLatent(model.config, s.latent, undefined);
    textLen = tl;
  }
  const weightsS = secs(tWeights);
  try {
    const cfg = model.config;
    const name = s.preset ?? model.name;
    const tokens = patchTokens(cfg, latent);
    const label = `model ${name} ${c.dtype} latent ${latentStr(cfg, latent)} (${tokens} tokens/item), CFG batch 2`;
    // the check: at the timed latent when it is small, else at its CHECK_LATENT cap
    const checkAt = checkLatentOf(cfg, latent);
    const checkedHere = sameLatent(checkAt, latent);
    const checkInputs = (batch: 1 | 2): ForwardInputs => stepInputs(model, checkAt, { textLen, seed: s.seed, batch });
    const checkInputs2 = checkInputs(2);
    log(
      c,
      checkedHere
        ? `checking ${label}: finite, deterministic, batch-consistent (3 forwards)…`
        : `checking ${name} at the smaller latent ${latentStr(cfg, checkAt)} (${patchTokens(cfg, checkAt)} tokens/item; the timed latent is ${latentStr(cfg, latent)}): finite, deterministic, batch-consistent (3 forwards)…`,
    );
    const tCheck = performance.now();
    const check: ModelCheck = await checkModel(model, checkInputs(1), checkInputs2);
    assertModelCheck(checkedHere ? label : `${label} (checked at latent ${latentStr(cfg, checkAt)})`, check);
    const checkS = secs(tCheck);
    // the check's plan as its forwards left it (tuned): resident records nothing new and submits nothing
    const checkedKernels = new Set(model.resident(checkInputs2).plan.dispatches.map((d) => d.kernel));
    // the timed latent's plan: recorded, tuned and compiled apart (the check's plan is freed first: peak memory is a step's)
    if (!checkedHere) log(c, `recording, tuning and compiling the step at latent ${latentStr(cfg, latent)}…`);
    const tRecord = performance.now();
    if (!checkedHere) await model.resetPlans();
    const inputs2 = checkedHere ? checkInputs2 : stepInputs(model, latent, { textLen, seed: s.seed, batch: 2 });
    // inputs written once; the text's part (embedder, cross-attention K/V) submitted once, ahead of the plan's runs
    const { plan, prepare, out } = model.resident(inputs2);
    if (prepare.dispatches.length) {
      const enc = gpu.device.createCommandEncoder({ label: `${name} prepare` });
      prepare.encode(enc);
      gpu.device.queue.submit([enc.finish()]);
    }
    const recordS = checkedHere ? 0 : secs(tRecord);
    const tTune = performance.now();
    // the limits a forward's own tuning has: minFlops, and the scratch maxMemory leaves beside the model (a call whose
    // candidates would not fit keeps the heuristic, with a '[tessera] tuning … skipped' warning)
    plan.tuneBudget = model.tuneRoom();
    await tunePlan(plan, implicitTuneOptions(plan));
    const tuneS = secs(tTune);
    const tCompile = performance.now();
    await plan.compile();
    const compileS = secs(tCompile);
    const timedKernels = [...new Set(plan.dispatches.map((d) => d.kernel))];
    const unchecked = timedKernels.filter((k) => !checkedKernels.has(k));
    const lat = inputs2.hidden_states.shape;
    const base = await getCeiling();
    log(c, `timing ${plan.dispatches.length} dispatches: ${c.warmup} warm-up + ${plural(c.repeats, 'repeat')}${base ? ', the ceiling kernels re-timed between them' : ''}…`);
    // the ceiling kernels before and between the repeats: shares against the best of all their runs, under the same load
    const tTimed = performance.now();
    const probe = base ? await ceilingProbe(gpu, base) : null;
    let run: ProfileRun;
    try {
      await probe?.round();
      // resident: what the model holds beside the timed plan's own buffers (the weights, the prepared text K/V), so that
      // run.peakBytes (the trace's peak_bytes) is model.peakBytes (this result's peak_bytes): one figure, one name
      run = await profilePlan(plan, { repeats: c.repeats, warmup: c.warmup, residentBytes: Math.max(0, model.peakBytes - plan.alloc.peakBytes), ...(probe ? { between: () => probe.round() } : {}) });
    } finally {
      probe?.destroy();
    }
    const timedS = secs(tTimed);
    // the timed forward's own output, at the timed size: a kernel variant the check did not run shows here if it makes NaN/Inf
    const timedOut = await readTensor(gpu, out);
    // test hook (tests/integration/bench-model.test.ts): TESSERA_TEST_NAN_TIMED_OUTPUT=1 poisons the read-back's first value
    if (process.env['TESSERA_TEST_NAN_TIMED_OUTPUT'] === '1') timedOut[0] = NaN;
    const bad = timedOut.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new WrongResultError(`${label}: the timed forward's output has a non-finite value (${timedOut[bad]}) at flat index ${bad}. Refusing to report a time.`);
    const ceiling = probe?.ceiling();
    const wall = c.wall ? await wallClock(plan, { minSamples: Math.min(Math.max(2, c.repeats), 20), maxTimeS: 0.5, name: label }) : null;
    const work = { flops: plan.dispatches.reduce((a, d) => a + d.flops, 0), bytes: plan.dispatches.reduce((a, d) => a + d.bytes, 0) };
    // f16 kernels store f16 but do all arithmetic in f32 (CONVENTIONS), so the step's roof is the f32 FMA one
    const figures = timedFigures(run, work, ceiling);
    const textShape = inputs2.encoder_hidden_states?.shape ?? null;
    const result: ModelBenchResult = {
      bench: 'model',
      label,
      model: model.name,
      preset: s.preset ?? null,
      family: cfg.family,
      layers: cfg.layers,
      dim: cfg.dim,
      heads: cfg.heads,
      head_dim: cfg.headDim,
      params: [...model.weights.tensors.values()].reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0),
      dtype: c.dtype,
      adapter: describeAdapter(gpu),
      step: 'one forward of the model on the classifier-free-guidance batch [cond; uncond] (batch 2), as generate() runs each step; scheduler update excluded',
      latent: lat,
      text: textShape,
      tokens_per_item: tokens,
      batch: 2,
      timing: run.timing,
      dispatches: plan.dispatches.length,
      seconds_per_step: figures.median_ms / 1000,
      ...figures,
      check: {
        method: `at check.latent: finite output; bit-identical on a second forward; item 0 of the batch equal to item 0 run alone within batch_tol × max|out|. At latent: the timed forward's output finite (a non-finite one is a WrongResultError: no result)`,
        latent: checkInputs2.hidden_states.shape,
        finite: check.finite,
        deterministic: check.deterministic,
        batch_max_abs_err: check.batchMaxAbsErr,
        batch_bound: check.batchBound,
        batch_tol: check.batchTol,
        elements: check.elements,
        kernels_timed: timedKernels.length,
        kernels_checked: timedKernels.length - unchecked.length,
        unchecked_kernels: unchecked,
      },
      phases_s: { weights: weightsS, weights_made: s.preset ? 'gpu' : 'file', check: checkS, record: recordS, tune: tuneS, compile: compileS, timed: timedS },
      wall,
      peak_bytes: run.peakBytes,
      resident_bytes: run.residentBytes,
      peak_activation_bytes: run.peakBytes - run.residentBytes,
      weight_bytes: model.weights.bytes,
      memory_estimate: estimateMemory(cfg, lat, textShape ?? undefined, c.dtype, model.gpu.limits),
      budget_bytes: budget.bytes ?? null,
      budget_source: budget.source,
      per_kernel: kernelTable(run, ceiling),
      per_layer: layerTable(run, 2),
    };
    return { result, run };
  } finally {
    model.dispose();
  }
}

const pctStr = (v: number | null) => formatShare(v, true);

export function printModelResult(c: ModelBenchCommon, r: ModelBenchResult): void {
  if (c.json) return;
  console.log(`${r.label}  [${r.timing}, ${plural(r.repeats, 'repeat')} after ${r.warmup} warm-up]`);
  console.log(`  ${r.family}, ${plural(r.layers, 'layer')}, dim ${r.dim} (${r.heads}×${r.head_dim}), ${(r.params / 1e6).toFixed(1)} M params; latents [${r.latent.join(',')}]${r.text ? `, text [${r.text.join(',')}]` : ''}; ${r.dispatches} dispatches`);
  console.log(`  step = ${r.step}`);
  const at = r.check.latent.join(',') === r.latent.join(',') ? '' : ` at latents [${r.check.latent.join(',')}] (smaller than the timed ones)`;
  console.log(
    `  check${at}: finite, bit-identical on a second forward, batch item 0 vs alone max |err| ${r.check.batch_max_abs_err.toExponential(2)} ≤ ${r.check.batch_bound.toExponential(2)}; the timed output finite`,
  );
  const un = r.check.unchecked_kernels;
  console.log(`  the check ran ${r.check.kernels_checked} of the timed step's ${r.check.kernels_timed} kernel variants${un.length ? ` (not: ${un.join(', ')})` : ''}`);
  const ph = r.phases_s;
  const f = (v: number) => `${v.toFixed(1)} s`;
  console.log(
    `  phases: weights ${f(ph.weights)} (${ph.weights_made === 'gpu' ? 'made on the GPU' : 'read and uploaded'}), ${at ? `check ${f(ph.check)} (3 forwards), record ${f(ph.record)}, tune ${f(ph.tune)}, compile ${f(ph.compile)}` : `check ${f(ph.check)} (3 forwards, incl. recording, tuning and compiling the timed plan)`}, timed ${f(ph.timed)} (${r.warmup} warm-up + ${plural(r.repeats, 'repeat')})`,
  );
  console.log(
    `  ${r.seconds_per_step.toFixed(3)} s per step (median; min ${(r.min_ms / 1000).toFixed(3)}, max ${(r.max_ms / 1000).toFixed(3)})  ${r.gflops.toFixed(2)} GFLOP/s  ${r.gbps.toFixed(2)} GB/s  ceiling ${formatShare(r.ceiling_share)} (FMA ${pctStr(r.compute_share)}, BW ${pctStr(r.bandwidth_share)}${r.ceiling_used ? ` of ${r.ceiling_used.fma_gflops.toFixed(2)} GFLOP/s, ${r.ceiling_used.copy_gbps.toFixed(2)} GB/s` : ''})`,
  );
  console.log(`  peak GPU memory ${fmtBytes(r.peak_bytes)} = resident ${fmtBytes(r.resident_bytes)} (weights ${fmtBytes(r.weight_bytes)}) + activations ${fmtBytes(r.peak_activation_bytes)} (estimate ${fmtBytes(r.memory_estimate.total)}; budget ${r.budget_bytes === null ? 'none' : fmtBytes(r.budget_bytes)}: ${r.budget_source})`);
  if (r.wall) console.log(`  wall clock (Benchmark.js, submit→done): ${(r.wall.mean_ms / 1000).toFixed(3)} s ±${r.wall.rme_pct.toFixed(1)}% over ${r.wall.samples} samples`);
  console.log(formatKernelTable(r.per_kernel).replace(/^/gm, '  '));
  console.log('');
  console.log(formatLayerTable(r.per_layer).replace(/^/gm, '  '));
}
