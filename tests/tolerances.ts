// One tolerance table for every kernel test: |gpu − ref| ≤ atol + rtol·|ref|.
// How they were set:
// - f32 rows: inputs are O(1); f32 has a unit roundoff of 6e-8, and a reduction of length K
//   accumulates ~sqrt(K)·eps relative error. We allow ~100× the observed worst case over the
//   sweep (set by inspection, see each note), which still catches any indexing or formula bug
//   (those produce O(1) errors).
// - f16 rows: inputs are rounded to f16 before the reference sees them (tests feed the
//   reference the f16-rounded values), so the remaining error is the f16 rounding of the
//   output (2^-11 ≈ 4.9e-4 relative) plus f16-stored intermediates; rtol 4e-3 ≈ 8 ulps. The gemm
//   and conv rows are set tighter, from measured errors, so that f16 accumulation fails (their notes).
import type { Tol } from './helpers/compare.js';
import type { DType } from '../src/gpu/tensor.js';

export const TOL: Record<string, Record<DType, Tol>> = {
  // Norm outputs are O(1..10) after modulation; f32 error observed ~1e-6.
  norm: { f32: { atol: 1e-5, rtol: 1e-5 }, f16: { atol: 4e-3, rtol: 4e-3 } },
  // GEMM: K up to 8960 products of O(1) values scaled by 1/sqrt(K); f32 error ~K·eps·|terms|.
  // f16 (f32 accumulation, one rounding of the output to f16): observed |err| ≤ 2^-11·|ref| + 1.2e-6
  // over the 86 f16 calls of gemm.test (every kernel, epilogue and shape; K 4608, |ref| ≤ 8.9:
  // max 1.9e-3, i.e. one half-ulp). The row is the f32 row (accumulation order may differ on other adapters) plus
  // 1 f16 ulp (2·2^-11: WGSL lets f32→f16 take either neighbour) with 50% margin: rtol 1.5e-3.
  // A mutant whose accumulator is rounded to f16 after every step (all three kernels) errs by
  // 1.7e-2..5.3e-2 at K ≥ 1152 and fails 49 of gemm.test's 55 f16 cases under this
  // row, 11 under the old 1e-2 + 8e-3·|ref|.
  gemm: { f32: { atol: 5e-5, rtol: 1e-4 }, f16: { atol: 5e-5, rtol: 1.5e-3 } },
  // Attention: softmax-weighted average of V in [-1,1]; online softmax in f32 ~1e-6.
  attention: { f32: { atol: 2e-5, rtol: 1e-4 }, f16: { atol: 4e-3, rtol: 8e-3 } },
  // Pure data movement: must be exact.
  patchify: { f32: { atol: 0, rtol: 0 }, f16: { atol: 0, rtol: 0 } },
  // RoPE: cos/sin come from a host float64 table rounded to f32 (as diffusers does), times O(1)
  // values: observed f32 max |err| 5e-7 over Wan 21×6×8 × 12×128; f16 = output rounding.
  rope: { f32: { atol: 2e-5, rtol: 1e-4 }, f16: { atol: 4e-3, rtol: 4e-3 } },
  // Timestep embedding: the reference rounds exponent, frequency and argument to f32 exactly as
  // torch does, and the op builds the frequencies on the host the same way, so the argument
  // t·freq (up to 1000 rad) matches bit for bit; what remains is the GPU's sin/cos after a
  // Cody–Waite 2π reduction: observed f32 max |err| 1.4e-7 at t ∈ [0, 1000]. (Against torch
  // itself, a 1-ulp difference in torch's f32 exp would move the argument by up to ~1e-4 rad at
  // t = 1000, so expect ~1e-4 there, not 1e-7.) f16 = output rounding (2.4e-4 at |v| ≤ 1).
  timestep: { f32: { atol: 2e-5, rtol: 0 }, f16: { atol: 2e-3, rtol: 2e-3 } },
  // Elementwise ops (add, scale, SiLU, GELU): a few f32 roundings.
  elementwise: { f32: { atol: 1e-6, rtol: 1e-5 }, f16: { atol: 2e-3, rtol: 2e-3 } },
  // VAE convolution (implicit GEMM): up to 27·128 products of O(1) inputs with weights scaled
  // by 1/sqrt(fan-in), so outputs O(1) like gemm's; set as gemm's rows (f32 observed ~1e-6; f16
  // observed ≤ 2^-11·|ref| + 2.5e-7 over conv.test and conv-workload; the f16-accumulator mutant
  // fails all 24 f16 cases under this row, 11 under the old 1e-2 + 8e-3·|ref|).
  conv: { f32: { atol: 5e-5, rtol: 1e-4 }, f16: { atol: 5e-5, rtol: 1.5e-3 } },
  // VAE norms (WanRMS_norm, GroupNorm over several row-band spans) + SiLU: outputs O(1..5);
  // f32 observed ~1e-6 (partial sums per span); f16 = output rounding as the norm row.
  vae_norm: { f32: { atol: 2e-5, rtol: 2e-5 }, f16: { atol: 8e-3, rtol: 4e-3 } },
  // VAE single-head attention: a softmax-weighted average of O(1) values with f32 probabilities;
  // as the attention row.
  vae_attention: { f32: { atol: 2e-5, rtol: 1e-4 }, f16: { atol: 4e-3, rtol: 8e-3 } },
  // Sampler linear combinations (lincomb): ≤ 8 products of O(1) values with coefficients ≤ 7,
  // summed in f32 into the f32 state (f32 row, both dtypes); the f16 row is the model-input copy
  // rounded to f16 (2^-11 relative). Observed f32 max |err| ~1e-6.
  lincomb: { f32: { atol: 1e-5, rtol: 1e-5 }, f16: { atol: 4e-3, rtol: 2e-3 } },
};

