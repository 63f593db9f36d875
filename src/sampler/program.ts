// A scheduler step as tensor arithmetic: every update of the samplers tessera runs (flow-match
// Euler, DDIM with eta 0, UniPC, DPM-Solver) is a short list of linear combinations of a few
// latent-sized buffers ("slots"), with scalar coefficients the host computes in float64 from the
// scheduler's tables. The GPU loop (src/sampler/generate.ts) records each combination as one
// `lincomb` dispatch (kernels/lincomb.wgsl); `runProgramCpu` runs the same list in float64 for
// tests and references. Which slot holds what moves from step to step (history rings, sample /
// last-sample swaps); the host tracks it while building the program, so no step copies buffers.

/** Slot 0 of every program: the guided model output of this step (`noise_pred` after CFG). */
export const EPS_SLOT = 0;

/** One term `coef · slot`. */
export interface Term {
  /** The scalar coefficient (computed in float64 on the host, applied in f32 on the GPU). */
  coef: number;
  /** The latent-sized buffer it multiplies (0 … StepProgram.slots − 1). */
  slot: number;
}

/**
 * out = Σ coef·slot over `terms` (evaluated per element, all inputs read before the write, so
 * `out` may be one of the inputs), then clamped to [−clamp, clamp] when `clamp` is set (DDIM's
 * clip_sample). `toModel`: the result is also the next model input (`latents` of the next step).
 */
export interface LinOp {
  /** The slot written. */
  out: number;
  /** The terms summed, in order. */
  terms: Term[];
  /** Clamp the result to [−clamp, clamp] (DDIM's clip_sample_range); absent: no clamp. */
  clamp?: number;
  /** The result is the next step's model input. */
  toModel?: boolean;
  /** What diffusers computes here, for profiles and messages (e.g. `unipc.corrector`). */
  label: string;
}

/** A scheduler after `set_timesteps(num_inference_steps)`: the whole run, decided up front. */
export interface StepProgram {
  /** diffusers class, e.g. `UniPCMultistepScheduler`. */
  className: string;
  /** The value fed to the model at step i, as the pipeline passes it (integer for the
   *  multistep schedulers and DDIM, sigma·N (fractional) for flow-match Euler). */
  timesteps: number[];
  /** The scheduler's sigma table (steps + 1 entries) when it has one, for reports and tests. */
  sigmas?: number[];
  /** diffusers' init_noise_sigma: the initial latents are the noise times this (1 for all here). */
  initNoiseSigma: number;
  /** Number of latent-sized f32 slots the program uses (slot 0 = EPS_SLOT). */
  slots: number;
  /** Slot the initial latents are written to. */
  initSlot: number;
  /** ops[i]: the update after model call i (reading EPS_SLOT); its last op has `toModel`. */
  ops: LinOp[][];
  /** Slot that holds the final latents after the last step. */
  resultSlot: number;
}

/** A linear expression over slots, for writing the solvers' formulas before flattening them. */
export class Lin {
  readonly c = new Map<number, number>();
  static of(slot: number, coef = 1): Lin {
    return new Lin().addTerm(slot, coef);
  }
  addTerm(slot: number, coef: number): Lin {
    this.c.set(slot, (this.c.get(slot) ?? 0) + coef);
    return this;
  }
  /** this + k·other (a new expression). */
  plus(other: Lin, k = 1): Lin {
    const r = new Lin();
    for (const [s, v] of this.c) r.addTerm(s, v);
    for (const [s, v] of other.c) r.addTerm(s, k * v);
    return r;
  }
  minus(other: Lin): Lin {
    return this.plus(other, -1);
  }
  scale(k: number): Lin {
    const r = new Lin();
    for (const [s, v] of this.c) r.addTerm(s, k * v);
    return r;
  }
  /** Flattened terms (slot order), zero coefficients kept out. */
  terms(): Term[] {
    return [...this.c.entries()].filter(([, v]) => v !== 0).sort((a, b) => a[0] - b[0]).map(([slot, coef]) => ({ slot, coef }));
  }
}

/** The most terms one op may have (the kernel's uniform block holds this many). */
export const MAX_TERMS = 8;

/** Checks a program before any GPU work: slots in range, finite coefficients, term counts. */
export function checkProgram(p: StepProgram): void {
  const where = (i: number, op: LinOp) => `${p.className} step ${i + 1}/${p.ops.length} (${op.label}, timestep ${p.timesteps[i]})`;
  if (p.ops.length !== p.timesteps.length) throw new Error(`${p.className}: ${p.ops.length} step programs for ${p.timesteps.length} timesteps`);
  p.ops.forEach((ops, i) => {
    if (!ops.length || !ops[ops.length - 1]!.toModel) throw new Error(`${p.className} step ${i + 1}: the last op must write the next model input`);
    for (const op of ops) {
      if (op.terms.length < 1 || op.terms.length > MAX_TERMS) throw new Error(`${where(i, op)}: ${op.terms.length} terms (1…${MAX_TERMS})`);
      for (const t of [...op.terms.map((x) => x.slot), op.out]) if (!Number.isInteger(t) || t < 0 || t >= p.slots) throw new Error(`${where(i, op)}: slot ${t} outside [0, ${p.slots})`);
      for (const t of op.terms) {
        if (!Number.isFinite(t.coef)) {
          throw new SchedulerMathError(`${where(i, op)}: coefficient ${t.coef} (diffusers computes a non-finite update here too)`, i);
        }
      }
    }
  });
}

/** A schedule whose update is not finite (diffusers gives NaN/inf there as well); `step`: the 0-based step index. schedulerFromConfig adds what in the config to change. */
export class SchedulerMathError extends Error {
  override name = 'SchedulerMathError';
  readonly code: string = 'ERR_SCHEDULER_MATH';
  constructor(
    message: string,
    readonly step: number,
  ) {
    super(message);
  }
}

/**
 * Runs a program on the CPU in float64. `model(i, sample)` returns (or resolves to) the guided
 * model output for step i given the model input. Returns the final latents. For tests and
 * references (e.g. a host loop over `model.forward` to check the GPU-resident one).
 */
export async function runProgramCpu(p: StepProgram, latents: Float64Array | Float32Array, model: (i: number, sample: Float64Array) => ArrayLike<number> | Promise<ArrayLike<number>>): Promise<Float64Array> {
  const n = latents.length;
  const pool = Array.from({ length: p.slots }, () => new Float64Array(n));
  pool[p.initSlot]!.set(latents);
  let input = Float64Array.from(latents);
  for (let i = 0; i < p.ops.length; i++) {
    const eps = await model(i, input);
    if (eps.length !== n) throw new Error(`model output has ${eps.length} values, latents ${n}`);
    pool[EPS_SLOT]!.set(eps);
    for (const op of p.ops[i]!) {
      const out = new Float64Array(n);
      for (const t of op.terms) {
        const src = pool[t.slot]!;
        for (let j = 0; j < n; j++) out[j]! += t.coef * src[j]!;
      }
      if (op.clamp !== undefined) for (let j = 0; j < n; j++) out[j] = Math.min(Math.max(out[j]!, -op.clamp), op.clamp);
      pool[op.out]!.set(out);
      if (op.toModel) input = Float64Array.from(out);
    }
  }
  return Float64Array.from(pool[p.resultSlot]!);
}
