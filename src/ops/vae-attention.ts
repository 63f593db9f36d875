// Single-head attention over one frame for the VAE mid-blocks (kernels/vae_attention.wgsl):
// head dim = channels (up to 512 in the released VAEs), which the flash kernel does not take.
import { defineKernel } from '../gpu/kernel.js';
import { grid1D, U32_MAX, type Plan } from '../gpu/plan.js';
import { bytesPer, shapeStr, type Tensor } from '../gpu/tensor.js';
import { ceilDiv, checkDtypes, dtypeFlags } from './util.js';

export const vaeAttentionKernel = defineKernel({
  name: 'vae_attention',
  prelude: ['common/dtype'],
  flags: { F16: [false, true], STATS: [false, true], PROBS: [false, true] },
  overrides: { WG: [64] },
  bindings: ['uniform', 'read', 'read', 'read', 'rw', 'rw', 'rw'],
  needs: { F16: 'shader-f16' },
  valid: (f) => !(f.STATS && f.PROBS),
});

/**
 * Query rows per block so that the f32 probabilities [rows, L] stay within `maxBinding` bytes and
 * within 2^32 − 1 elements (the kernel's u32 index: on a binding past 16 GiB the bytes alone let
 * the block pass it, and the recording refused the decode instead of taking smaller blocks).
 */
export function attentionBlockRows(L: number, maxBinding: number): number {
  return Math.max(1, Math.min(L, Math.floor(Math.min(maxBinding, 4 * U32_MAX) / (4 * L))));
}

/**
 * The most f32 bytes of the probabilities [images, L, L] one dispatch of several images holds: above
 * them the images go one dispatch each, as when one image's whole probabilities exceed the binding.
 * Grouping pays where an image's attention is a few launches' worth of work: on lavapipe, 12 images
 * × 384 channels, the attention alone (bench/vae-attention-group.ts, bench/RESULTS.md session 23) took
 * ×0.51–0.68 the CPU time in one group at L = 16 (4×4 latent frames, 1 KiB each), ×0.74 at L = 32,
 * ×0.91–0.95 at L = 64, ×1.00 at L = 256 (16 images × 128 channels), and the wall time at L ≥ 64
 * went either way (×0.70–1.36). 64 KiB groups the small frames and keeps the scratch's growth negligible
 * (a 16 MiB cap raised sd_vae_small's 4-image peak from 8.3 to 20.3 MiB for the same CPU time).
 */
export const ATTENTION_GROUP_BYTES = 64 * 1024;

/**
 * How vaeAttention splits `images` images of L pixels: `group` images per dispatch (along the grid's
 * z) and `blockRows` query rows per block, so that the probabilities [group, blockRows, L] (f32) stay
 * within `maxBinding` (attentionBlockRows) and, with several images, within ATTENTION_GROUP_BYTES:
 * images whose whole probabilities fit go `group` at a time; larger ones one at a time, in row blocks.
 * The scratch vaeAttention takes: ml f32 [group·L, 2], probs f32 [group·min(blockRows, L), L].
 */
export function attentionImageGroup(L: number, images: number, maxBinding: number): { group: number; blockRows: number } {
  const blockRows = attentionBlockRows(L, maxBinding);
  if (blockRows < L) return { group: 1, blockRows };
  const fit = Math.floor(Math.min(ATTENTION_GROUP_BYTES, maxBinding, 4 * U32_MAX) / (4 * L * L));
  return { group: Math.max(1, Math.min(images, fit, MAX_Z)), blockRows };
}

/** Images per dispatch at most (the grid's z: WebGPU's default maxComputeWorkgroupsPerDimension). */
const MAX_Z = 65535;

/**
 * o = softmax(q·kᵀ·scale)·v for q, k, v, o [L, C] (one head over C channels), softmax in f32; or, with
 * `images` m > 1, for each of m independent images [m·L, C] (rows n·L.. of image n attend to that
 * image alone), `group` images per dispatch along the grid's z (attentionImageGroup; default 1), the
 * scratch reused group after group. `ml` f32 ≥ group·2L and `probs` f32 ≥ group·blockRows·L are
 * scratch. Returns o. Throws when a tensor's shape or the scratch does not fit, naming it.
 */
