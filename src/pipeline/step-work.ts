// How much arithmetic a Pipeline.generate call asks of the adapter, before it runs: the denoising step's FLOPs as the
// transformer's kernels count them (a dry run of its recording), and lower bounds on the time at a given FLOP rate.
import { checkMaxSequenceLength, DEFAULT_MAX_SEQUENCE_LENGTH } from '../text/prompt-encoder.js';
import { InputError, type DiffusionModel } from '../model/model.js';
import { planModel } from '../model/memory.js';
import { patchTokens } from '../model/config.js';
import { PIPELINES, type Pipeline, type PipelineGenerateOptions } from './pipeline.js';

/** What estimateStepWork says of a call: FLOPs (the kernels' own counts) and, given a rate, lower bounds in seconds. */
export interface StepWork {
  /** FLOPs of one denoising step: one transformer forward over `batch` items (both CFG halves). */
  stepFlops: number;
  /** FLOPs done once per call before step 1 (the text's embedder and cross-attention K/V; 0 for DiT). */
  onceFlops: number;
  /** The denoising steps counted (num_inference_steps, default the pipeline class's). */
  steps: number;
  /** FLOPs of the whole denoising loop: onceFlops + steps · stepFlops (not the text encoder, not the VAE decode). */
  loopFlops: number;
  /** Patch tokens per batch item (the transformer's sequence length). */
  tokens: number;
  /** The transformer's batch of a step: the call's items, ×2 with CFG (guidance_scale > 1). */
  batch: number;
  /** Whether CFG is on (guidance_scale > 1): each step runs the conditional and the unconditional halves. */
  cfg: boolean;
  /** With a rate: stepFlops / rate, seconds: no step can take less at that rate (kernels run below it). */
  stepSeconds?: number;
  /** With a rate: loopFlops / rate, seconds. */
  loopSeconds?: number;
}

/** The options of a Pipeline.generate call estimateStepWork reads (as generate reads them); `batch`: the call's items (prompts, seeds or class labels), default 1. */
export type StepWorkOptions = Pick<PipelineGenerateOptions, 'height' | 'width' | 'num_frames' | 'num_inference_steps' | 'guidance_scale' | 'max_sequence_length'> & { batch?: number };

/**
 * The arithmetic of a `pipe.generate(o)` call's denoising loop, without running it: the transformer's forward over
 * latents [B, C, F, H, W] (pipe.latentShape of `o`'s sizes; B = batch, doubled with CFG as generate runs the two
 * halves as one batch) and text [B, max_sequence_length, text dim], counted dispatch by dispatch as the profiler counts
 * them (Dispatch.flops of a dry run: no GPU work, memoized with the fit check generate makes, so a call after it is
 * free; a large shape's first dry run takes ~0.1–1 s). Cross-attention is counted over every text slot (an upper
 * bound on it; at large token counts self-attention dominates). With `gflops` (a rate in GFLOP/s: a measured FMA
 * ceiling, or a generous guess), `stepSeconds` and `loopSeconds` are lower bounds on the time: real kernels run below
 * an FMA roof. What a caller shows before a long run (tessera demo prints it on a CPU adapter when a step would take
 * over 30 s at a generous rate); the library itself prints nothing.
 * @throws InputError naming the option: a size pipe.latentShape refuses, a bad num_inference_steps, guidance_scale,
 *   max_sequence_length or batch, or `gflops` not a positive finite number.
 */
export function estimateStepWork(pipe: Pipeline, o: StepWorkOptions = {}, gflops?: number): StepWork {
  const batch = o.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new InputError(`batch: a positive integer, got ${String(batch)}`, { option: 'batch' });
  const cls = PIPELINES[pipe.className];
  const steps = o.num_inference_steps ?? cls.num_inference_steps;
  const guidance = o.guidance_scale ?? cls.guidance_scale;
  const c = pipe.transformer.config;
  const latent = pipe.latentShape(batch, c.family === 'dit' ? { height: o.height, width: o.width } : { height: o.height, width: o.width, num_frames: o.num_frames });
  return modelStepWork(pipe.transformer, { latent, textLen: checkMaxSequenceLength(o.max_sequence_length), steps, guidance }, gflops);
}

