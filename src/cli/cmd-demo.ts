// `tessera demo` (npm run demo): the main job — a clip from a prompt through the WHOLE embedded pipeline
// (tessera-shapes, models/tessera-shapes: UMT5 text encoder → WanTransformer3DModel denoising loop →
// AutoencoderKLWan decode), every stage timed and profiled kernel by kernel (src/profile/pipeline.ts);
// writes out/clip.mp4 (when ffmpeg is there), out/clip.gif, out/trace.json (Chrome/Perfetto, one track
// per stage) and out/profile.json. `--preset NAME` runs the older random-weight preset demo instead.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireGpu, describeAdapter } from '../gpu/device.js';
import { watchKernels, type KernelEvent } from '../gpu/kernel.js';
import { tuneStoreWhere } from '../gpu/tune.js';
import type { DType } from '../gpu/tensor.js';
import { commitTemps, dropTemp, writeTemp, type StagedFile } from '../io/node-write.js';
import { parseConfig, patchTokens } from '../model/config.js';
import { getPreset, loadRandomModel, presetNames } from '../model/presets.js';
import { loadPipeline, type PipelineGenerateOptions } from '../pipeline/pipeline.js';
import { encodeGif, latentsToFrames } from '../preview/preview.js';
import { randn } from '../random.js';
import { generate } from '../sampler/generate.js';
import { deviceCeiling } from '../profile/ceiling.js';
import { median, profilePlan, type ProfileRun } from '../profile/profiler.js';
import { profilePipeline, stageRuns, type PipelineStage, type StageProfile } from '../profile/pipeline.js';
import { chromeTrace, formatKernelTable, formatReport, kernelTable, profileJson } from '../profile/report.js';
import { whichFfmpeg, findFfmpeg, stageMp4Ffmpeg, EncoderError, type Ffmpeg, type Mp4Written } from '../video/ffmpeg.js';
import type { RgbaFrames } from '../video/frames.js';
import { videoToFrames } from '../video/frames.js';
import { checkSeedFlag, intInRange, UsageError, type Parsed } from './args.js';
import { EMBEDDED_DEFAULTS, embeddedPipelineDir, embeddedSizeNote, vocabularyNote } from './embedded.js';
import { judgeVideo, parseShapesPrompt, verdictWords, type Verdict } from '../eval/shapes-judge.js';
import type { Command } from './main.js';
import { MAX_MEMORY_FLAG, makeOutputDir, maxMemory, removeStale } from './outputs.js';
import { checkPathFlags } from './paths.js';
import { checkDemoPipeline, checkPipelineScheduler, checkPipelineSteps, checkSizeFlags, negativePromptGuidanceNote, pipelineFolder, pipelineSizing } from './generate-pipeline.js';
import { blockDetail, decodeProgress, plural, progressBar, setKernelStage } from './progress.js';
import { pluralVerb } from '../plural.js';
import { decodedFrames, type VaeScale } from '../pipeline/pipeline.js';
import { formatDuration } from '../pipeline/step-work.js';
import { cpuLoopNoteFor } from './cpu-note.js';
import { checkRunFits, checkWeightsFit, estimateWeights, LimitError, type MemoryLimits } from '../model/memory.js';
import type { ModelConfig } from '../model/config.js';
import { DEFAULT_MAX_SEQUENCE_LENGTH, MAX_SEQUENCE_LENGTH } from '../text/prompt-encoder.js';
import { checkVariantFlag, variantOption } from './cmd-forward.js';
import { checkSchedulerName } from './cmd-generate.js';
import { resolveSchedulerClass, SCHEDULER_CLASSES, SCHEDULER_SHORT_NAMES, shiftNoteInFlagWords } from '../sampler/config.js';
import { ropeAsUsage, stepsAsUsage, warnInFlagWords } from './errors.js';

