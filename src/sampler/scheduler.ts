// Schedulers with diffusers semantics (CPU).
//
// FlowMatchEulerDiscreteScheduler (Wan) and DDIMScheduler (DiT, Latte), written from
// huggingface/diffusers src/diffusers/schedulers/scheduling_flow_match_euler_discrete.py and
// scheduling_ddim.py. Precision follows diffusers: where it computes in numpy float64 we use JS
// doubles, where it computes on torch float32 tensors every operation is rounded with
// Math.fround in the same order. Only the pieces the pipelines use are implemented
// (static shift, eta = 0); every other config value is rejected by name.

import { EPS_SLOT, type LinOp, type StepProgram } from './program.js';

const f32 = Math.fround;

/** A scheduler's timesteps and update on host f32 arrays (the flow-match Euler and DDIM math of diffusers' schedulers). */
export interface Scheduler {
  /** Its short name: 'flow-match-euler' or 'ddim'. */
  readonly name: string;
  /** Value fed to the model at step i (flow: sigma*1000, fractional; ddim: integer t). */
  readonly timesteps: number[];
  /** 1 for both schedulers: the initial latents are the noise as given. */
  readonly initNoiseSigma: number;
  /** One update: returns the new sample. modelOutput and sample are the same length (f32). */
  step(i: number, modelOutput: Float32Array, sample: Float32Array): Float32Array;
}

// ---------------------------------------------------------------------------------------------
// numpy helpers (float64)

/** np.linspace(start, stop, num) with endpoint=True, float64, numpy's exact formula. */
export function npLinspace(start: number, stop: number, num: number): number[] {
  const div = num - 1;
  const delta = stop - start;
  const y: number[] = [];
  if (div > 0) {
    const step = delta / div;
    for (let i = 0; i < num; i++) y.push((step === 0 ? (i / div) * delta : i * step) + start);
    y[num - 1] = stop;
  } else {
    for (let i = 0; i < num; i++) y.push(i * delta + start);
  }
  return y;
}

/** np.arange(start, stop, step) for floats: length ceil((stop-start)/step), values start + i*d
 *  where numpy's fill recomputes d = (start + step) - start. */
export function npArange(start: number, stop: number, step: number): number[] {
  const len = Math.max(0, Math.ceil((stop - start) / step));
  if (len === 0) return [];
  const y = [start];
  if (len > 1) {
    const next = start + step;
    const d = next - start;
    y.push(next);
    for (let i = 2; i < len; i++) y.push(start + i * d);
  }
  return y;
}

/** np.round: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// ---------------------------------------------------------------------------------------------
// flow matching

export interface FlowMatchOptions {
  numTrainTimesteps?: number; // default 1000
  shiftTerminal?: number | null; // config shift_terminal
  invertSigmas?: boolean; // config invert_sigmas
}

/** FlowMatchEulerDiscreteScheduler(shift=shift).set_timesteps(steps) without dynamic shifting.
 *  Returns the timesteps fed to the model and steps+1 sigmas (terminal 0, or 1 when inverted). */
export function flowMatchSigmas(
  steps: number,
  shift: number,
  opts: FlowMatchOptions = {},
): { timesteps: number[]; sigmas: number[] } {
  const n = opts.numTrainTimesteps ?? 1000;
  checkSteps(steps, n);
  // __init__ (torch float32): training sigmas t/N for t = N..1, shifted ONCE here; sigma_max and
  // sigma_min are read from these shifted values (.item() -> double of the f32 value).
  const shiftF = f32(shift);
  const shiftM1 = f32(shift - 1);
  const shiftTrain = (s: number) => f32(f32(shiftF * s) / f32(1 + f32(shiftM1 * s)));
  const sigmaMax = shiftTrain(f32(n / n));
  const sigmaMin = shiftTrain(f32(1 / n));
  // set_timesteps (numpy float64): linspace over t = sigma*N, back to sigmas, shifted AGAIN.
  const ts = npLinspace(sigmaMax * n, sigmaMin * n, steps);
  let sig = ts.map((t) => t / n).map((s) => (shift * s) / (1 + (shift - 1) * s));
  if (opts.shiftTerminal) {
    // stretch_shift_to_terminal (float64)
    const st = opts.shiftTerminal;
    const oneMinus = sig.map((s) => 1 - s);
    const scale = oneMinus[oneMinus.length - 1]! / (1 - st);
    sig = oneMinus.map((z) => 1 - z / scale);
  }
  // torch.from_numpy(sigmas).to(float32); timesteps = sigmas * N in f32.
  let sigmas = sig.map(f32);
  if (opts.invertSigmas) {
    sigmas = sigmas.map((s) => f32(1 - s));
    return { timesteps: sigmas.map((s) => f32(s * n)), sigmas: [...sigmas, 1] };
  }
  return { timesteps: sigmas.map((s) => f32(s * n)), sigmas: [...sigmas, 0] };
}