/**
 * estimateStepWork for a transformer alone (loadModel's, for a generate() call): `o.latent` the call's latents shape
 * [B, C, F, H, W] (DiT [B, C, H, W]: its items, before CFG doubles them), `o.textLen` the text embeddings' length L
 * (Wan/Latte; unused for DiT), `o.steps` num_inference_steps, `o.guidance` guidance_scale (CFG when > 1); `gflops`
 * and the result as estimateStepWork's (a dry run of the recording, no GPU work).
 * @throws InputError naming the option: steps not a positive integer, guidance not finite, gflops not a positive
 *   finite number.
 */
export function modelStepWork(model: Pick<DiffusionModel, 'config' | 'dtype' | 'gpu'>, o: { latent: readonly number[]; textLen?: number; steps: number; guidance: number }, gflops?: number): StepWork {
  const { steps, guidance } = o;
  if (!Number.isInteger(steps) || steps < 1) throw new InputError(`num_inference_steps: a positive integer, got ${String(steps)}`, { option: 'num_inference_steps' });
  if (typeof guidance !== 'number' || !Number.isFinite(guidance)) throw new InputError(`guidance_scale: a finite number, got ${String(guidance)}`, { option: 'guidance_scale' });
  if (gflops !== undefined && !(typeof gflops === 'number' && Number.isFinite(gflops) && gflops > 0)) throw new InputError(`gflops: a positive finite FLOP rate (GFLOP/s), got ${String(gflops)}`, { option: 'gflops' });
  const c = model.config;
  const cfg = guidance > 1;
  const B = cfg ? 2 * o.latent[0]! : o.latent[0]!;
  const latent = [B, ...o.latent.slice(1)];
  const textDim = c.family === 'wan' ? c.textDim : c.family === 'latte' ? c.captionChannels : 0;
  const text = textDim ? [B, o.textLen ?? DEFAULT_MAX_SEQUENCE_LENGTH, textDim] : undefined;
  // the limits generate's fit check plans with (the same memo entry)
  const plan = planModel(c, latent, text, model.dtype, model.gpu.limits);
  const [onceFlops, stepFlops] = plan.flops.length > 1 ? [plan.flops[0]!, plan.flops.slice(1).reduce((a, b) => a + b, 0)] : [0, plan.flops[0] ?? 0];
  const loopFlops = onceFlops + steps * stepFlops;
  return {
    stepFlops,
    onceFlops,
    steps,
    loopFlops,
    tokens: patchTokens(c, latent),
    batch: B,
    cfg,
    ...(gflops !== undefined ? { stepSeconds: stepFlops / (gflops * 1e9), loopSeconds: loopFlops / (gflops * 1e9) } : {}),
  };
}

/** FLOPs in words with a unit: "2.50 TFLOP", "812 GFLOP", "3.1 MFLOP". */
export function formatFlops(f: number): string {
  const units: [number, string][] = [[1e15, 'PFLOP'], [1e12, 'TFLOP'], [1e9, 'GFLOP'], [1e6, 'MFLOP']];
  for (const [u, name] of units) if (f >= u) return `${(f / u).toFixed(f / u >= 100 ? 0 : f / u >= 10 ? 1 : 2)} ${name}`;
  return `${f.toFixed(0)} FLOP`;
}

/**
 * Seconds in words, the unit chosen so the figure stays short: under 1 s two decimals ("0.05 s"), under 10 s one
 * ("4.2 s"), under 90 s none ("51 s"), then minutes with one decimal under 90 min ("1.5 min", "89.9 min"), then hours
 * with one ("1.5 h", "3.0 h"). The range is chosen on the rounded figure: one that would round up to the next range's
 * start is written in that range ("0.999" → "1.0 s", "9.97" → "10 s", "89.7" → "1.5 min", 89.97 min → "1.5 h"), never
 * "1.00 s", "10.0 s", "90 s" or "90.0 min". `s`: seconds, a finite number ≥ 0; anything else is written as String(s)
 * + " s" ("NaN s").
 */
export function formatDuration(s: number): string {
  if (!(Number.isFinite(s) && s >= 0)) return `${String(s)} s`;
  const min = (s / 60).toFixed(1);
  if (Number(min) >= 90) return `${(s / 3600).toFixed(1)} h`;
  if (Number(s.toFixed(0)) >= 90) return `${min} min`;
  if (Number(s.toFixed(1)) >= 10) return `${s.toFixed(0)} s`;
  if (Number(s.toFixed(2)) >= 1) return `${s.toFixed(1)} s`;
  return `${s.toFixed(2)} s`;
}