export const demoCommand: Command = {
  spec: {
    name: 'demo',
    quiet: true,
    summary: 'a clip from a prompt through the whole embedded tessera-shapes pipeline (text encoder → denoising → VAE), every stage timed and profiled; writes out/clip.mp4 (with ffmpeg), clip.gif, trace.json, profile.json (--preset: clip.gif, trace.json, profile.json; no MP4)',
    usage: 'tessera demo [--prompt P] [--negative-prompt P] [--seed S] [--steps N] [--guidance G] [--scheduler CLASS] [--shift S] [--frames F --height H --width W]\n                    [--pipeline DIR [--variant NAME]] [--max-sequence-length N] [--max-memory SIZE] [--repeats N] [--profile-steps] [--out DIR]\n       tessera demo --preset NAME [--steps N] [--guidance G] [--shift S] [--seed S] [--dtype f32|f16] [--repeats N] [--max-memory SIZE] [--out DIR]   (the random-weight preset demo: one profiled step of a preset architecture)',
    flags: {
      preset: { type: 'choice', choices: presetNames(), help: `run the random-weight preset demo of this architecture instead of the trained pipeline (clip is latent noise, one step profiled): ${presetNames().join(', ')}`, arg: 'NAME' },
      steps: { type: 'int', help: `denoising steps (default ${EMBEDDED_DEFAULTS.num_inference_steps} for the pipeline, 8 with --preset)` },
      prompt: { type: 'string', arg: 'TEXT', help: `the prompt (default "${EMBEDDED_DEFAULTS.prompt}"; the embedded model knows "a {colour} {shape} moving {direction}")` },
      'negative-prompt': { type: 'string', arg: 'TEXT', help: 'negative prompt for classifier-free guidance (default ""); unused, with a note, at --guidance ≤ 1 (as diffusers)' },
      'max-sequence-length': { type: 'int', arg: 'N', help: `tokens per prompt for the text encoder, truncated or zero-padded, as generate --prompt's (default ${DEFAULT_MAX_SEQUENCE_LENGTH}, as WanPipeline)` },
      pipeline: { type: 'string', arg: 'DIR', help: 'a diffusers WanPipeline folder to run instead of the embedded models/tessera-shapes; the demo\'s defaults (prompt, seed 0, steps, size) still apply to it, unlike generate --pipeline' },
      variant: { type: 'string', arg: 'NAME', help: "with --pipeline: the weight variant (e.g. fp16) of every component that has it, as diffusers' variant=" },
      guidance: { type: 'number', help: 'classifier-free guidance scale', default: EMBEDDED_DEFAULTS.guidance_scale },
      scheduler: { type: 'string', arg: 'CLASS', help: `the denoising loop's scheduler class (${SCHEDULER_CLASSES.join(', ')}; or ${Object.keys(SCHEDULER_SHORT_NAMES).join(', ')}), built from the pipeline's scheduler_config.json as diffusers' from_config does, as generate --scheduler; default: model_index.json's scheduler` },
      shift: { type: 'number', help: "flow-matching shift, replacing the pipeline's scheduler_config.json's as diffusers' from_config(config, shift=S): flow-match Euler's shift, or UniPC / DPM-Solver's flow_shift with use_flow_sigmas (the embedded UniPC's, 3 by its config); 3 with a --preset of Wan; other presets' DDIM has none" },
      seed: { type: 'int', help: 'noise seed (and weight seed with --preset)', default: 0 },
      dtype: { type: 'choice', choices: ['f32', 'f16'], help: 'storage dtype (--preset only; the pipeline runs as its weights and the adapter allow)' },
      out: { type: 'string', arg: 'DIR', help: 'output folder', default: 'out' },
      repeats: { type: 'int', help: 'profiled repeats of the transformer step', default: 3 },
      'profile-steps': { type: 'bool', help: "time every denoising step of the loop dispatch by dispatch too (GPU timestamps): a line per step, each step's dispatches in profile.json, a trace track per step; the loop's wall times then include that timing" },
      frames: { type: 'int', help: `output frames (Wan: 4k+1; default ${EMBEDDED_DEFAULTS.num_frames}, the embedded pipeline's size, also with --pipeline: give --frames/--height/--width to profile your pipeline at its real size)` },
      height: { type: 'int', help: `output height in pixels (default ${EMBEDDED_DEFAULTS.height}; a multiple of the VAE's factor × the patch)` },
      width: { type: 'int', help: `output width in pixels (default ${EMBEDDED_DEFAULTS.width}; as --height)` },
      'max-memory': { ...MAX_MEMORY_FLAG, help: `${MAX_MEMORY_FLAG.help}; as generate --pipeline's, each stage (text encoder, denoising, VAE decode) on its own` },
    },
  },
  async run(p) {
    checkPathFlags(p); // a --pipeline folder that does not exist first, before the flags that do not depend on it
    if (p.shift !== undefined && !((p.shift as number) > 0)) throw new UsageError(`--shift must be > 0, got ${p.shift}`);
    if (p.preset !== undefined) {
      for (const f of ['frames', 'height', 'width'] as const) if (p[f] !== undefined) throw new UsageError(`--${f} is the pipeline demo's output size; --preset profiles one step of a preset architecture at its own size (tessera bench model --preset NAME takes --frames/--height/--width)`);
      for (const f of ['prompt', 'negative-prompt', 'max-sequence-length', 'pipeline', 'variant', 'profile-steps', 'scheduler'] as const) if (p[f] !== undefined) throw new UsageError(`--${f} runs the trained pipeline; --preset runs a random-weight architecture without a text encoder: give one or the other`);
      p.dtype ??= 'f32';
      return presetDemo(p);
    }
    return pipelineDemo(p);
  },
};

const ms = (x: number) => `${(x / 1000).toFixed(2)} s`;

/** The text encoder's tokens per prompt: --max-sequence-length (range-checked before the GPU), else WanPipeline's 512. */
const maxSequenceLength = (p: Parsed): number => (p['max-sequence-length'] as number | undefined) ?? DEFAULT_MAX_SEQUENCE_LENGTH;

/** What the "compiling kernels" lines say each stage's kernels are for (the tables' stage names). */
export const KERNEL_STAGE_WORDS: Readonly<Record<PipelineStage, string>> = { text_encoder: 'text encoder', transformer: 'transformer', vae: 'VAE decode' };

/**
 * The pipeline demo's two progress bars, each counting seconds from its own stage's start (onStage): "denoising
 * i/N" from the denoising loop's (the transformer stage; it counted from before the text encoder), "decoding frames
 * i/N" from the VAE decode's. Steps or frames reported outside their stage draw nothing.
 */
export function stageBars() {
  let denoising: ReturnType<typeof progressBar> | undefined;
  let decoding: ReturnType<typeof decodeProgress> | undefined;
  return {
    stage(s: PipelineStage) {
      if (s === 'transformer') denoising = progressBar('denoising');
      if (s === 'vae') {
        denoising?.done();
        denoising = undefined;
        decoding = decodeProgress(true, 'latent frame'); // the embedded pipeline's AutoencoderKLWan
      }
    },
    step: (done: number, total: number) => denoising?.update(done, total),
    // inside a long step (onBlock): the steps done so far and the blocks of the step under way
    block: (step: number, steps: number, block: number, blocks: number) => denoising?.update(step - 1, steps, blockDetail(step, block, blocks)),
    decode: (done: number, total: number) => decoding?.update(done, total),
    // inside a long decode pass (onDecodeBlock): the latent frame under way and its parts
    decodeBlock: (pass: number, passes: number, part: number, parts: number) => decoding?.block(pass, passes, part, parts),
    done() {
      denoising?.done();
      decoding?.done();
    },
  };
}

/** What the demo writes in --out (each probed before any GPU work). */
const DEMO_FILES = ['clip.gif', 'trace.json', 'profile.json', 'clip.mp4'];

