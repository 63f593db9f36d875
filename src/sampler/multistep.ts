// UniPCMultistepScheduler and DPMSolverMultistepScheduler with diffusers' semantics, as step
// programs (src/sampler/program.ts): timestep/sigma tables and per-step coefficients on the host
// in float64; the tensor arithmetic is a few linear combinations per step.
//
// Written from huggingface/diffusers src/diffusers/schedulers/scheduling_unipc_multistep.py
// (UniPC: Zhao et al. 2023, arXiv 2302.04867 — predictor UniP and corrector UniC with B(h) = h
// "bh1" or e^h − 1 "bh2") and scheduling_dpmsolver_multistep.py (DPM-Solver / DPM-Solver++:
// Lu et al. 2022, arXiv 2206.00927 and 2211.01095, multistep orders 1–3, midpoint / heun).
// Where diffusers keeps a table in float32 (betas, alphas_cumprod, the final sigmas array) the
// values are rounded to f32 the same way; the per-step scalars diffusers evaluates on 0-dim f32
// tensors are evaluated here in float64, and DPM-Solver's step here does not round the sample to f32
// (diffusers' "upcast"; the GPU loop keeps latents in f32 anyway). That is ~1e-7 relative at usual
// settings, but where a step cancels terms ~1e4 × its result (a first sigma of ~4096 from
// rescale_betas_zero_snr or ~20291 from squaredcos_cap_v2, with algorithm_type "dpmsolver" or
// predict_x0 false) diffusers' own f32 rounding shows: up to 3.2e-3 of the trajectory's max over
// 800 fuzzed configs, ≤ 1e-13 once diffusers' scalars and sample are float64 and its sigmas carry
// tessera's last bits (see trainTables); tests/sampler/multistep.test.ts pins one case at 1.5e-3.

import { pluralVerb } from '../plural.js';
import { alphasCumprod, betasFor, npArange, npLinspace, rescaleZeroTerminalSnr, roundHalfEven, type BetaSchedule } from './scheduler.js';
import { EPS_SLOT, Lin, type LinOp, type StepProgram } from './program.js';

const f32 = Math.fround;

export type MultistepPrediction = 'epsilon' | 'v_prediction' | 'sample' | 'flow_prediction';
export type Spacing = 'linspace' | 'leading' | 'trailing';

/** Settings both multistep schedulers share (diffusers config keys in snake_case). */
export interface MultistepCommon {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaSchedule;
  trained_betas: number[] | null;
  solver_order: number;
  prediction_type: MultistepPrediction;
  lower_order_final: boolean;
  use_karras_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_flow_sigmas: boolean;
  flow_shift: number;
  timestep_spacing: Spacing;
  steps_offset: number;
  final_sigmas_type: 'zero' | 'sigma_min';
  rescale_betas_zero_snr: boolean;
}

export interface UniPCConfig extends MultistepCommon {
  predict_x0: boolean;
  solver_type: 'bh1' | 'bh2';
  disable_corrector: number[];
  sigma_min: number | null;
  sigma_max: number | null;
  shift_terminal: number | null;
}

export interface DPMConfig extends MultistepCommon {
  algorithm_type: 'dpmsolver++' | 'dpmsolver';
  solver_type: 'midpoint' | 'heun';
  euler_at_final: boolean;
  use_lu_lambdas: boolean;
  lambda_min_clipped: number;
}

// ---------------------------------------------------------------------------------------------
// tables

/** The training tables both classes build in __init__ (torch float32). */
export interface TrainTables {
  alphasCumprod: Float32Array;
  /** ((1 − ᾱ)/ᾱ)^½ per training step (f32, as torch computes it). */
  sigmas: Float32Array;
  /** log α_t − log σ_t per training step (f32). */
  lambdas: Float32Array;
}

/**
 * Correctly rounded sqrt and log here; diffusers' torch f32 sqrt and numpy f32 log are not (about
 * 15 % / 20 % of values 1 ulp off on the fixture host, following its math library), so sigmas,
 * log sigmas and lambdas may differ from diffusers' in the last bit, and a timestep that truncates
 * an interpolated sigma (exponential, Lu) by 1 where it lands that close to an integer.
 */
