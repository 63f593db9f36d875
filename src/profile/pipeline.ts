// A whole pipeline call (prompt → text encoder → denoising loop → VAE decode → frames), timed stage by
// stage and profiled kernel by kernel: what `tessera demo` and the browser profiler page show.
// Browser-safe: no Node imports.
//
//   text_encoder  the real encode (UMT5EncoderModel, prompt and negative prompt), its wall time; then
//                 the same encode again with every dispatch timed (Umt5Encoder.encode's runPlan hook,
//                 profileWarm): the first run compiles each kernel at its first dispatch (0.1–2 s each
//                 on lavapipe), which would otherwise read as that kernel's GPU time; the timed encode
//                 is made min(repeats, 3) times and each dispatch's median kept, so one stall of a busy
//                 machine does not read as a kernel's time either
//   transformer   one denoising step (WanTransformer3DModel forward at the loop's batch, CFG included),
//                 replayed after the loop with the run's text embeddings and final latents at its
//                 middle timestep, timed over `repeats` (median); the loop itself runs unprofiled and
//                 its wall time is reported, and each step's (stepWallMs, from the loop's onStep);
//                 with profileSteps, each step of the loop itself is timed dispatch by dispatch too
//                 (Pipeline.generate's onStepProfile: stepRuns, one ProfileRun per step)
//   vae           the real decode (AutoencoderKLWan), its wall time; then the decode again with every
//                 dispatch timed (profileDecode with warm, profileWarm), for the same reasons
import { callHook, type Hook } from '../hook.js';
import { InputError, type TensorData } from '../model/model.js';
import type { Pipeline, PipelineGenerateOptions, PipelineOutput } from '../pipeline/pipeline.js';
import { PIPELINES, pipelineInternals } from '../pipeline/pipeline.js';
import { plural } from '../plural.js';
import { promptList } from '../text/prompt-encoder.js';
import type { Vae } from '../vae/vae.js';
import { postprocessSample } from '../video/frames.js';
import { joinRuns, profileDecode, profileWarm } from './decode.js';
import { profilePlan, type ProfileRun } from './profiler.js';
import type { NamedRun } from './report.js';

/** The three stages, in the order they run. */
export const PIPELINE_STAGES = ['text_encoder', 'transformer', 'vae'] as const;
/** One of PIPELINE_STAGES. */
export type PipelineStage = (typeof PIPELINE_STAGES)[number];

/** One stage of a profiled generation: its wall time and its per-dispatch GPU profile. */
export interface StageProfile {
  /** Which stage. */
  stage: PipelineStage;
  /** Human label naming the component's class, e.g. "text encoder (UMT5EncoderModel)". */
  name: string;
  /** Wall time of the stage in the real run (ms): the encode, the whole denoising loop, the decode (kernel compilation included; no profiling overhead). */
  wallMs: number;
  /** Wall time of the stage's extra profiled run (ms; not in wallMs): the encode's and the decode's second, timed run, the transformer's replayed step. */
  profileMs: number;
  /** Per-dispatch GPU profile (see the file header for what each stage's profile covers). */
  run: ProfileRun;
  /** What `run` covers, in words. */
  covers: string;
  /**
   * The transformer stage only: the wall time of each denoising step of the loop (ms), from the loop's start
   * to step 1's onStep (the text embedding's K/V, kernel compilation and the first forward included), then
   * from each onStep to the next. The loop runs each step as one submit, so it has no per-dispatch times:
   * `run` is one step replayed.
   */
  stepWallMs?: number[];
  /**
   * The transformer stage only, with ProfilePipelineOptions.profileSteps: each denoising step of the loop, its
   * dispatches timed as they ran (generate's onStepProfile: step 1 its text K/V and forward re-run timed after
   * the untimed first run, then each step's forward, guidance and scheduler update). 'wall-clock' runs without
   * per-dispatch times (their `note` says why) where the adapter lacks timestamp-query or forceWallClock is set.
   */
  stepRuns?: ProfileRun[];
}

/** What profilePipeline returns: the generation's output and each stage's profile. */
export interface ProfiledGeneration {
  /** What Pipeline.generate returned: the latents, the timesteps and, always (the profile decodes), the video F32 [B, F, H, W, 3] in [0, 1]. */
  output: PipelineOutput & { video: TensorData };
  /** Stages that ran, in order (text_encoder only when a prompt was given). */
  stages: StageProfile[];
  /** Wall time of encode + denoise + decode (ms), without the extra profiled transformer step. */
  totalMs: number;
  /** Wall time of the profiled replay of one transformer step (ms; not part of totalMs; each stage's own is StageProfile.profileMs). */
  profileMs: number;
}