/**
 * Writes the demo's files in `dir` together: each to its temp name (the MP4 through ffmpeg), then
 * all renamed at once; when one fails, none is left (the temps are removed) and the error thrown.
 */
async function writeDemoFiles(dir: string, o: { gif: Uint8Array; trace: Uint8Array; profile: Uint8Array; mp4?: { ff: Ffmpeg; clip: RgbaFrames; fps: number } }): Promise<{ files: Record<'gif' | 'trace' | 'profile' | 'mp4', string>; mp4?: Mp4Written }> {
  const files = { gif: join(dir, 'clip.gif'), trace: join(dir, 'trace.json'), profile: join(dir, 'profile.json'), mp4: join(dir, 'clip.mp4') };
  const staged: StagedFile[] = [];
  try {
    for (const k of ['gif', 'trace', 'profile'] as const) staged.push({ tmp: writeTemp(files[k], o[k]), path: files[k] });
    let mp4: Mp4Written | undefined;
    if (o.mp4) {
      const m = await stageMp4Ffmpeg(o.mp4.ff, files.mp4, o.mp4.clip, { fps: o.mp4.fps });
      staged.push({ tmp: m.tmp, path: files.mp4 });
      mp4 = m.written;
    }
    commitTemps(staged);
    return { files, mp4 };
  } catch (e) {
    for (const f of staged) dropTemp(f.tmp);
    throw e;
  }
}

/** One-off kernel work of a stage (ms): autotuning (timing candidate kernels, the compiles it makes included) and compiling outside it. */
export interface OneOff {
  tuneMs: number;
  compileMs: number;
}

/**
 * Times the one-off kernel work of each stage from the device's KernelEvents (watchKernels): a tuning
 * pass from its first event (done 0) to its last (done === total), a compile batch likewise when no
 * tuning pass is open. `stage` is the stage the events are charged to. `where`: the tuning cache.
 */
export function oneOffTimer() {
  const per = new Map<PipelineStage, OneOff>();
  let tuneFrom: number | null = null;
  let compileFrom: number | null = null;
  const t = {
    stage: undefined as PipelineStage | undefined,
    where: undefined as string | null | undefined,
    of: (s: PipelineStage): OneOff => per.get(s) ?? { tuneMs: 0, compileMs: 0 },
    event(e: KernelEvent) {
      if (!t.stage) return;
      const o = t.of(t.stage);
      per.set(t.stage, o);
      const now = performance.now();
      if (e.type === 'tune') {
        t.where = e.where;
        if (e.done === 0 && tuneFrom === null) tuneFrom = now;
        if (e.done === e.total && tuneFrom !== null) {
          o.tuneMs += now - tuneFrom;
          tuneFrom = null;
        }
      } else if (tuneFrom === null) {
        if (e.done === 0 && compileFrom === null) compileFrom = now;
        if (e.done === e.total && compileFrom !== null) {
          o.compileMs += now - compileFrom;
          compileFrom = null;
        }
      }
    },
  };
  return t;
}

/**
 * "autotuning 149.00 s, compiling kernels 2.20 s" (the parts the stage had), or '' when it had neither
 * (under 5 ms). `counts`: said after the compiling figure (the demo's lines: " (pipeline creation)").
 */
export function oneOffNote(o: OneOff, counts = ''): string {
  if (o.tuneMs + o.compileMs < 5) return '';
  return [o.tuneMs > 0 ? `autotuning ${ms(o.tuneMs)}` : '', o.compileMs > 0 ? `compiling kernels ${ms(o.compileMs)}${counts}` : ''].filter((x) => x).join(', ');
}

/** What the demo's "compiling kernels" figures count: not a CPU driver's compile at a pipeline's first dispatch. */
const CREATION = ' (pipeline creation)';

/**
 * How much longer the first denoising step took than a later one (ms): the first step's time minus the
 * median of the later steps' (`stepAt[i]`: when step i ended, `stepAt[0]` the loop's start), or undefined
 * with fewer than two steps timed. It holds the step's compiling and autotuning (counted apart, from the
 * device's events), recording the step's plan, and what the driver does at each pipeline's first
 * dispatch: a CPU driver such as lavapipe compiles the shader there, which pipeline creation (the
 * "compiling kernels" figure) does not include.
 */
export function firstStepExcess(stepAt: readonly (number | undefined)[], steps: number): number | undefined {
  if (steps < 2 || stepAt.slice(0, steps + 1).some((t) => t === undefined)) return undefined;
  const later = Array.from({ length: steps - 1 }, (_, i) => stepAt[i + 2]! - stepAt[i + 1]!);
  return Math.max(0, stepAt[1]! - stepAt[0]! - median(later));
}

/** The demo's output size: --frames/--height/--width (positive integers), else the embedded pipeline's 9 frames of 32×32. */
function demoSize(p: Parsed): { num_frames: number; height: number; width: number } {
  for (const f of ['frames', 'height', 'width'] as const) if (p[f] !== undefined && !((p[f] as number) >= 1)) throw new UsageError(`--${f} must be a positive integer, got ${p[f]}`);
  return { num_frames: (p.frames as number | undefined) ?? EMBEDDED_DEFAULTS.num_frames, height: (p.height as number | undefined) ?? EMBEDDED_DEFAULTS.height, width: (p.width as number | undefined) ?? EMBEDDED_DEFAULTS.width };
}

/**
 * Before any weight is read: the size (checkSizeFlags, for one prompt), and the transformer's run (latents × 2 for CFG) against the
 * adapter's limits (LimitError with the figures).
 */