export class FlowMatchEulerScheduler implements Scheduler {
  readonly name = 'flow-match-euler';
  readonly className = 'FlowMatchEulerDiscreteScheduler';
  readonly initNoiseSigma = 1;
  readonly timesteps: number[];
  /** steps+1 values (f32), the last one terminal. */
  readonly sigmas: number[];

  constructor(steps: number, shift: number, opts: FlowMatchOptions = {}) {
    const r = flowMatchSigmas(steps, shift, opts);
    this.timesteps = r.timesteps;
    this.sigmas = r.sigmas;
  }

  /** prev = sample + (sigma_next - sigma) * model_output, all f32 as in diffusers. */
  step(i: number, modelOutput: Float32Array, sample: Float32Array): Float32Array {
    checkStepArgs(i, this.timesteps.length, modelOutput, sample);
    const dt = f32(this.sigmas[i + 1]! - this.sigmas[i]!);
    const out = new Float32Array(sample.length);
    for (let j = 0; j < out.length; j++) out[j] = sample[j]! + f32(dt * modelOutput[j]!);
    return out;
  }

  /** The run as a step program: slot 1 the sample, prev = sample + (σ_{i+1} − σ_i)·model_output. */
  program(): StepProgram {
    const ops = this.timesteps.map((_, i): LinOp[] => [
      { out: 1, terms: [{ slot: 1, coef: 1 }, { slot: EPS_SLOT, coef: this.sigmas[i + 1]! - this.sigmas[i]! }], label: 'flow_match_euler.step', toModel: true },
    ]);
    return { className: this.className, timesteps: this.timesteps, sigmas: this.sigmas, initNoiseSigma: 1, slots: 2, initSlot: 1, ops, resultSlot: 1 };
  }
}

// ---------------------------------------------------------------------------------------------
// DDIM

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';

/** The f32 nearest to a·b + c (f32 inputs), rounded once, as a fused multiply-add rounds it. */
function fmaF32(a: number, b: number, c: number): number {
  const p = a * b; // exact: two 24-bit significands fit a double's 53
  const sum = p + c;
  const r = f32(sum);
  if (r === sum) return r;
  // Rounding to double first then to f32 is right unless the double landed exactly halfway between
  // two f32s; then the error the double dropped (TwoSum) decides the side.
  const bb = sum - p;
  const err = (p - (sum - bb)) + (c - bb);
  const other = nextF32(r, sum > r ? 1 : -1);
  if ((r + other) / 2 !== sum || err === 0) return r;
  return (err > 0) === (other > r) ? other : r;
}

/** The f32 next to f32 value `x` toward +∞ (dir 1) or −∞ (dir −1). */
function nextF32(x: number, dir: 1 | -1): number {
  if (x === 0) return dir * 2 ** -149;
  const v = new Float32Array([x]);
  const u = new Uint32Array(v.buffer);
  u[0] = u[0]! + ((x > 0) === (dir > 0) ? 1 : -1);
  return v[0]!;
}

/**
 * torch.linspace(start, end, steps, dtype=float32) on CPU, bit for bit (torch 2.x, x86-64 AVX2):
 * step = (end − start)/(steps − 1) in f32; the first half counts up from start, the second down
 * from end, each value one fused multiply-add (start + step·i, end − step·(steps − 1 − i)). Betas
 * from an unfused form differ in the last bit in about a quarter of the entries, and through
 * alphas_cumprod that moves the timestep an exponential-sigma schedule truncates to (998 vs 999).
 * Checked against torch's own linspace over 306 random (start, end, steps).
 */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  const s = f32(start);
  const e = f32(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = f32(f32(e - s) / (steps - 1));
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < half ? fmaF32(step, i, s) : fmaF32(-step, steps - i - 1, e);
  return out;
}