/** Options of profilePipeline (beside the generate options). */
export interface ProfilePipelineOptions {
  /**
   * Timed repeats of the transformer step (default 3), after one warm-up run; the text encoder's and
   * the VAE's warm profiled runs are made min(repeats, 3) times (per-dispatch medians: one stall of a
   * busy machine does not read as a kernel's time).
   */
  repeats?: number;
  /** Ignore timestamp-query (wall clock per piece; tests of the fallback). */
  forceWallClock?: boolean;
  /** When a stage starts; a returned promise is awaited, and a failure fails the call (src/hook.ts). */
  onStage?: Hook<[stage: PipelineStage]>;
  /**
   * Time every denoising step of the loop dispatch by dispatch as well (StageProfile.stepRuns; generate's
   * onStepProfile, which Pipeline.generate forwards). Default false: the loop runs as Pipeline.generate runs it, so its wall times are the
   * plain run's; with it, the loop's and each step's wall time include the timing (one compute pass per
   * dispatch, step 1's forward run twice).
   */
  profileSteps?: boolean;
}

const cat = (a: Float32Array, b: Float32Array): Float32Array => {
  const o = new Float32Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
};

/**
 * Runs `pipe` on `o` (WanPipeline-style: `prompt`, seed/latents, sizes; output_type "np") and profiles
 * all three stages. Returns diffusers' outputs (`video` [B, F, H, W, 3] in [0, 1], `latents`) and one
 * StageProfile per stage. `o.onStep`, `o.onStepProfile`, `o.onDecodeProgress` and `o.onDecodeBlock` report as in Pipeline.generate (the
 * decode's frames and passes: the decode whose frames are returned; the profiled re-runs of the stage report none).
 * Holds the pipeline for the whole run, as one Pipeline.generate call does: generate() calls on the same
 * pipeline made meanwhile wait for it (and it waits for those made before).
 * @throws InputError for a pipeline without a VAE or a non-Wan/Latte pipeline, and what Pipeline.generate
 *   throws (all that Pipeline.generate checks before its first stage: sizes, the transformer passes and the VAE decode against the
 *   adapter and the budgets, before any GPU work and before waiting for the pipeline).
 */
export async function profilePipeline(pipe: Pipeline, o: PipelineGenerateOptions, opts: ProfilePipelineOptions = {}): Promise<ProfiledGeneration> {
  const inner = pipelineInternals(pipe);
  inner.checkOpen(); // before the checks below use its components (a disposed VAE would name itself)
  if (!pipe.vae) throw new InputError(`${pipe.name}: no VAE loaded, so there are no frames to profile a decode of`);
  if (pipe.family === 'dit') throw new InputError(`${pipe.name}: profilePipeline runs text-to-video pipelines (WanPipeline, LattePipeline)`);
  if (o.output_type === 'latent') throw new InputError('output_type: profilePipeline decodes (output_type "np")', { option: 'output_type' });
  const forceWallClock = opts.forceWallClock ?? false;
  // whole encodes/decodes are repeated, not plans (see profileWarm): at most 3, they cost a stage each
  const warmRepeats = Math.min(opts.repeats ?? 3, 3);
  const repeated = warmRepeats > 1 ? `, made ${warmRepeats} times: per-dispatch medians` : '';
  const guidance = o.guidance_scale ?? PIPELINES[pipe.className].guidance_scale;
  const cfg = guidance > 1;
  const prompts = o.prompt === undefined ? undefined : promptList(o.prompt, 'prompt');
  if (prompts && !pipe.textEncoder) throw new InputError(`prompt: ${pipe.name} has no text encoder loaded; give prompt_embeds (and negative_prompt_embeds) instead`, { option: 'prompt' });
  // every check Pipeline.generate makes of this call, once, before any GPU work: the sizes, the transformer passes and
  // the VAE decode against the adapter and the budgets (the loop's p.generate below re-checks only its own call, which
  // does not decode)
  await inner.checkGenerate(o);
  // the whole profile holds the pipeline, as one Pipeline.generate call does: a generate() of the same
  // pipeline made meanwhile would otherwise run between the stages (the replayed step and the decode
  // reuse the plans and buffers that call's loop and decode use)
  const vae = pipe.vae;
  return inner.exclusive((p) => profileStages(pipe, vae, p.generate, o, opts, { prompts, cfg, warmRepeats, repeated, forceWallClock }));
}