export function trainTables(c: MultistepCommon): TrainTables {
  const n = c.num_train_timesteps;
  let betas = c.trained_betas ? Float32Array.from(c.trained_betas) : betasFor(c.beta_schedule, n, c.beta_start, c.beta_end);
  if (c.rescale_betas_zero_snr) betas = rescaleZeroTerminalSnr(betas);
  const ac = alphasCumprod(betas);
  // diffusers: "close to 0 without being 0 so first sigma is not inf" (FP16 smallest positive subnormal)
  if (c.rescale_betas_zero_snr) ac[n - 1] = 2 ** -24;
  const sigmas = new Float32Array(n);
  const lambdas = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = ac[i]!;
    sigmas[i] = f32(Math.sqrt(f32(f32(1 - a) / a)));
    const alphaT = f32(Math.sqrt(a));
    const sigmaT = f32(Math.sqrt(f32(1 - a)));
    lambdas[i] = f32(f32(Math.log(alphaT)) - f32(Math.log(sigmaT)));
  }
  return { alphasCumprod: ac, sigmas, lambdas };
}

/** diffusers `_sigma_to_t`: fractional training timestep of a sigma by interpolating log sigmas. */
export function sigmaToT(sigma: number, logSigmas: ArrayLike<number>): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  const n = logSigmas.length;
  // low_idx = last index with log_sigma − log_sigmas[i] ≥ 0 (cumsum(...).argmax), clipped to n − 2
  let count = 0;
  let lowIdx = 0;
  let best = -1;
  for (let i = 0; i < n; i++) {
    if (logSigma - logSigmas[i]! >= 0) count++;
    if (count > best) {
      best = count;
      lowIdx = i;
    }
  }
  lowIdx = Math.min(lowIdx, n - 2);
  const low = logSigmas[lowIdx]!;
  const high = logSigmas[lowIdx + 1]!;
  let w = (low - logSigma) / (low - high);
  w = Math.min(Math.max(w, 0), 1);
  return (1 - w) * lowIdx + w * (lowIdx + 1);
}

/** np.interp(x, arange(len(fp)), fp). */
function interpIndex(x: number, fp: ArrayLike<number>): number {
  if (x <= 0) return fp[0]!;
  if (x >= fp.length - 1) return fp[fp.length - 1]!;
  const i = Math.floor(x);
  const w = x - i;
  return w === 0 ? fp[i]! : fp[i]! + (fp[i + 1]! - fp[i]!) * w;
}

function karras(sigmaMin: number, sigmaMax: number, n: number): number[] {
  // Karras et al. 2022 (arXiv 2206.00364) eq. 5, rho = 7
  const rho = 7;
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return npLinspace(0, 1, n).map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
}

function exponential(sigmaMin: number, sigmaMax: number, n: number): number[] {
  return npLinspace(Math.log(sigmaMax), Math.log(sigmaMin), n).map(Math.exp);
}

/** Integer timesteps before any sigma conversion, as set_timesteps spaces them. */
function spacedTimesteps(spacing: Spacing, steps: number, last: number, n: number, offset: number): number[] {
  switch (spacing) {
    case 'linspace':
      return npLinspace(0, last - 1, steps + 1).map(roundHalfEven).reverse().slice(0, -1);
    case 'leading': {
      const ratio = Math.floor(last / (steps + 1));
      const t: number[] = [];
      for (let i = steps; i >= 1; i--) t.push(i * ratio + offset);
      return t;
    }
    case 'trailing':
      // np.arange over floats: may hold one more value than `steps` (diffusers then runs it too)
      return npArange(last, 0, -(n / steps)).map((x) => roundHalfEven(x) - 1);
  }
}

/** int64 cast of numpy float timesteps (truncation toward zero). */
const trunc = (x: number) => Math.trunc(x);

export interface Schedule {
  /** Timesteps fed to the model (integers). */
  timesteps: number[];
  /** steps + 1 sigmas, f32 values. */
  sigmas: number[];
}