/** Betas as DDIMScheduler.__init__ builds them (float32 values). */
export function betasFor(
  schedule: BetaSchedule,
  numTrainTimesteps = 1000,
  betaStart = 0.0001,
  betaEnd = 0.02,
): Float32Array {
  const n = numTrainTimesteps;
  switch (schedule) {
    case 'linear':
      return torchLinspaceF32(betaStart, betaEnd, n);
    case 'scaled_linear': {
      const b = torchLinspaceF32(Math.sqrt(betaStart), Math.sqrt(betaEnd), n);
      return b.map((x) => f32(x * x));
    }
    case 'squaredcos_cap_v2': {
      // betas_for_alpha_bar (python floats), then torch.tensor(..., dtype=float32)
      const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
      const b = new Float32Array(n);
      for (let i = 0; i < n; i++) b[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999);
      return b;
    }
    default:
      throw new Error(`scheduler config: beta_schedule '${String(schedule)}' is not supported (linear, scaled_linear, squaredcos_cap_v2)`);
  }
}

/** torch.cumprod(1 - betas) on CPU: f32 inputs, accumulated in double, each output rounded. */
export function alphasCumprod(betas: Float32Array): Float32Array {
  const out = new Float32Array(betas.length);
  let acc = 1;
  for (let i = 0; i < betas.length; i++) {
    acc *= f32(1 - betas[i]!);
    out[i] = acc;
  }
  return out;
}

/**
 * rescale_zero_terminal_snr (arXiv 2305.08891 Algorithm 1) in torch float32. Every step matches
 * diffusers bit for bit except the sqrt of alphas_cumprod: torch's f32 sqrt on CPU is not correctly
 * rounded (on the fixture host about 15 % of results are 1 ulp off, by the host's math library) and
 * this one is. The result stays within 5e-6 of diffusers' alphas_cumprod, but a sigma_min final
 * sigma, √((1 − ᾱ_0)/ᾱ_0), cancels in 1 − ᾱ_0 and lands up to 1.5e-3 off (tests/sampler/table-bits.test.ts).
 */
export function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const ac = alphasCumprod(betas);
  const sq = ac.map((a) => f32(Math.sqrt(a)));
  const s0 = sq[0]!;
  const sT = sq[sq.length - 1]!;
  const k = f32(s0 / f32(s0 - sT));
  const bar = sq.map((a) => {
    const v = f32(f32(a - sT) * k);
    return f32(v * v);
  });
  const out = new Float32Array(betas.length);
  for (let i = 0; i < bar.length; i++) out[i] = f32(1 - (i === 0 ? bar[0]! : f32(bar[i]! / bar[i - 1]!)));
  return out;
}

/** DDIMScheduler.set_timesteps(steps): integer timesteps, first to last. */
export function ddimTimesteps(
  steps: number,
  numTrainTimesteps = 1000,
  spacing: TimestepSpacing = 'leading',
  stepsOffset = 0,
): number[] {
  const n = numTrainTimesteps;
  checkSteps(steps, n);
  switch (spacing) {
    case 'linspace':
      return npLinspace(0, n - 1, steps).map(roundHalfEven).reverse();
    case 'leading': {
      const ratio = Math.floor(n / steps);
      const t: number[] = [];
      for (let i = steps - 1; i >= 0; i--) t.push(i * ratio + stepsOffset);
      return t;
    }
    case 'trailing': {
      const t = npArange(n, 0, -(n / steps)).map((x) => roundHalfEven(x) - 1);
      if (t.length !== steps) {
        // numpy's float arange yields one extra element for some step counts (e.g. 61 of 1000);
        // diffusers then steps through timestep -1, which indexes alphas_cumprod from the end.
        throw new Error(
          `scheduler config: timestep_spacing 'trailing' with ${steps} steps of ${n} gives ${t.length} timesteps in diffusers (ending at ${t[t.length - 1]}); use another step count or spacing`,
        );
      }
      return t;
    }
    default:
      throw new Error(`scheduler config: timestep_spacing '${String(spacing)}' is not supported (leading, trailing, linspace)`);
  }
}