async function profileStages(
  pipe: Pipeline,
  vae: Vae,
  generate: (o: PipelineGenerateOptions, profile?: { stepWallClock?: boolean }) => Promise<PipelineOutput>,
  o: PipelineGenerateOptions,
  opts: ProfilePipelineOptions,
  a: { prompts: string[] | undefined; cfg: boolean; warmRepeats: number; repeated: string; forceWallClock: boolean },
): Promise<ProfiledGeneration> {
  const { prompts, cfg, warmRepeats, repeated, forceWallClock } = a;
  const stages: StageProfile[] = [];
  const textCls = pipe.modelIndex.components.get('text_encoder')?.className ?? 'text encoder';
  const trCls = pipe.modelIndex.components.get('transformer')?.className ?? 'transformer';
  const vaeCls = pipe.modelIndex.components.get('vae')?.className ?? 'VAE';

  // 1. text encoder: the real encode (its wall time), then again with every dispatch timed
  let pos = o.prompt_embeds;
  let neg = o.negative_prompt_embeds;
  if (prompts) {
    await callHook('onStage', 'profilePipeline', opts.onStage, 'text_encoder');
    const L = o.max_sequence_length ?? 512;
    let negs: string[] | undefined;
    if (cfg && !neg) {
      const n = promptList(o.negative_prompt ?? '', 'negative_prompt');
      negs = typeof o.negative_prompt === 'string' || o.negative_prompt === undefined ? prompts.map(() => n[0]!) : n;
      if (negs.length !== prompts.length) throw new InputError(`negative_prompt: ${plural(negs.length, 'prompt')} for ${plural(prompts.length, 'prompt')}`, { option: 'negative_prompt' });
    }
    const enc = await profileWarm(async (runPlan) => {
      const p = await pipe.textEncoder!.encodePrompt(prompts, { max_sequence_length: L, runPlan });
      return { p, n: negs && (await pipe.textEncoder!.encodePrompt(negs, { max_sequence_length: L, runPlan })) };
    }, { forceWallClock, repeats: warmRepeats });
    pos = enc.result.p;
    neg = enc.result.n ?? neg;
    stages.push({ stage: 'text_encoder', name: `text encoder (${textCls})`, wallMs: enc.wallMs, profileMs: enc.profileMs, run: enc.run, covers: `the encode of ${prompts.length} prompt(s)${cfg ? ' and the negative prompt(s)' : ''} at max_sequence_length ${L}, the encoder run on the prompts' tokens only (the longest rounded up to a multiple of 16 rows; the zero rows up to ${L} are appended after it), every dispatch timed in a second, warm run (the first compiles the kernels; its wall time is the stage's)${repeated}` });
  }

  // 2. the denoising loop, unprofiled (its wall time), then one step replayed and profiled
  await callHook('onStage', 'profilePipeline', opts.onStage, 'transformer');
  const t1 = performance.now();
  const stepWallMs: number[] = [];
  let stepFrom = t1;
  const onStep = (step: number, steps: number, timestep: number) => {
    const now = performance.now();
    stepWallMs.push(now - stepFrom);
    stepFrom = now;
    // generate awaits what onStep returns (src/hook.ts): hand the user's promise on
    return o.onStep?.(step, steps, timestep);
  };
  // each step's dispatches, timed (Pipeline.generate's onStepProfile; forceWallClock: without timestamps), handed
  // on to the caller's own onStepProfile too (one that is not a function: Pipeline.generate's InputError)
  const stepRuns: ProfileRun[] = [];
  const given = o.onStepProfile;
  const onStepProfile = opts.profileSteps && (given === undefined || typeof given === 'function')
    ? (step: number, steps: number, run: ProfileRun) => {
        stepRuns.push(run);
        return given?.(step, steps, run);
      }
    : given;
  const res = await generate(
    { ...o, prompt: undefined, negative_prompt: undefined, prompt_embeds: pos, negative_prompt_embeds: cfg ? neg : undefined, output_type: 'latent', onStage: undefined, ...(o.onStep === undefined || typeof o.onStep === 'function' ? { onStep } : {}), onStepProfile }, // a bad onStep: generate's own InputError
    { stepWallClock: forceWallClock },
  );
  const loopMs = performance.now() - t1;
  const tp = performance.now();
  const B = res.latents.shape[0]!;
  const mid = res.timesteps[Math.floor(res.timesteps.length / 2)] ?? res.timesteps[0]!;
  const text = pos!;
  const hidden: TensorData = cfg ? { data: cat(res.latents.data, res.latents.data), shape: [2 * B, ...res.latents.shape.slice(1)] } : res.latents;
  // planFor and the replay are not queued: hold the transformer too (a forward() of it made directly meanwhile)
  const stepRun = await pipe.transformer.exclusive(async () => {
    const plan = pipe.transformer.planFor({
      hidden_states: hidden,
      timestep: new Array(hidden.shape[0]).fill(mid),
      encoder_hidden_states: cfg ? { data: cat(text.data, neg!.data), shape: [2 * B, ...text.shape.slice(1)] } : text,
    });
    return profilePlan(plan, { repeats: opts.repeats ?? 3, warmup: 1, forceWallClock, residentBytes: pipe.transformer.weights.bytes });
  });
  const profileMs = performance.now() - tp;
  stages.push({
    stage: 'transformer',
    name: `transformer (${trCls})`,
    wallMs: loopMs,
    profileMs,
    run: stepRun,
    covers: `one denoising step of ${res.timesteps.length} (forward at batch ${hidden.shape[0]}${cfg ? ', CFG' : ''}, timestep ${mid}), median of ${stepRun.repeats} after ${stepRun.warmup} warm-up; the loop's wall time is for ${res.timesteps.length === 1 ? 'its one step' : `all ${res.timesteps.length} steps`}`,
    stepWallMs,
    ...(opts.profileSteps ? { stepRuns } : {}),
  });

  // 3. the VAE decode (its wall time), then again with every dispatch timed
  await callHook('onStage', 'profilePipeline', opts.onStage, 'vae');
  const t2 = performance.now();
  const dec = await profileDecode(vae, res.latents, { forceWallClock, warm: true, repeats: warmRepeats, ...(o.onDecodeProgress ? { onProgress: o.onDecodeProgress } : {}), ...(o.onDecodeBlock ? { onBlock: o.onDecodeBlock } : {}) });
  const decodeProfileMs = performance.now() - t2 - dec.wallMs;
  const video = postprocessSample(dec.sample);
  stages.push({ stage: 'vae', name: `VAE decode (${vaeCls})`, wallMs: dec.wallMs, profileMs: decodeProfileMs, run: dec.run, covers: `the decode of latents [${res.latents.shape.join(',')}] to ${video.shape.slice(1, 4).join('×')} frames, every dispatch timed in a second, warm run (the first compiles the kernels; its wall time is the stage's)${repeated}` });

  const totalMs = stages.reduce((a, s) => a + s.wallMs, 0);
  return { output: { latents: res.latents, video, timesteps: res.timesteps }, stages, totalMs, profileMs };
}

