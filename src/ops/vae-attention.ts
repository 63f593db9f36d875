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
 * o = softmax(q·kᵀ·scale)·v for q, k, v, o [L, C] (one head over C channels), softmax in f32; or, with
 * `images` m > 1, for each of m independent images [m·L, C] (rows m·L.. of one image attend to that
 * image alone; the scratch is reused image after image). `ml` f32 ≥ 2L and `probs` f32 ≥ blockRows·L
 * are scratch. Returns o.
 */
export function vaeAttention(plan: Plan, a: { q: Tensor; k: Tensor; v: Tensor; out: Tensor; ml: Tensor; probs: Tensor; blockRows: number; scale?: number; layer?: string; images?: number }): Tensor {
  const m = a.images ?? 1;
  const [rowsAll, C] = a.q.shape as [number, number];
  if (!Number.isInteger(m) || m < 1 || rowsAll % m !== 0) throw new Error(`vaeAttention: q ${a.q.label} ${shapeStr(a.q.shape)} does not hold ${m} images of equal rows`);
  const L = rowsAll / m;
  for (const [n, t] of [['k', a.k], ['v', a.v], ['out', a.out]] as const) {
    if (t.shape.length !== 2 || t.shape[0] !== rowsAll || t.shape[1] !== C) throw new Error(`vaeAttention: ${n} ${t.label} is ${shapeStr(t.shape)}, expected [${rowsAll},${C}]`);
  }
  checkDtypes('vaeAttention', a.q, a.k, a.v, a.out);
  if (a.ml.dtype !== 'f32' || a.ml.size < 2 * L) throw new Error(`vaeAttention: ml must be f32 with ≥ ${2 * L} elements`);
  const R = Math.min(a.blockRows, L);
  if (a.probs.dtype !== 'f32' || a.probs.size < R * L) throw new Error(`vaeAttention: probs must be f32 with ≥ ${R * L} elements`);
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
  for (let img = 0; img < m; img++) attendImage(img * L * C);
  return a.out;
  // one image's three passes (ml and probs are its scratch until the next image's)
  function attendImage(base: number): void {
    plan.record({
      spec: vaeAttentionKernel,
      variant: { flags: { ...dtypeFlags(a.q), STATS: true } },
      uniforms: u(0, L, base),
      buffers: bufs,
      workgroups: grid1D(plan.gpu, ceilDiv(L, 64)),
      layer: a.layer,
      shapes: `q[${L},${C}] stats`,
      flops: 2 * L * L * C,
      bytes: 2 * L * C * bp,
    });
    for (let q0 = 0; q0 < L; q0 += R) {
      const nq = Math.min(R, L - q0);
      plan.record({
        spec: vaeAttentionKernel,
        variant: { flags: { ...dtypeFlags(a.q), PROBS: true } },
        uniforms: u(q0, nq, base),
        buffers: bufs,
        workgroups: grid1D(plan.gpu, ceilDiv(nq * L, 64)),
        layer: a.layer,
        shapes: `q[${nq}/${L},${C}] probs`,
        flops: 2 * nq * L * C,
        bytes: (nq * C + L * C) * bp + nq * L * 4,
      });
      plan.record({
        spec: vaeAttentionKernel,
        variant: { flags: { ...dtypeFlags(a.q) } },
        uniforms: u(q0, nq, base),
        buffers: bufs,
        workgroups: grid1D(plan.gpu, ceilDiv(nq * C, 64)),
        layer: a.layer,
        shapes: `q[${nq}/${L},${C}] pv`,
        flops: 2 * nq * L * C,
        bytes: nq * L * 4 + (L * C + nq * C) * bp,
      });
    }
  }
}