// Scheduler host math (float64) against the real diffusers (tests/sampler/multistep.test.ts,
// fixture tests/fixtures/sampler/multistep.json). diffusers keeps the sigma table in f32 and
// evaluates the per-step scalars on 0-dim f32 tensors (pow(x, 0.5) where we take sqrt): observed
// sigmas within 1–3 f32 ulps (relative ≤ 3e-7), trajectories ≤ 4.3e-7 of max|sample| over 74
// configs (multistep.json's finite cases; at first steps of σ ~4096–20291 that cancel large terms,
// diffusers' own f32 scalars move it up to 3.2e-3, which none of them has: see its header). Mutants tried (UniC order-1 rho 0.5 → 0.55, UniP rhos × 1.01) move it by 1e-5…2e-3.
export const SCHEDULER_TOL = { sigma: 5e-7, trajectory: 2e-6 };

// Golden cases run in f32 (tests/fixtures/<case>/case.json: max|out − expected| / max|expected|
// against float64 runs of the real libraries). The cases allow 2e-3 so that any f32 engine passes;
// tessera lands near 1e-6 (forward 1e-6..1e-5, VAE ≤ 2e-6, UMT5 ≤ 6e-7), and a wrong formula
// variant lands near 1e-4 (erf- vs tanh-GELU, per the cases' notes) — invisible at 2e-3. So f32
// runs are held to 1e-4 (~100× where tessera lands); f16 runs keep their own bounds.
export const GOLDEN_F32 = 1e-4;
/** The bound for an f32 run of a golden case whose case.json allows `caseMax`. */
export const goldenF32Tol = (caseMax: number): number => Math.min(caseMax, GOLDEN_F32);
// f16-storage runs of the transformer cases (weights and activations rounded to f16 between
// kernels, f32 accumulation) keep the cases' bound, 2e-3: ~4 f16 ulps (2^-11 = 4.9e-4) of the
// output's scale; the field case variant-fp16 (fp16 weights, --dtype f16) lands at 1.2e-3.
// (tests/integration/golden-cli.test.ts holds the public cases' f16 runs to twice their
// precision_estimates.float16_compute instead: wan_small 8.3e-4, dit_small 8.7e-4, latte_small
// 1.05e-3.) The VAE cases are held to their own estimates (VAE_F16_ESTIMATE below).
export const GOLDEN_F16 = 2e-3;
// The VAE decoders in f16 storage (weights and every activation an engine stores between kernels
// rounded to f16; accumulation, norm statistics and softmax in f32): each golden VAE case's own
// estimate of what that costs, from the real diffusers run twice in float64 on the case's weights
// and latents, once as is and once "simulated f16" (weights, scaled latents and every stored value
// rounded to f16 where it is made: convolution and linear outputs, norm+SiLU, attention, residual
// sums; scripts/fixtures/vae_f16_estimate.py, torch 2.13 CPU): `max`, the cases' metric
// max|sim − float64| / max|float64|, and `rms`, the error's root mean square / max|float64|.
// They are not fitted to tessera. Its f16 decodes (lavapipe) land at rms 0.94–1.05× the estimate in
// every case, with mean errors ≤ 3e-5 (unbiased rounding noise, no defect), while the max, one value,
// lands at 0.65–1.34× (wan_vae_small 2.50e-3, vae_wan_bf16_b2 2.38e-3, vae_wan_f16_t2 4.41e-3,
// sd_vae_small 1.75e-3, vae_kl_f16_b2 0.78e-3, vae_kl_latte_bf16 1.19e-3). Why the Wan cases are above the transformers'
// 2e-3: the decoder rounds after every norm, activation and convolution (its causal frame caches
// included) and its inner activations are larger than the output (max|expected| 0.56 in
// vae_wan_f16_t2). The estimate moves with the latents: over 12 random latents per case (4 seeds ×
// 3 odd shapes, batch 1 and 2) it spans wan_vae_small 1.5e-3–3.5e-3, vae_wan_bf16_b2 1.5e-3–2.5e-3,
// vae_wan_f16_t2 1.2e-3–6.6e-3, sd_vae_small 1.0e-3–1.8e-3, vae_kl_f16_b2 0.7e-3–1.1e-3,
// vae_kl_latte_bf16 0.8e-3–1.8e-3; so each case is held to its own estimates (for its own latents):
// the max to twice its estimate, as the transformers' f16 runs are to their float16_compute (the max
// alone moves ±35% between two rounding-noise draws of the same rms, above), and the rms to 1.25×
// its estimate (observed ≤ 1.05×: room for another summation order; an adapter whose f32→f16 does not
// round to nearest, which WGSL allows, may land above). A mutant computing the norms' scale in f16
// (RMS: √C / ‖x‖, GroupNorm: 1/√(var + eps), as f16 divisions) moves the rms 1.17–1.32×: it fails
// wan_vae_small (1.32×) and vae_wan_f16_t2 (1.28×) here, while the max stays within 2× (and within
// the old single bound, 1e-2 on vae_wan_f16_t2 alone: 7.45e-3).
export const VAE_F16_ESTIMATE: Record<string, { max: number; rms: number }> = {
  wan_vae_small: { max: 2.73e-3, rms: 4.09e-4 },
  vae_wan_bf16_b2: { max: 2.27e-3, rms: 3.62e-4 },
  vae_wan_f16_t2: { max: 4.63e-3, rms: 6.06e-4 },
  sd_vae_small: { max: 1.75e-3, rms: 4.36e-4 },
  vae_kl_f16_b2: { max: 1.2e-3, rms: 1.87e-4 },
  vae_kl_latte_bf16: { max: 0.89e-3, rms: 2.21e-4 },
};
/** The bounds for golden VAE case `name` decoded in f16 storage: 2× its max estimate, 1.25× its rms estimate. */
export const vaeF16Tol = (name: string): { max: number; rms: number } => {
  const e = VAE_F16_ESTIMATE[name];
  if (e === undefined) throw new Error(`tests/tolerances.ts: no f16 estimate for VAE case ${name} (scripts/fixtures/vae_f16_estimate.py)`);
  return { max: 2 * e.max, rms: 1.25 * e.rms };
};
/** The bound for a golden case run in `dtype` storage whose case.json allows `caseMax`. */
export const goldenTol = (dtype: DType, caseMax: number): number => (dtype === 'f16' ? Math.min(caseMax, GOLDEN_F16) : goldenF32Tol(caseMax));