export function vaeAttention(plan: Plan, a: { q: Tensor; k: Tensor; v: Tensor; out: Tensor; ml: Tensor; probs: Tensor; blockRows: number; scale?: number; layer?: string; images?: number; group?: number }): Tensor {
  const m = a.images ?? 1;
  const [rowsAll, C] = a.q.shape as [number, number];
  if (!Number.isInteger(m) || m < 1 || rowsAll % m !== 0) throw new Error(`vaeAttention: q ${a.q.label} ${shapeStr(a.q.shape)} does not hold ${m} images of equal rows`);
  const G = a.group ?? 1;
  if (!Number.isInteger(G) || G < 1 || G > m || G > MAX_Z) throw new Error(`vaeAttention: group ${G}, expected an integer in 1..${Math.min(m, MAX_Z)} (images per dispatch of ${m})`);
  const L = rowsAll / m;
  for (const [n, t] of [['k', a.k], ['v', a.v], ['out', a.out]] as const) {
    if (t.shape.length !== 2 || t.shape[0] !== rowsAll || t.shape[1] !== C) throw new Error(`vaeAttention: ${n} ${t.label} is ${shapeStr(t.shape)}, expected [${rowsAll},${C}]`);
  }
  checkDtypes('vaeAttention', a.q, a.k, a.v, a.out);
  if (a.ml.dtype !== 'f32' || a.ml.size < G * 2 * L) throw new Error(`vaeAttention: ml must be f32 with ≥ ${G * 2 * L} elements (${G} images × 2L)`);
  const R = Math.min(a.blockRows, L);
  if (G > 1 && R < L) throw new Error(`vaeAttention: group ${G} needs whole images per block (blockRows ${a.blockRows} < L ${L})`);
  if (a.probs.dtype !== 'f32' || a.probs.size < G * R * L) throw new Error(`vaeAttention: probs must be f32 with ≥ ${G * R * L} elements (${G} images × ${R} rows × L)`);
  const scale = a.scale ?? 1 / Math.sqrt(C);
  const bp = bytesPer(a.q.dtype);
  const u = (q0: number, nq: number, base: number) => [
    ['L', 'u32', L],
    ['C', 'u32', C],
    ['q0', 'u32', q0],
    ['nq', 'u32', nq],
    ['scale', 'f32', scale],
    ['base', 'u32', base],
    ['_pad1', 'u32', 0],
    ['_pad2', 'u32', 0],
  ] as [string, 'u32' | 'f32', number][];
  const bufs = [a.q, a.k, a.v, a.ml, a.probs, a.out];
  for (let img = 0; img < m; img += G) attendImages(img * L * C, Math.min(G, m - img));
  return a.out;
  // g images' three passes (ml and probs are their scratch until the next group's)
  function attendImages(base: number, g: number): void {
    const grid = (n: number): [number, number, number] => [...grid1D(plan.gpu, ceilDiv(n, 64)).slice(0, 2), g] as [number, number, number];
    const of = g > 1 ? `${g}×` : '';
    plan.record({
      spec: vaeAttentionKernel,
      variant: { flags: { ...dtypeFlags(a.q), STATS: true } },
      uniforms: u(0, L, base),
      buffers: bufs,
      workgroups: grid(L),
      layer: a.layer,
      shapes: `q${of}[${L},${C}] stats`,
      flops: g * 2 * L * L * C,
      bytes: g * 2 * L * C * bp,
    });
    for (let q0 = 0; q0 < L; q0 += R) {
      const nq = Math.min(R, L - q0);
      plan.record({
        spec: vaeAttentionKernel,
        variant: { flags: { ...dtypeFlags(a.q), PROBS: true } },
        uniforms: u(q0, nq, base),
        buffers: bufs,
        workgroups: grid(nq * L),
        layer: a.layer,
        shapes: `q${of}[${nq}/${L},${C}] probs`,
        flops: g * 2 * nq * L * C,
        bytes: g * ((nq * C + L * C) * bp + nq * L * 4),
      });
      plan.record({
        spec: vaeAttentionKernel,
        variant: { flags: { ...dtypeFlags(a.q) } },
        uniforms: u(q0, nq, base),
        buffers: bufs,
        workgroups: grid(nq * C),
        layer: a.layer,
        shapes: `q${of}[${nq}/${L},${C}] pv`,
        flops: g * 2 * nq * L * C,
        bytes: g * (nq * L * 4 + (L * C + nq * C) * bp),
      });
    }
  }
}
