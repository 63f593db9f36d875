// `tessera bench model`: one denoising step of a whole model = one forward pass on the batch that
// generate() sends with classifier-free guidance on: [cond; uncond], 2 items (src/sampler/generate.ts).
// Seeded inputs, then a check that can fail before anything is timed (there is no float64
// reference for a whole network here), then the same profiler as the kernel benches.
//
// The check (`checkModel`):
//   1. finite: every value of the batch-2 output is finite;
//   2. deterministic: a second forward on the same inputs gives the same bits;
//   3. batch-consistent: item 0 of the batch-2 output equals a forward of item 0 alone (batch 1)
//      within a tight band — catches per-item offsets (conditioning, text, attention batches)
//      that read the other item's data.
// A model that fails gets no time. Browser-safe: no Node imports.
import type { DiffusionModel, ForwardInputs, TensorData } from '../model/model.js';
import { randn } from '../random.js';
import { WrongResultError } from './check.js';

export interface ModelLatent {
  frames: number;
  height: number;
  width: number;
}

/** Relative band for the batch-1 vs batch-2 comparison: max|a − b| ≤ tol · max|b|. */
export const BATCH_TOL = { f32: 1e-5, f16: 1e-2 } as const;

/** [B, C, (F,) H, W] of one item for `model` at `latent` (DiT has no frame axis). */
export function latentShape(model: Pick<DiffusionModel, 'config'>, latent: ModelLatent, batch: number): number[] {
  const c = model.config;
  return c.family === 'dit' ? [batch, c.inChannels, latent.height, latent.width] : [batch, c.inChannels, latent.frames, latent.height, latent.width];
}

/** Text tokens × width of the conditioning (Wan/Latte), or undefined for DiT. */
export function textShape(model: Pick<DiffusionModel, 'config'>, batch: number, textLen: number): number[] | undefined {
  const c = model.config;
  if (c.family === 'dit') return undefined;
  return [batch, textLen, c.family === 'wan' ? c.textDim : c.captionChannels];
}

/**
 * Seeded inputs of one CFG step: batch 2 = [cond; uncond] as generate() batches them (same
 * latents twice, the null class / negative text for the second item), timestep 500.
 * `batch: 1` gives the cond item alone.
 */
export function stepInputs(model: Pick<DiffusionModel, 'config'>, latent: ModelLatent, opts: { textLen: number; seed?: number; batch?: 1 | 2 }): ForwardInputs {
  const c = model.config;
  const B = opts.batch ?? 2;
  const seed = opts.seed ?? 0;
  const one = latentShape(model, latent, 1);
  const per = one.reduce((a, b) => a * b, 1);
  const x = randn(per, seed + 1);
  const hs = new Float32Array(B * per);
  for (let b = 0; b < B; b++) hs.set(x, b * per);
  const inputs: ForwardInputs = { hidden_states: { data: hs, shape: latentShape(model, latent, B) }, timestep: new Array(B).fill(500) };
  if (c.family === 'dit') {
    inputs.class_labels = [1 % c.numClasses, c.numClasses].slice(0, B);
  } else {
    const ts = textShape(model, 1, opts.textLen)!;
    const n = ts.reduce((a, b) => a * b, 1);
    const cond = randn(n, seed + 2);
    const uncond = randn(n, seed + 3);
    const text = new Float32Array(B * n);
    text.set(cond);
    if (B === 2) text.set(uncond, n);
    inputs.encoder_hidden_states = { data: text, shape: textShape(model, B, opts.textLen)! };
  }
  return inputs;
}

export interface ModelCheck {
  ok: boolean;
  finite: boolean;
  /** Index of the first non-finite value of the batch-2 output, when there is one. */
  firstNonFinite?: number;
  deterministic: boolean;
  /** Values that differ between the two batch-2 forwards. */
  nondeterministic: number;
  /** max|item 0 of batch 2 − batch 1| and the band it must stay under (tol · max|batch 1|). */
  batchMaxAbsErr: number;
  batchBound: number;
  batchTol: number;
  elements: number;
  /** Why it failed, in words. */
  failure?: string;
}

/**
 * Runs the three checks. Leaves the batch-2 plan recorded (and the batch-1 one dropped), so
 * timing `model.planFor(inputs2)` afterwards measures only what a step allocates.
 */
export async function checkModel(model: DiffusionModel, inputs1: ForwardInputs, inputs2: ForwardInputs): Promise<ModelCheck> {
  const single: TensorData = await model.forward(inputs1);
  // drop the batch-1 plan before recording the batch-2 one: peak memory is then a step's
  await model.resetPlans();
  const a = await model.forward(inputs2);
  const b = await model.forward(inputs2);
  let firstNonFinite: number | undefined;
  for (let i = 0; i < a.data.length; i++) {
    if (!Number.isFinite(a.data[i]!)) {
      firstNonFinite = i;
      break;
    }
  }
  let nondeterministic = 0;
  const ua = new Uint32Array(a.data.buffer, a.data.byteOffset, a.data.length);
  const ub = new Uint32Array(b.data.buffer, b.data.byteOffset, b.data.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) nondeterministic++;
  let maxErr = 0;
  let maxRef = 0;
  for (let i = 0; i < single.data.length; i++) {
    const d = Math.abs(a.data[i]! - single.data[i]!);
    maxErr = Number.isNaN(d) ? Infinity : Math.max(maxErr, d);
    maxRef = Math.max(maxRef, Math.abs(single.data[i]!));
  }
  const tol = BATCH_TOL[model.dtype];
  const bound = tol * maxRef;
  const finite = firstNonFinite === undefined;
  const deterministic = nondeterministic === 0;
  const consistent = maxErr <= bound && Number.isFinite(maxRef);
  const why: string[] = [];
  if (!finite) why.push(`the output has a non-finite value (${a.data[firstNonFinite!]}) at flat index ${firstNonFinite}`);
  if (!deterministic) why.push(`${nondeterministic}/${a.data.length} output values differ between two forwards on the same inputs`);
  if (!consistent) why.push(`item 0 of the CFG batch differs from the same item run alone by ${maxErr.toExponential(2)} (band ${bound.toExponential(2)} = ${tol} × max|out|)`);
  return {
    ok: finite && deterministic && consistent,
    finite,
    ...(finite ? {} : { firstNonFinite }),
    deterministic,
    nondeterministic,
    batchMaxAbsErr: maxErr,
    batchBound: bound,
    batchTol: tol,
    elements: a.data.length,
    ...(why.length ? { failure: why.join('; ') } : {}),
  };
}

export function assertModelCheck(label: string, c: ModelCheck): void {
  if (c.ok) return;
  throw new WrongResultError(`${label}: result is WRONG — ${c.failure}. Refusing to report a time for a wrong model.`);
}