export interface DDIMOptions {
  numTrainTimesteps?: number;
  betaStart?: number;
  betaEnd?: number;
  betaSchedule?: BetaSchedule;
  trainedBetas?: number[] | null;
  rescaleBetasZeroSnr?: boolean;
  clipSample?: boolean; // diffusers default: true
  clipSampleRange?: number;
  setAlphaToOne?: boolean;
  stepsOffset?: number;
  predictionType?: PredictionType;
  timestepSpacing?: TimestepSpacing;
}

export class DDIMScheduler implements Scheduler {
  readonly name = 'ddim';
  readonly className = 'DDIMScheduler';
  readonly initNoiseSigma = 1;
  readonly timesteps: number[];
  readonly alphasCumprod: Float32Array;
  readonly finalAlphaCumprod: number;
  readonly numTrainTimesteps: number;
  readonly numInferenceSteps: number;
  readonly predictionType: PredictionType;
  readonly clipSample: boolean;
  readonly clipSampleRange: number;

  constructor(steps: number, o: DDIMOptions = {}) {
    const n = o.numTrainTimesteps ?? 1000;
    let betas = o.trainedBetas
      ? Float32Array.from(o.trainedBetas)
      : betasFor(o.betaSchedule ?? 'linear', n, o.betaStart ?? 0.0001, o.betaEnd ?? 0.02);
    if (betas.length !== n) throw new Error(`scheduler config: trained_betas has ${betas.length} values, num_train_timesteps is ${n}`);
    if (o.rescaleBetasZeroSnr) betas = rescaleZeroTerminalSnr(betas);
    this.alphasCumprod = alphasCumprod(betas);
    this.finalAlphaCumprod = (o.setAlphaToOne ?? true) ? 1 : this.alphasCumprod[0]!;
    this.numTrainTimesteps = n;
    this.numInferenceSteps = steps;
    this.timesteps = ddimTimesteps(steps, n, o.timestepSpacing ?? 'leading', o.stepsOffset ?? 0);
    this.predictionType = o.predictionType ?? 'epsilon';
    this.clipSample = o.clipSample ?? true;
    this.clipSampleRange = o.clipSampleRange ?? 1;
    for (const t of this.timesteps) {
      if (t < 0 || t >= n) throw new Error(`scheduler config: timestep ${t} is outside [0, ${n}) (steps_offset ${o.stepsOffset ?? 0})`);
    }
  }

  /** alpha_prod_t and alpha_prod_t_prev at step i; prev = t - N // steps, as diffusers does for
   *  every spacing. */
  alphasAt(i: number): { alphaProdT: number; alphaProdTPrev: number } {
    const t = this.timesteps[i]!;
    const prev = t - Math.floor(this.numTrainTimesteps / this.numInferenceSteps);
    return {
      alphaProdT: this.alphasCumprod[t]!,
      alphaProdTPrev: prev >= 0 ? this.alphasCumprod[prev]! : this.finalAlphaCumprod,
    };
  }

  /** DDIM update with eta = 0 (deterministic), torch float32 arithmetic. */
  step(i: number, modelOutput: Float32Array, sample: Float32Array): Float32Array {
    checkStepArgs(i, this.timesteps.length, modelOutput, sample);
    const { alphaProdT: a, alphaProdTPrev: ap } = this.alphasAt(i);
    const b = f32(1 - a);
    const sa = f32(Math.sqrt(a));
    const sb = f32(Math.sqrt(b));
    const sap = f32(Math.sqrt(ap));
    // std_dev_t = eta * variance**0.5 = 0, so the direction coefficient is (1 - a_prev)**0.5
    const dirCoef = f32(Math.sqrt(f32(1 - ap)));
    const r = f32(this.clipSampleRange);
    const out = new Float32Array(sample.length);
    for (let j = 0; j < out.length; j++) {
      const x = sample[j]!;
      const m = modelOutput[j]!;
      let x0: number;
      let eps: number;
      switch (this.predictionType) {
        case 'epsilon':
          x0 = f32(f32(x - f32(sb * m)) / sa);
          eps = m;
          break;
        case 'sample':
          x0 = m;
          eps = f32(f32(x - f32(sa * x0)) / sb);
          break;
        case 'v_prediction':
          x0 = f32(f32(sa * x) - f32(sb * m));
          eps = f32(f32(sa * m) + f32(sb * x));
          break;
      }
      if (this.clipSample) x0 = Math.min(Math.max(x0, -r), r);
      out[j] = f32(sap * x0) + f32(dirCoef * eps);
    }
    return out;
  }