/** UniPCMultistepScheduler.set_timesteps (static shift). */
export function unipcSchedule(c: UniPCConfig, steps: number): Schedule {
  const n = c.num_train_timesteps;
  const tt = trainTables(c);
  let timesteps = spacedTimesteps(c.timestep_spacing, steps, n, n, c.steps_offset);
  let sig: number[];
  let sigmaLast: number;
  const sigmaMinLast = () => f32(Math.sqrt(f32(f32(1 - tt.alphasCumprod[0]!) / tt.alphasCumprod[0]!)));
  if (c.use_karras_sigmas || c.use_exponential_sigmas) {
    const logSigmas = Array.from(tt.sigmas, (s) => f32(Math.log(s)));
    const inMin = tt.sigmas[0]!; // flipped: the last of the reversed table
    const inMax = tt.sigmas[n - 1]!;
    const sMin = c.sigma_min ?? inMin;
    const sMax = c.sigma_max ?? inMax;
    if (c.use_karras_sigmas) {
      sig = karras(sMin, sMax, steps);
      if (c.use_flow_sigmas) {
        sig = sig.map((s) => s / (s + 1));
        timesteps = sig.map((s) => trunc(s * n));
      } else {
        timesteps = sig.map((s) => roundHalfEven(sigmaToT(s, logSigmas)));
      }
    } else {
      sig = exponential(sMin, sMax, steps);
      timesteps = sig.map((s) => trunc(sigmaToT(s, logSigmas)));
    }
    sigmaLast = c.final_sigmas_type === 'sigma_min' ? sig[sig.length - 1]! : 0;
  } else if (c.use_flow_sigmas) {
    sig = npLinspace(1, 1 / n, steps + 1).slice(0, -1);
    const shift = c.flow_shift;
    sig = sig.map((s) => (shift * s) / (1 + (shift - 1) * s));
    if (c.shift_terminal) {
      const oneMinus = sig.map((s) => 1 - s);
      const scale = oneMinus[oneMinus.length - 1]! / (1 - c.shift_terminal);
      sig = oneMinus.map((z) => 1 - z / scale);
    }
    if (Math.abs(sig[0]! - 1) < 1e-6) sig[0]! -= 1e-6;
    timesteps = sig.map((s) => trunc(s * n));
    sigmaLast = c.final_sigmas_type === 'sigma_min' ? sig[sig.length - 1]! : 0;
  } else {
    sig = timesteps.map((t) => interpIndex(t, tt.sigmas));
    sigmaLast = c.final_sigmas_type === 'sigma_min' ? sigmaMinLast() : 0;
  }
  return { timesteps, sigmas: [...sig, sigmaLast].map(f32) };
}

/** DPMSolverMultistepScheduler.set_timesteps (static shift, no custom timesteps). */
export function dpmSchedule(c: DPMConfig, steps: number): Schedule {
  const n = c.num_train_timesteps;
  const tt = trainTables(c);
  // searchsorted(flip(lambda_t), lambda_min_clipped): training steps whose lambda is clipped away
  const flipped = Array.from(tt.lambdas).reverse();
  let clipped = 0;
  while (clipped < n && flipped[clipped]! < c.lambda_min_clipped) clipped++;
  const last = n - clipped;
  let timesteps = spacedTimesteps(c.timestep_spacing, steps, last, n, c.steps_offset);
  const logSigmas = Array.from(tt.sigmas, (s) => f32(Math.log(s)));
  let sig: number[];
  const roundT = (t: number) => (c.beta_schedule !== 'squaredcos_cap_v2' ? roundHalfEven(t) : t);
  if (c.use_karras_sigmas) {
    sig = karras(tt.sigmas[0]!, tt.sigmas[n - 1]!, steps);
    timesteps = sig.map((s) => trunc(roundT(sigmaToT(s, logSigmas))));
  } else if (c.use_lu_lambdas) {
    // Lu et al. 2022: uniform in log sigma between the ends of the (flipped) table, rho = 1
    const lMin = logSigmas[0]!;
    const lMax = logSigmas[n - 1]!;
    sig = npLinspace(0, 1, steps).map((r) => Math.exp(lMax + r * (lMin - lMax)));
    timesteps = sig.map((s) => trunc(roundT(sigmaToT(s, logSigmas))));
  } else if (c.use_exponential_sigmas) {
    sig = exponential(tt.sigmas[0]!, tt.sigmas[n - 1]!, steps);
    timesteps = sig.map((s) => trunc(sigmaToT(s, logSigmas)));
  } else if (c.use_flow_sigmas) {
    const shift = c.flow_shift;
    const s = npLinspace(1, 1 / n, steps + 1).map((a) => 1 - a).map((x) => (shift * x) / (1 + (shift - 1) * x));
    sig = s.reverse().slice(0, -1);
    timesteps = sig.map((x) => trunc(x * n));
  } else {
    sig = timesteps.map((t) => interpIndex(t, tt.sigmas));
  }
  const sigmaLast = c.final_sigmas_type === 'sigma_min' ? f32(Math.sqrt(f32(f32(1 - tt.alphasCumprod[0]!) / tt.alphasCumprod[0]!))) : 0;
  return { timesteps, sigmas: [...sig, sigmaLast].map(f32) };
}