function demoPreflight(p: Parsed, size: ReturnType<typeof demoSize>, config: ModelConfig, limits: MemoryLimits, dtype: DType, scale: VaeScale, fit: { f16: boolean }, budget: number | undefined): void {
  const lat = checkSizeFlags(config, scale, size, 1, 'prompts');
  const cfgB = (p.guidance as number) > 1 ? 2 : 1;
  // the prompts' embeddings as the demo encodes them: max_sequence_length 512 (WanPipeline's)
  const text = [cfgB, maxSequenceLength(p), config.family === 'wan' ? config.textDim : config.family === 'latte' ? config.captionChannels : 0];
  const hw = `height×width ${size.height}×${size.width}`;
  // the refusal in the user's terms, as generate --pipeline words its own: the size as pixels and frames first, the pass
  // named as the transformer's (CFG's [cond; uncond] batch of 2 said so), its frame suggestion in the frames the VAE makes
  const terms = {
    run: cfgB > 1 ? "the transformer's pass over the prompt and the negative prompt together (classifier-free guidance: a batch of 2)" : "the transformer's pass",
    framesFit: (n: number) => `${pluralVerb(decodedFrames(config.family, scale, n), 'frame', 'fit')} at ${hw}`,
  };
  try {
    // the fit, whose own rope check the size passed; `fit` from loadPipeline's fixedDtype: no f16 suggestion, as the Pipeline's own refusals
    checkRunFits(config, [cfgB * lat[0]!, ...lat.slice(1)], config.family === 'dit' ? undefined : text, dtype, limits, { ...fit, maxMemory: budget, pixelHint: false, terms });
  } catch (e) {
    if (e instanceof LimitError) throw new LimitError(`${hw}${lat.length === 5 ? ` × ${plural(size.num_frames, 'frame')}` : ''} (latents [${lat.join(',')}]) does not fit: ${e.message}`);
    throw ropeAsUsage(e);
  }
}

/**
 * Beside the judge's verdict on the embedded pipeline's clip: a run of fewer than the EMBEDDED_DEFAULTS steps the
 * model was judged at (training/evaluate.py) says so, since a miss there is the step count, not a broken run; '' otherwise.
 */
export function fewStepsNote(steps: number): string {
  const judgedAt = EMBEDDED_DEFAULTS.num_inference_steps;
  return steps < judgedAt ? ` (${plural(steps, 'step')}: below the ${judgedAt} the embedded model is evaluated at, its default (training/evaluate.py); fewer steps may not draw the prompt's clip)` : '';
}