  /**
   * The run as a step program (eta = 0): slot 1 the sample, slot 2 the clipped x0 when
   * clip_sample is on. prev = √ᾱ_prev·x0 + √(1 − ᾱ_prev)·ε, with x0 and ε linear in the sample and
   * the model output for each prediction type (ε from the unclipped x0, as diffusers does).
   */
  program(): StepProgram {
    const S = 1;
    const X0 = 2;
    const ops = this.timesteps.map((_, i): LinOp[] => {
      const { alphaProdT: a, alphaProdTPrev: ap } = this.alphasAt(i);
      const sa = Math.sqrt(a);
      const sb = Math.sqrt(1 - a);
      // [coef of sample, coef of model output] for x0 and for eps
      // ᾱ_t = 0 (zero-terminal-SNR's last step) with epsilon: diffusers' x0 = (x − ε)/0 is ±inf and
      // clip_sample clamps it to ±clip_sample_range. ±inf coefficients would give inf − inf = NaN in
      // the sum, so x0 is scaled by 2^64 instead (exact in f32), which the clamp saturates alike
      // whenever |x − ε| ≥ 2^-64·clip_sample_range; x = ε exactly, NaN in diffusers, gives 0 here.
      const x0Eps: [number, number] = sa === 0 && this.clipSample ? [2 ** 64, -sb * 2 ** 64] : [1 / sa, -sb / sa];
      const [x0, eps]: [number, number][] =
        this.predictionType === 'epsilon' ? [x0Eps, [0, 1]]
        : this.predictionType === 'sample' ? [[0, 1], [1 / sb, -sa / sb]]
        : [[sa, -sb], [sb, sa]];
      const sap = Math.sqrt(ap);
      const dir = Math.sqrt(1 - ap);
      const lin = (c: [number, number][], k: number[]) => [{ slot: S, coef: c.reduce((s, v, j) => s + k[j]! * v[0], 0) }, { slot: EPS_SLOT, coef: c.reduce((s, v, j) => s + k[j]! * v[1], 0) }];
      if (!this.clipSample) return [{ out: S, terms: lin([x0, eps], [sap, dir]), label: 'ddim.step', toModel: true }];
      return [
        { out: X0, terms: lin([x0], [1]), clamp: this.clipSampleRange, label: 'ddim.pred_original_sample' },
        { out: S, terms: [{ slot: X0, coef: sap }, ...lin([eps], [dir])], label: 'ddim.step', toModel: true },
      ];
    });
    return { className: this.className, timesteps: this.timesteps, initNoiseSigma: 1, slots: this.clipSample ? 3 : 2, initSlot: S, ops, resultSlot: S };
  }
}

/** Classifier-free guidance: uncond + g * (cond - uncond), in f32 as the pipelines do it. */
export function cfgCombine(cond: Float32Array, uncond: Float32Array, guidance: number): Float32Array {
  if (cond.length !== uncond.length) throw new Error(`cfgCombine: cond has ${cond.length} values, uncond ${uncond.length}`);
  const g = f32(guidance);
  const out = new Float32Array(cond.length);
  for (let j = 0; j < out.length; j++) out[j] = uncond[j]! + f32(g * f32(cond[j]! - uncond[j]!));
  return out;
}

export function checkSteps(steps: number, numTrainTimesteps: number): void {
  if (!Number.isInteger(steps) || steps < 1 || steps > numTrainTimesteps) {
    throw new Error(`steps must be an integer in [1, ${numTrainTimesteps}] (num_train_timesteps), got ${steps}`);
  }
}

function checkStepArgs(i: number, count: number, modelOutput: Float32Array, sample: Float32Array): void {
  if (!Number.isInteger(i) || i < 0 || i >= count) throw new Error(`step index ${i} is outside [0, ${count})`);
  if (modelOutput.length !== sample.length) {
    throw new Error(`step: modelOutput has ${modelOutput.length} values, sample ${sample.length}`);
  }
}