/** diffusers `_sigma_to_alpha_sigma_t`. */
function alphaSigma(sigma: number, flow: boolean): [alpha: number, sigma: number] {
  if (flow) return [1 - sigma, sigma];
  const a = 1 / Math.sqrt(sigma * sigma + 1);
  return [a, sigma * a];
}

/** λ = log α − log σ (+∞ at σ = 0). */
function lambdaOf(sigma: number, flow: boolean): number {
  const [a, s] = alphaSigma(sigma, flow);
  return Math.log(a) - Math.log(s);
}

/**
 * A step count (num_inference_steps) whose schedule repeats its first timestep: diffusers'
 * index_for_timestep then starts at the second match and runs past the end of its tables. With many
 * steps the timesteps, integers below num_train_timesteps, come closer than 1 apart at the start.
 * `maxSteps`: the most steps that work with this config (every count from 1 to it does), 0 if none.
 */
export class RepeatedStartError extends Error {
  override name = 'RepeatedStartError';
  readonly code: string = 'ERR_REPEATED_START';
  constructor(
    readonly className: string,
    readonly steps: number,
    readonly timesteps: readonly number[],
    readonly maxSteps: number,
  ) {
    // a few timesteps, not all of them (hundreds at these counts)
    super(
      `${className}: ${pluralVerb(steps, 'step', 'repeat')} the first timestep ${timesteps[0]} (timesteps ${timesteps.slice(0, 3).join(', ')}, …), where diffusers starts at the second one and runs past the end of its tables` +
        (maxSteps > 0 ? `; at most ${pluralVerb(maxSteps, 'step', 'work')} with this config` : ''),
    );
  }
}

const repeatsStart = (timesteps: readonly number[]) => timesteps.indexOf(timesteps[0]!, 1) > 0;

/** Refuses a schedule diffusers would start from its second match (RepeatedStartError); `timestepsFor(s)`: the timesteps of s steps, for the most that work (cheap: no program). */
function checkStart(cls: string, steps: number, timesteps: number[], timestepsFor: (steps: number) => number[]): void {
  if (!repeatsStart(timesteps)) return;
  let most = 0;
  while (most + 1 < steps && !repeatsStart(timestepsFor(most + 1))) most++;
  throw new RepeatedStartError(cls, steps, timesteps, most);
}

/** Solves A·x = b (small, dense) by Gaussian elimination with partial pivoting. */
export function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(M[i]![k]!) > Math.abs(M[p]![k]!)) p = i;
    [M[k], M[p]] = [M[p]!, M[k]!];
    for (let i = k + 1; i < n; i++) {
      const f = M[i]![k]! / M[k]![k]!;
      for (let j = k; j <= n; j++) M[i]![j]! -= f * M[k]![j]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = M[i]![n]!;
    for (let j = i + 1; j < n; j++) s -= M[i]![j]! * x[j]!;
    x[i] = s / M[i]![i]!;
  }
  return x;
}

// ---------------------------------------------------------------------------------------------
// the model output conversion both schedulers start with