/** The default demo: prompt → clip through a whole pipeline, all three stages profiled. */
async function pipelineDemo(p: Parsed): Promise<number> {
  if (p.dtype !== undefined) throw new UsageError('--dtype applies to --preset; the pipeline runs in f32 (its weights\' dtype)');
  p.steps ??= EMBEDDED_DEFAULTS.num_inference_steps;
  const size = demoSize(p);
  intInRange(p, 'steps', 1, 200);
  intInRange(p, 'repeats', 1, 100);
  checkSeedFlag(p);
  if (p['max-sequence-length'] !== undefined) intInRange(p, 'max-sequence-length', 1, MAX_SEQUENCE_LENGTH);
  const dir = p.out as string;
  const embedded = p.pipeline === undefined;
  const pipelineDir = embedded ? embeddedPipelineDir() : (p.pipeline as string);
  if (embedded && p.variant !== undefined) throw new UsageError(`--variant names the weight files of a --pipeline DIR folder; the embedded pipeline has one set`);
  checkVariantFlag(p);
  const budget = maxMemory(p); // --max-memory or TESSERA_MAX_GPU_MEMORY: a bad size before any GPU work
  if (!embedded) {
    checkDemoPipeline(pipelineDir); // a text-to-video pipeline with a text encoder and a VAE, before the GPU is acquired
  }
  // --scheduler and --shift as generate checks them, from the folder's files before the GPU is acquired
  const scheduler = p.scheduler as string | undefined;
  if (scheduler !== undefined) checkSchedulerName(scheduler);
  checkPipelineScheduler(pipelineDir, embedded, scheduler, p.shift as number | undefined);
  checkPipelineSteps(pipelineDir, p.steps as number, { scheduler, shift: p.shift as number | undefined });
  // the size from the folder's JSON files, before the GPU is acquired (in the preflight when they could not be read here)
  const sizing = await pipelineSizing(pipelineDir);
  if (sizing) checkSizeFlags(sizing.config, sizing.scale, size, 1, 'prompts');
  makeOutputDir('out', dir, DEMO_FILES); // before any model is read: not a raw EACCES/ENOTDIR after the whole run
  const prompt = (p.prompt as string | undefined) ?? EMBEDDED_DEFAULTS.prompt;
  const t0 = performance.now();
  console.log(`tessera demo — "${prompt}" through ${embedded ? 'the embedded tessera-shapes pipeline (trained, models/tessera-shapes)' : pipelineDir}: text encoder → ${plural(p.steps as number, 'denoising step')}${p.shift !== undefined ? ` (flow shift ${p.shift})` : ''} → VAE decode`);
  const unusedNegativePrompt = negativePromptGuidanceNote(p);
  if (unusedNegativePrompt) console.log(unusedNegativePrompt);
  if (embedded) {
    const note = vocabularyNote(prompt);
    if (note) console.log(note);
    const sizeNote = embeddedSizeNote(size.height, size.width);
    if (sizeNote) console.log(sizeNote);
  }
  // ffmpeg is optional here: without it the demo writes the GIF and says how to get the MP4
  let ffmpeg: ReturnType<typeof findFfmpeg> | undefined;
  let noMp4 = '';
  if (whichFfmpeg()) {
    try {
      ffmpeg = findFfmpeg();
    } catch (e) {
      if (!(e instanceof EncoderError)) throw e;
      noMp4 = e.message;
    }
  } else noMp4 = 'no ffmpeg on the PATH (install it: apt-get install ffmpeg; in a tessera checkout, npm run setup does)';
  const pipe = await loadPipeline(await pipelineFolder(pipelineDir), { ...variantOption(p), maxMemory: budget, fixedDtype: true, onWarning: (line) => warnInFlagWords(shiftNoteInFlagWords(line)), preflight: (config, gpu, dtype, vaeScale, fit) => demoPreflight(p, size, config, gpu.limits, dtype, vaeScale, fit, budget) });
  try {
    const loadMs = performance.now() - t0;
    const { height, width, num_frames } = size;
    const call: PipelineGenerateOptions = {
      prompt,
      // unguided: not passed (negativePromptGuidanceNote said so; the pipeline would say it again)
      negative_prompt: (p.guidance as number) > 1 ? (p['negative-prompt'] as string | undefined) : undefined,
      max_sequence_length: maxSequenceLength(p),
      seed: p.seed as number,
      height,
      width,
      num_frames,
      num_inference_steps: p.steps as number,
      guidance_scale: p.guidance as number,
      ...(p.shift !== undefined ? { shift: p.shift as number } : {}),
      ...(scheduler !== undefined ? { scheduler } : {}),
    };
    // profilePipeline checks the call first, as Pipeline.generate does (the sampler state, the transformer against the
    // adapter, the VAE decode against --max-memory), before any kernel is compiled: a refused size is generate
    // --pipeline's refusal, in the user's pixel sizes, and names no device (said at the first stage, once it passed)
    let deviceSaid = false;
    const bars = stageBars();
    // the first run on an adapter tunes and compiles kernels: timed per stage, so the lines below can say what it cost
    const oneOff = oneOffTimer();
    const stopWatching = watchKernels(pipe.gpu, (e) => oneOff.event(e));
    const stepAt: number[] = [];
    const prof = await profilePipeline(
      pipe,
      {
        ...call,
        onStep: (s, n) => {
          stepAt[s] = performance.now();
          bars.step(s, n);
        },
        onBlock: (s, n, block, blocks) => bars.block(s, n, block, blocks),
        // as tessera decode and generate show theirs (the stage's profiled re-runs report none)
        onDecodeProgress: (done, total) => bars.decode(done, total),
        onDecodeBlock: (pass, passes, part, parts) => bars.decodeBlock(pass, passes, part, parts),
      },
      {
        repeats: p.repeats as number,
        profileSteps: p['profile-steps'] === true,
        onStage: (s) => {
          if (!deviceSaid) console.log(`device: ${describeAdapter(pipe.gpu)}`);
          deviceSaid = true;
          oneOff.stage = s;
          setKernelStage(KERNEL_STAGE_WORDS[s]);
          if (s === 'transformer') {
            // on a CPU adapter, before minutes pass without a word (user22 #6): a lower bound from the step's FLOPs, no ceiling measured
            const note = cpuLoopNoteFor(pipe, call);
            if (note) console.log(note);
          }
          if (s === 'transformer') stepAt[0] = performance.now(); // the loop's start: the first step's time is from here
          bars.stage(s);
        },
      },
    )
      // a step count the pipeline's scheduler cannot run is --steps' problem, as in generate
      .catch((e: unknown) => Promise.reject(stepsAsUsage(e)))
      .finally(() => {
        stopWatching();
        setKernelStage(null);
        // a terminal's bar line ends before the report or the error line
        bars.done();
      });
    const excess = firstStepExcess(stepAt, prof.output.timesteps.length);
    const video = prof.output.video!;
    // what issue 12's judge reads in the clip, for prompts of the training set's form
    const asked = parseShapesPrompt(prompt);
    const judged: (Verdict & { pass: boolean }) | null = asked ? judgeVideo(video, [[asked.colour, asked.direction]])[0]! : null;
    // no device-ceiling measurement here (tens of seconds on a loaded CPU adapter, longer than the clip): `tessera bench ceiling` has it
    const ceiling = undefined;
    console.log('');
    console.log('per-kernel tables: "total ms" sums each dispatch\'s median time; the share column is of the table\'s own total (one transformer step, or the whole encode/decode); no % of the device\'s FMA/bandwidth ceiling here (the demo does not measure it: tessera bench ceiling does)');
    console.log('');
    for (const s of prof.stages) {
      console.log(`== ${s.name}: ${s.run.dispatches.length} dispatches profiled — ${s.covers}`);
      console.log(formatKernelTable(kernelTable(s.run, ceiling), { shareLabel: s.stage === 'transformer' ? '% step' : '% stage', ceilingColumns: false }));
      console.log('');
      if (s.stepRuns) console.log(stepRunLines(s.stepRuns).join('\n') + '\n');
    }
    const clip = videoToFrames(video, 0);
    // the scheduler the loop sampled with: --scheduler's class, else the pipeline's own
    const schedulerClass = scheduler !== undefined ? resolveSchedulerClass(scheduler, '--scheduler') : pipe.scheduler.className;
    const trace = chromeTrace(stageRuns(prof.stages), { process: `GPU: ${describeAdapter(pipe.gpu)}` });
    const fps = 16;
    const json = (v: unknown, indent?: number) => new TextEncoder().encode(JSON.stringify(v, null, indent));
    const { files, mp4 } = await writeDemoFiles(dir, {
      gif: encodeGif(clip.frames, clip.width, clip.height, { fps }),
      trace: json({ ...trace, otherData: { ...trace.otherData, scheduler: schedulerClass } }),
      profile: json(demoJson(p, prompt, pipelineDir, prof.stages, { judged, loadMs, totalMs: prof.totalMs, profileMs: prof.profileMs, video: video.shape, latents: prof.output.latents.shape, timesteps: prof.output.timesteps, oneOff: oneOff.of, firstStepExcess: excess, tuningCache: oneOff.where ?? tuneStoreWhere(), scheduler: schedulerClass }, ceiling), 1),
      mp4: ffmpeg ? { ff: ffmpeg, clip, fps } : undefined,
    });
    // in a fixed order: the clip, then the profile
    const wrote = [
      ...(mp4 ? [`${files.mp4} (${mp4.encoder}${mp4.padded ? `, padded to ${mp4.width}×${mp4.height}` : ''})`] : []),
      `${files.gif} (${plural(clip.frames.length, 'frame')} ${clip.width}×${clip.height} at ${fps} fps, decoded by the VAE; GIF via gifenc)`,
      `${files.trace} (Chrome trace: one track per stage${p['profile-steps'] ? ' and per denoising step' : ''})`,
      `${files.profile} (per-stage wall times, per-kernel tables and dispatches)`,
    ];
    // a clip.mp4 of an earlier run would sit beside this run's clip.gif as if it were this clip
    const stale = !ffmpeg && removeStale(dir, 'clip.mp4');
    console.log(`sampled with ${schedulerClass}${p.shift !== undefined ? ` (shift ${p.shift})` : ''}`);
    console.log(`latents [${prof.output.latents.shape.join(',')}] → video [${video.shape.join(',')}] (F32 in [0, 1])`);
    if (judged) console.log(`judge: ${verdictWords(judged)}${embedded ? fewStepsNote(p.steps as number) : ''}`);
    console.log('wall time per stage (this run):');
    console.log(`  load (weights → GPU)                  ${ms(loadMs)}`);
    const steps = prof.output.timesteps.length;
    for (const s of prof.stages) {
      const o = oneOff.of(s.stage);
      const note = oneOffNote(o, CREATION);
      if (s.stage !== 'transformer') {
        console.log(`  ${s.name.padEnd(38)}${ms(s.wallMs)} (${note ? `of it ${note}; ` : ''}its kernels profiled in a second, warm run, not in this time)`);
        continue;
      }
      // the steady rate: after the first step, which holds the kernel work (or without that work when there is one step)
      const timed = excess !== undefined;
      const perStep = timed ? `${ms((stepAt[steps]! - stepAt[1]!) / (steps - 1))}/step after the first` : `${ms((s.wallMs - o.tuneMs - o.compileMs) / steps)}/step without ${note ? 'the kernel work' : 'it'}`;
      // the first step's excess over a later one, and what of it was counted: pipeline creation is not a CPU driver's compile at first dispatch
      const first = timed ? `; the first step ${ms(stepAt[1]! - stepAt[0]!)}, ${ms(excess)} more than a later one (median): ${note ? `${note}, the rest ` : ''}first dispatches (a CPU driver such as lavapipe compiles each shader at its first) and recording the step` : note ? `; of it ${note}` : '';
      console.log(`  ${s.name.padEnd(38)}${ms(s.wallMs)} (${plural(steps, 'step')}: ${perStep}${first})`);
    }
    const all = prof.stages.reduce((a, st) => ({ tuneMs: a.tuneMs + oneOff.of(st.stage).tuneMs, compileMs: a.compileMs + oneOff.of(st.stage).compileMs }), { tuneMs: 0, compileMs: 0 });
    // the transformer's first-step excess beyond the kernel work counted in it: mostly first dispatches
    const t = oneOff.of('transformer');
    const rest = excess === undefined || excess - t.tuneMs - t.compileMs < 5 ? 0 : excess - t.tuneMs - t.compileMs;
    const note = oneOffNote(all, CREATION); // '' under 5 ms
    const once = (note ? all.tuneMs + all.compileMs : 0) + rest;
    const without = [note, rest ? `the first step's other excess ${ms(rest)}` : ''].filter((x) => x).join(', ');
    console.log(`  total (text → video)                  ${ms(prof.totalMs)}${without ? ` (${ms(prof.totalMs - once)} without ${without}; the text encoder's and the VAE's first dispatches stay in)` : ''}`);
    console.log(`  profiling runs                        ${ms(prof.stages.reduce((a, st) => a + st.profileMs, 0))} (not in the total: ${prof.stages.map((st) => `${{ text_encoder: 'text encoder', transformer: 'one step', vae: 'VAE' }[st.stage]} ${ms(st.profileMs)}`).join(', ')})`);
    // to here: the checks, the load, the run, its profiling and the files written (all but these last lines)
    console.log(`  whole command                         ${ms(performance.now() - t0)}`);
    if (all.tuneMs > 0) {
      const where = oneOff.where ?? tuneStoreWhere();
      const cache = where ? `its choices are cached in ${where}` : 'nothing was cached (no tuning store)';
      console.log(`autotuning took ${ms(all.tuneMs)} of this run: timing candidate kernels for each shape, paid once per adapter (and per new shape; on lavapipe, per llvmpipe thread count); ${cache}, so later runs skip it (--no-tune skips tuning)`);
    }
    console.log('wrote:');
    for (const f of wrote) console.log(`  ${f}`);
    if (!ffmpeg) console.log(`  (no clip.mp4: ${noMp4}${stale ? `; removed the clip.mp4 of an earlier run from ${dir}` : ''})`);
    console.log(`open the trace: https://ui.perfetto.dev → "Open trace file" → ${join(dir, 'trace.json')} (or chrome://tracing → Load)`);
    return 0;
  } finally {
    pipe.dispose();
  }
}