/** NamedRun.group of a transformer stage's replayed step when the loop's own steps are in the trace too (stageRuns). */
export const REPLAYED_STEP_GROUP = 'replayed: one denoising step timed again after the loop (not part of the run\'s timeline)';

/**
 * The stages as chromeTrace's named runs: one track per stage, named by stage and component; after the
 * transformer's (its replayed step), one track per denoising step of the loop where it has stepRuns. With stepRuns
 * the replayed step is not part of the run's timeline (the loop's steps are, and the replay repeats one of them after
 * the loop): it gets a timeline of its own (group REPLAYED_STEP_GROUP), so that the main one reads text encoder →
 * steps → VAE decode, each step's work drawn once. Without stepRuns the replayed step stands for the loop, in line.
 */
export function stageRuns(stages: readonly StageProfile[]): NamedRun[] {
  return stages.flatMap((s) => [
    { name: s.name, run: s.run, ...(s.stepRuns?.length ? { group: REPLAYED_STEP_GROUP } : {}) },
    ...(s.stepRuns ?? []).map((run, i, all) => ({ name: `denoising step ${i + 1}/${all.length}`, run })),
  ]);
}

/** One ProfileRun of all stages end to end (for one timeline), and the dispatch range of each stage in it. */
export function joinStages(stages: readonly StageProfile[]): { run: ProfileRun; ranges: { stage: PipelineStage; name: string; from: number; to: number }[] } {
  const ranges: { stage: PipelineStage; name: string; from: number; to: number }[] = [];
  let n = 0;
  for (const s of stages) {
    ranges.push({ stage: s.stage, name: s.name, from: n, to: n + s.run.dispatches.length });
    n += s.run.dispatches.length;
  }
  return { run: joinRuns(stages.map((s) => s.run)), ranges };
}