/** convert_model_output as a linear expression of the sample and the guided output (EPS_SLOT). */
function convert(pred: MultistepPrediction, toX0: boolean, sigma: number, flow: boolean, sampleSlot: number, cls: string): Lin {
  const [alpha, sig] = alphaSigma(sigma, flow);
  const x = Lin.of(sampleSlot);
  const m = Lin.of(EPS_SLOT);
  if (toX0) {
    switch (pred) {
      case 'epsilon':
        return x.minus(m.scale(sig)).scale(1 / alpha);
      case 'sample':
        return m;
      case 'v_prediction':
        return x.scale(alpha).minus(m.scale(sig));
      case 'flow_prediction':
        return x.minus(m.scale(sigma));
    }
  }
  switch (pred) {
    case 'epsilon':
      return m;
    case 'sample':
      return x.minus(m.scale(alpha)).scale(1 / sig);
    case 'v_prediction':
      return m.scale(alpha).plus(x.scale(sig));
    case 'flow_prediction':
      throw new Error(`${cls}: prediction_type "flow_prediction" needs ${cls === 'UniPCMultistepScheduler' ? 'predict_x0 true' : 'algorithm_type "dpmsolver++"'}`);
  }
}

const op = (out: number, e: Lin, label: string, toModel = false): LinOp => ({ out, terms: e.terms(), label, ...(toModel ? { toModel } : {}) });

// ---------------------------------------------------------------------------------------------
// UniPC

/**
 * UniPCMultistepScheduler after set_timesteps(steps), as a step program. Slots: 0 the guided
 * model output, 1 and 2 the sample and the last sample (they swap roles every step), 3… a ring
 * of solver_order + 1 converted model outputs (the corrector still reads the oldest one the step
 * drops).
 */