/** --profile-steps: a line per denoising step of the loop (its dispatches and their summed GPU time), or why it has no per-dispatch times. */
function stepRunLines(runs: readonly ProfileRun[]): string[] {
  const timed = runs.every((r) => r.timing === 'gpu-timestamps');
  const head = timed ? `== each denoising step of the loop, timed dispatch by dispatch as it ran (GPU timestamps; step 1 with the text K/V it computes once):` : `== each denoising step of the loop: no per-dispatch times (${runs[0]?.note ?? 'wall clock'}):`;
  return [head, ...runs.map((r, i) => `  step ${`${i + 1}/${runs.length}`.padEnd(8)}${String(r.dispatches.length).padStart(5)} dispatches  ${r.totalMs.toFixed(3).padStart(10)} ms ${r.timing === 'gpu-timestamps' ? 'GPU' : 'wall'}`)];
}

/** out/profile.json of the pipeline demo. */
function demoJson(p: Parsed, prompt: string, pipelineDir: string, stages: StageProfile[], t: { judged: (Verdict & { pass: boolean }) | null; loadMs: number; totalMs: number; profileMs: number; video: number[]; latents: number[]; timesteps: number[]; oneOff: (s: PipelineStage) => OneOff; firstStepExcess: number | undefined; tuningCache: string | null; scheduler: string }, ceiling: Awaited<ReturnType<typeof deviceCeiling>> | undefined) {
  return {
    command: 'tessera demo',
    pipeline: pipelineDir,
    prompt,
    seed: p.seed,
    num_inference_steps: p.steps,
    // the class the denoising loop sampled with (--scheduler's, else model_index.json's)
    scheduler: t.scheduler,
    // --shift, or null: the scheduler config's own
    shift: (p.shift as number | undefined) ?? null,
    timesteps: t.timesteps,
    guidance_scale: p.guidance,
    latents_shape: t.latents,
    video_shape: t.video,
    judge: t.judged,
    wall_ms: { load: t.loadMs, ...Object.fromEntries(stages.map((s) => [s.stage, s.wallMs])), total: t.totalMs, profiled_extra_step: t.profileMs },
    // within wall_ms: the kernel work of a first run on this adapter (0 once tuned and compiled)
    one_off_ms: Object.fromEntries(stages.map((s) => [s.stage, { autotune: t.oneOff(s.stage).tuneMs, compile: t.oneOff(s.stage).compileMs }])),
    // how much longer the first denoising step took than the median later one (null under 2 steps): its compile above is
    // pipeline creation only; a CPU driver (lavapipe) compiles each shader at its first dispatch, which is in here
    first_step_excess_ms: t.firstStepExcess ?? null,
    tuning_cache: t.tuningCache,
    stages: stages.map((s) => ({ stage: s.stage, name: s.name, covers: s.covers, stage_wall_ms: s.wallMs, ...profileJson(s.run, ceiling, { layerDepth: 1 }), ...(s.stepRuns ? { denoising_steps: s.stepRuns.map((r) => profileJson(r, ceiling, { layerDepth: 1 })) } : {}) })),
  };
}

// the CPU adapter's long-step line, shared with generate --pipeline (its old home was here: the names stay importable from it)
export { cpuLoopNote, CPU_GENEROUS_GFLOPS_PER_CORE, LONG_STEP_S } from './cpu-note.js';

/**
 * The preset demo's line on a CPU adapter (lavapipe, SwiftShader), said before the weights are made: a lower bound on
 * a denoising step's time, the transformer's FLOPs over the FMA rate the adapter reached just now (deviceCeiling).
 * FLOPs: 2 per weight per token for each item of the CFG batch (the linear layers; attention adds more), so the bound
 * holds however loaded the machine is when it was measured. It is near for a large preset (wan-1.3b: 269 s bound, 292 s
 * run) and far below a small one's time, which is per-dispatch overhead (wan-tiny: 0.04 s bound, 4.49 s a step), so
 * the line says it is from FLOPs only, and with `last` (this preset's previous run in the output folder: lastPresetRun)
 * how far that run's step time was above the bound. `weights`: the transformer's weight count; `tokens`: its patch
 * tokens per item; `fmaGflops`: the measured rate (GFLOP/s); `last.stepS`: seconds a step, `last.file` where it was read.
 */
export function cpuStepNote(o: { preset: string; weights: number; tokens: number; batch: number; steps: number; fmaGflops: number; last?: { stepS: number; file: string } }): string {
  const gflop = (2 * o.weights * o.tokens * o.batch) / 1e9;
  const s = gflop / o.fmaGflops;
  const batch = o.batch > 1 ? ` × CFG batch ${o.batch}` : '';
  const ratio = o.last && o.last.stepS / s;
  const last = o.last ? `; the last ${o.preset} run here took ${formatDuration(o.last.stepS)} a step, ${ratio! >= 10 ? ratio!.toFixed(0) : ratio!.toFixed(1)}× this bound (${o.last.file})` : '';
  return `CPU adapter: one ${o.preset} step is at least ${gflop.toFixed(gflop >= 10 ? 0 : 2)} GFLOP (2 × ${o.weights.toExponential(2)} weights × ${o.tokens} tokens${batch}); at the ${o.fmaGflops.toFixed(1)} GFLOP/s this adapter reached just now, at least ${formatDuration(s)} a step, ${formatDuration(s * o.steps)} for ${plural(o.steps, 'step')} before the profiled repeats — a lower bound from FLOPs only: kernels run below that rate (a small preset's far below: its time is per-dispatch overhead) and the first step compiles them${last}: --steps N runs fewer${o.preset === 'wan-tiny' ? '' : ', and --preset wan-tiny is the quick one'}`;
}

/**
 * The seconds a step of `preset`'s previous demo run took, from the profile.json it left in `dir` (generate_s / steps:
 * the loop's wall time, its first step's compiling and tuning included), or undefined when there is none of that preset.
 */
export function lastPresetRun(dir: string, preset: string): { stepS: number; file: string } | undefined {
  const file = join(dir, 'profile.json');
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as { preset?: unknown; generate_s?: unknown; steps?: unknown };
    if (j.preset !== preset || typeof j.generate_s !== 'number' || typeof j.steps !== 'number' || !(j.generate_s > 0) || !(j.steps >= 1)) return undefined;
    return { stepS: j.generate_s / j.steps, file };
  } catch {
    return undefined; // none, or not one the demo wrote: no figure
  }
}