export function unipcProgram(c: UniPCConfig, steps: number): StepProgram {
  const cls = 'UniPCMultistepScheduler';
  const { timesteps, sigmas } = unipcSchedule(c, steps);
  checkStart(cls, steps, timesteps, (n) => unipcSchedule(c, n).timesteps);
  const flow = c.use_flow_sigmas;
  const K = c.solver_order;
  const ring = K + 1;
  const slots = 3 + ring;
  let S = 1; // the sample
  let L = 2; // the last sample
  const hist: number[] = []; // slots of model_outputs, oldest first (at most K)
  let next = 0; // ring position of the next converted output
  let lowerOrderNums = 0;
  let thisOrder = 0;
  const lam = (i: number) => lambdaOf(sigmas[i]!, flow);
  const ops: LinOp[][] = [];
  const N = timesteps.length;

  /** B(h), h·φ_1(h) and the rhos of UniP (predictor) / UniC (corrector), as diffusers builds them. */
  const coeffs = (h: number, rks: number[], order: number) => {
    const hh = c.predict_x0 ? -h : h;
    const hPhi1 = Math.expm1(hh);
    let hPhiK = hPhi1 / hh - 1;
    let factorial = 1;
    const Bh = c.solver_type === 'bh1' ? hh : Math.expm1(hh);
    const R: number[][] = [];
    const b: number[] = [];
    for (let i = 1; i <= order; i++) {
      R.push(rks.map((r) => r ** (i - 1)));
      b.push((hPhiK * factorial) / Bh);
      factorial *= i + 1;
      hPhiK = hPhiK / hh - 1 / factorial;
    }
    return { hPhi1, Bh, R, b };
  };

  for (let i = 0; i < N; i++) {
    const list: LinOp[] = [];
    const useCorrector = i > 0 && !c.disable_corrector.includes(i - 1) && lowerOrderNums > 0;
    // convert_model_output into the next ring slot
    const mt = 3 + next;
    next = (next + 1) % ring;
    list.push(op(mt, convert(c.prediction_type, c.predict_x0, sigmas[i]!, flow, S, cls), 'unipc.convert_model_output'));
    if (useCorrector) {
      // multistep_uni_c_bh_update(this_model_output = mt, last_sample = L, order = thisOrder)
      const order = thisOrder;
      const [aT, sT] = alphaSigma(sigmas[i]!, flow);
      const [aS0, sS0] = alphaSigma(sigmas[i - 1]!, flow);
      const h = lam(i) - lam(i - 1);
      const m0 = hist[hist.length - 1]!;
      const rks: number[] = [];
      const D1s: Lin[] = [];
      for (let k = 1; k < order; k++) {
        const rk = (lam(i - (k + 1)) - lam(i - 1)) / h;
        rks.push(rk);
        D1s.push(Lin.of(hist[hist.length - 1 - k]!).minus(Lin.of(m0)).scale(1 / rk));
      }
      rks.push(1);
      const { hPhi1, Bh, R, b } = coeffs(h, rks, order);
      const rhosC = order === 1 ? [0.5] : solve(R, b);
      let corr = new Lin();
      D1s.forEach((d, k) => (corr = corr.plus(d, rhosC[k]!)));
      const D1t = Lin.of(mt).minus(Lin.of(m0));
      const res = corr.plus(D1t, rhosC[rhosC.length - 1]!);
      const xt = c.predict_x0
        ? Lin.of(L, sT / sS0).plus(Lin.of(m0), -aT * hPhi1).plus(res, -aT * Bh)
        : Lin.of(L, aT / aS0).plus(Lin.of(m0), -sT * hPhi1).plus(res, -sT * Bh);
      list.push(op(S, xt, 'unipc.corrector'));
    }
    // model_outputs shift: drop the oldest, append this one
    hist.push(mt);
    if (hist.length > K) hist.shift();
    const order0 = c.lower_order_final ? Math.min(K, N - i) : K;
    thisOrder = Math.min(order0, lowerOrderNums + 1);
    // last_sample = sample; predictor multistep_uni_p_bh_update(sample = S, order = thisOrder) into L
    {
      const order = thisOrder;
      const [aT, sT] = alphaSigma(sigmas[i + 1]!, flow);
      const [aS0, sS0] = alphaSigma(sigmas[i]!, flow);
      const h = lam(i + 1) - lam(i);
      const m0 = hist[hist.length - 1]!;
      const rks: number[] = [];
      const D1s: Lin[] = [];
      for (let k = 1; k < order; k++) {
        const rk = (lam(i - k) - lam(i)) / h;
        rks.push(rk);
        D1s.push(Lin.of(hist[hist.length - 1 - k]!).minus(Lin.of(m0)).scale(1 / rk));
      }
      rks.push(1);
      const { hPhi1, Bh, R, b } = coeffs(h, rks, order);
      let pred: Lin | null = null;
      if (D1s.length) {
        const rhosP = order === 2 ? [0.5] : solve(R.slice(0, -1).map((r) => r.slice(0, -1)), b.slice(0, -1));
        pred = new Lin();
        D1s.forEach((d, k) => (pred = pred!.plus(d, rhosP[k]!)));
      }
      const base = c.predict_x0 ? Lin.of(S, sT / sS0).plus(Lin.of(m0), -aT * hPhi1) : Lin.of(S, aT / aS0).plus(Lin.of(m0), -sT * hPhi1);
      const k = c.predict_x0 ? -aT * Bh : -sT * Bh;
      // diffusers multiplies a zero residual too (pred_res = 0): a non-finite B(h) makes NaN there
      const xt = pred ? base.plus(pred, k) : Number.isFinite(k) ? base : base.plus(Lin.of(S), NaN);
      list.push(op(L, xt, 'unipc.predictor', true));
      [S, L] = [L, S];
    }
    if (lowerOrderNums < K) lowerOrderNums++;
    ops.push(list);
  }
  return { className: cls, timesteps, sigmas, initNoiseSigma: 1, slots, initSlot: 1, ops, resultSlot: S };
}

// ---------------------------------------------------------------------------------------------
// DPM-Solver

/**
 * DPMSolverMultistepScheduler (deterministic algorithm types) after set_timesteps(steps). Slots:
 * 0 the guided model output, 1 the sample (updated in place), 2… a ring of solver_order
 * converted model outputs.
 */