async function presetDemo(p: Parsed): Promise<number> {
  p.steps ??= 8;
  intInRange(p, 'steps', 1, 200);
  intInRange(p, 'repeats', 1, 100);
  checkSeedFlag(p);
  const budget = maxMemory(p);
  const preset = getPreset(p.preset as string);
  if (p.shift !== undefined && parseConfig(preset.config).family !== 'wan') throw new UsageError(`--shift applies to flow-match models (the Wan presets); ${p.preset} samples with DDIM, which has no shift`);
  const gpu = await acquireGpu();
  try {
    // refused before the output folder, the estimate line and the ceiling's GPU work, as `bench model` refuses it (user24 #4)
    checkWeightsFit(parseConfig(preset.config), (p.dtype as DType | undefined) ?? 'f32', gpu.limits, { maxMemory: budget, f16: gpu.f16 });
    makeOutputDir('out', p.out as string, DEMO_FILES);
    console.log(`tessera demo — ${p.preset}: ${preset.about}`);
    console.log('NOTE: the weights are RANDOM (seeded), not a trained checkpoint: the clip shows what the engine computes, not a meaningful video.');
    console.log(`device: ${describeAdapter(gpu)}`);
    if (gpu.isCpu) {
      // before minutes pass without a word (wan-1.3b on lavapipe: minutes a step): the step's FLOPs over a rate measured now
      const c = parseConfig(preset.config);
      const tokens = patchTokens(c, preset.latent);
      const fma = (await deviceCeiling(gpu)).fma_gflops; // measured once per device; the report below uses it too
      const last = lastPresetRun(p.out as string, p.preset as string);
      console.log(cpuStepNote({ preset: p.preset as string, weights: estimateWeights(c, 'f32').bytes / 4, tokens, batch: (p.guidance as number) > 1 ? 2 : 1, steps: p.steps as number, fmaGflops: fma, last }));
    }
    const model = await loadRandomModel(preset.config, { gpu, dtype: p.dtype as DType, seed: p.seed as number, name: p.preset as string, maxMemory: budget });
    try {
      const c = model.config;
      const { frames, height, width } = preset.latent;
      const B = 1;
      const shape = c.family === 'dit' ? [B, c.inChannels, height, width] : [B, c.inChannels, frames, height, width];
      const textDim = c.family === 'wan' ? c.textDim : c.family === 'latte' ? c.captionChannels : 0;
      const L = preset.textLen ?? 8;
      const text = textDim ? { data: randn(B * L * textDim, 11), shape: [B, L, textDim] } : undefined;
      const neg = textDim ? { data: randn(B * L * textDim, 12), shape: [B, L, textDim] } : undefined;
      const scheduler = c.family === 'wan' ? 'FlowMatchEulerDiscreteScheduler' : 'DDIMScheduler';
      const bar = progressBar('denoising');
      const t0 = performance.now();
      const result = await generate(model, {
        scheduler,
        num_inference_steps: p.steps as number,
        guidance_scale: p.guidance as number,
        shift: c.family === 'wan' ? ((p.shift as number | undefined) ?? 3) : undefined,
        scheduler_config: c.family === 'wan' ? undefined : { clip_sample: false },
        seed: p.seed as number,
        shape,
        encoder_hidden_states: text,
        negative_encoder_hidden_states: neg,
        class_labels: c.family === 'dit' ? [1] : undefined,
        onStep: (s, n) => bar.update(s, n),
        onBlock: (s, n, block, blocks) => bar.update(s - 1, n, blockDetail(s, block, blocks)),
      });
      bar.done();
      const genS = (performance.now() - t0) / 1000;
      console.log(`generated latents [${result.latents.shape.join(',')}] in ${plural(p.steps as number, 'step')}: ${genS.toFixed(2)} s (${(genS / (p.steps as number)).toFixed(2)} s/step, CFG batch ${(p.guidance as number) > 1 ? 2 : 1})`);

      // profile one denoising step: the same recorded plan the loop replayed
      const cfgB = (p.guidance as number) > 1 ? 2 : 1;
      const steps = { data: new Float32Array(cfgB * result.latents.data.length).fill(0.5), shape: [cfgB, ...shape.slice(1)] };
      const plan = model.planFor({
        hidden_states: steps,
        timestep: new Array(cfgB).fill(500),
        encoder_hidden_states: text && neg ? { data: Float32Array.from([...text.data, ...(cfgB === 2 ? neg.data : [])]), shape: [cfgB, L, textDim] } : undefined,
        class_labels: c.family === 'dit' ? new Array(cfgB).fill(1) : undefined,
      });
      const ceiling = await deviceCeiling(gpu);
      const run = await profilePlan(plan, { repeats: p.repeats as number, warmup: 1, residentBytes: model.weights.bytes });
      console.log('');
      console.log(formatReport(run, ceiling, { layerDepth: 1 }));

      const dir = p.out as string; // made by makeOutputDir before the run
      const per = result.latents.data.length / B;
      const fr = latentsToFrames(result.latents.data.subarray(0, per), shape.slice(1), c.family, { upscale: 8 });
      await writeDemoFiles(dir, {
        gif: encodeGif(fr.frames, fr.width, fr.height, { fps: 8 }),
        trace: new TextEncoder().encode(JSON.stringify(chromeTrace(run))),
        profile: new TextEncoder().encode(JSON.stringify({ preset: p.preset, random_weights: true, generate_s: genS, steps: p.steps, ...profileJson(run, ceiling, { layerDepth: 1 }) }, null, 1)),
      });
      const stale = removeStale(dir, 'clip.mp4'); // the preset demo writes no MP4: one left by an earlier run is not this clip
      console.log('');
      console.log(`wrote ${join(dir, 'clip.gif')} (${plural(fr.frames.length, 'frame')} ${fr.width}×${fr.height}, latent→RGB preview map "${fr.map}"), ${join(dir, 'trace.json')}, ${join(dir, 'profile.json')}`);
      if (stale) console.log(`removed the clip.mp4 of an earlier run from ${dir} (the preset demo writes no MP4)`);
      console.log(`open the trace: https://ui.perfetto.dev → "Open trace file" → ${join(dir, 'trace.json')} (or chrome://tracing → Load)`);
      return 0;
    } finally {
      model.dispose();
    }
  } finally {
    gpu.destroy();
  }
}