export function dpmProgram(c: DPMConfig, steps: number): StepProgram {
  const cls = 'DPMSolverMultistepScheduler';
  const { timesteps, sigmas } = dpmSchedule(c, steps);
  checkStart(cls, steps, timesteps, (n) => dpmSchedule(c, n).timesteps);
  const flow = c.use_flow_sigmas;
  const K = c.solver_order;
  const S = 1;
  const hist: number[] = [];
  let next = 0;
  let lowerOrderNums = 0;
  const N = timesteps.length;
  const pp = c.algorithm_type === 'dpmsolver++';
  const lam = (i: number) => lambdaOf(sigmas[i]!, flow);
  const ops: LinOp[][] = [];
  for (let i = 0; i < N; i++) {
    const list: LinOp[] = [];
    const lowerOrderFinal = i === N - 1 && (c.euler_at_final || (c.lower_order_final && N < 15) || c.final_sigmas_type === 'zero');
    const lowerOrderSecond = i === N - 2 && c.lower_order_final && N < 15;
    const mt = 2 + next;
    next = (next + 1) % K;
    list.push(op(mt, convert(c.prediction_type, pp, sigmas[i]!, flow, S, cls), 'dpm.convert_model_output'));
    hist.push(mt);
    if (hist.length > K) hist.shift();
    const [aT, sT] = alphaSigma(sigmas[i + 1]!, flow);
    const [aS0, sS0] = alphaSigma(sigmas[i]!, flow);
    const h = lam(i + 1) - lam(i);
    const m0 = Lin.of(hist[hist.length - 1]!);
    const x = Lin.of(S);
    let xt: Lin;
    let label: string;
    if (K === 1 || lowerOrderNums < 1 || lowerOrderFinal) {
      label = 'dpm.first_order';
      xt = pp ? x.scale(sT / sS0).plus(m0, -(aT * (Math.exp(-h) - 1))) : x.scale(aT / aS0).plus(m0, -(sT * (Math.exp(h) - 1)));
    } else if (K === 2 || lowerOrderNums < 2 || lowerOrderSecond) {
      label = 'dpm.second_order';
      const m1 = Lin.of(hist[hist.length - 2]!);
      const h0 = lam(i) - lam(i - 1);
      const r0 = h0 / h;
      const D0 = m0;
      const D1 = m0.minus(m1).scale(1 / r0);
      if (pp) {
        const A = aT * (Math.exp(-h) - 1);
        xt = c.solver_type === 'midpoint'
          ? x.scale(sT / sS0).plus(D0, -A).plus(D1, -0.5 * A)
          : x.scale(sT / sS0).plus(D0, -A).plus(D1, aT * ((Math.exp(-h) - 1) / h + 1));
      } else {
        const A = sT * (Math.exp(h) - 1);
        xt = c.solver_type === 'midpoint'
          ? x.scale(aT / aS0).plus(D0, -A).plus(D1, -0.5 * A)
          : x.scale(aT / aS0).plus(D0, -A).plus(D1, -(sT * ((Math.exp(h) - 1) / h - 1)));
      }
    } else {
      label = 'dpm.third_order';
      const m1 = Lin.of(hist[hist.length - 2]!);
      const m2 = Lin.of(hist[hist.length - 3]!);
      const h0 = lam(i) - lam(i - 1);
      const h1 = lam(i - 1) - lam(i - 2);
      const r0 = h0 / h;
      const r1 = h1 / h;
      const D0 = m0;
      const D10 = m0.minus(m1).scale(1 / r0);
      const D11 = m1.minus(m2).scale(1 / r1);
      const D1 = D10.plus(D10.minus(D11), r0 / (r0 + r1));
      const D2 = D10.minus(D11).scale(1 / (r0 + r1));
      xt = pp
        ? x.scale(sT / sS0).plus(D0, -(aT * (Math.exp(-h) - 1))).plus(D1, aT * ((Math.exp(-h) - 1) / h + 1)).plus(D2, -(aT * ((Math.exp(-h) - 1 + h) / h ** 2 - 0.5)))
        : x.scale(aT / aS0).plus(D0, -(sT * (Math.exp(h) - 1))).plus(D1, -(sT * ((Math.exp(h) - 1) / h - 1))).plus(D2, -(sT * ((Math.exp(h) - 1 - h) / h ** 2 - 0.5)));
    }
    list.push(op(S, xt, label, true));
    if (lowerOrderNums < K) lowerOrderNums++;
    ops.push(list);
  }
  return { className: cls, timesteps, sigmas, initNoiseSigma: 1, slots: 2 + K, initSlot: S, ops, resultSlot: S };
}
