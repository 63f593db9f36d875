// The sampler's linear combinations (kernels/lincomb.wgsl): guidance mixing and every scheduler
// update of src/sampler/program.ts, recorded as dispatches next to the model's forward pass.
import { defineKernel } from '../gpu/kernel.js';
import { grid1D, type Plan, type UniformField } from '../gpu/plan.js';
import { bytesPer, type Tensor } from '../gpu/tensor.js';
import { ceilDiv, dtypeFlags } from './util.js';

export const lincombKernel = defineKernel({
  name: 'lincomb',
  prelude: ['common/dtype'],
  flags: { F16: [false, true], CLAMP: [false, true] },
  // one value: the op dispatches ceil(n / 256) workgroups, so any other WG would leave outputs unwritten
  overrides: { WG: [256] },
  bindings: ['uniform', 'rw', 'read', 'rw', 'rw'],
  needs: { F16: 'shader-f16' },
});

/** The most terms one dispatch takes (the uniform block's array). */
export const LINCOMB_MAX_TERMS = 8;

/** One input: `coef · base[off + (j / per)·stride + j % per]`, base = the pool or the model output. */
export interface LincombTerm {
  coef: number;
  /** Element offset into the pool (slot·n) or into `src` (first element of batch item 0). */
  off: number;
  /** Elements between consecutive rows of `per` elements (per for a pool slot). */
  stride: number;
  fromSrc: boolean;
}

export interface LincombArgs {
  /** f32 state: slots of n elements. */
  pool: Tensor;
  /** Model output (read through terms with fromSrc), model storage dtype. */
  src: Tensor;
  /** Model input, written `copies` times (element c·n + j) when copies > 0; same dtype as src. */
  model: Tensor;
  /** u32 flag word; bit `flagBit` is set when a result is not finite. */
  flag: GPUBuffer;
  n: number;
  /** Row length for the strided terms (values per batch item of the latents). */
  per: number;
  terms: LincombTerm[];
  /** Element offset of the result in the pool. */
  outOff: number;
  copies: number;
  flagBit: number;
  /** Clamp the result to [−clamp, clamp]. */
  clamp?: number;
  layer?: string;
}

/** Records one linear combination (see kernels/lincomb.wgsl). */
export function lincomb(plan: Plan, a: LincombArgs): void {
  const { n, per } = a;
  if (a.pool.dtype !== 'f32') throw new Error(`lincomb: pool ${a.pool.label} must be f32, is ${a.pool.dtype}`);
  if (a.src.dtype !== a.model.dtype) throw new Error(`lincomb: src ${a.src.label} is ${a.src.dtype} but model ${a.model.label} is ${a.model.dtype}`);
  if (!(n > 0 && per > 0 && n % per === 0)) throw new Error(`lincomb: n ${n} must be a positive multiple of per ${per}`);
  if (a.terms.length < 1 || a.terms.length > LINCOMB_MAX_TERMS) throw new Error(`lincomb: ${a.terms.length} terms (1…${LINCOMB_MAX_TERMS})`);
  if (!(a.flagBit >= 0 && a.flagBit < 32)) throw new Error(`lincomb: flag bit ${a.flagBit}`);
  const rows = n / per;
  for (const t of a.terms) {
    const last = t.off + (rows - 1) * t.stride + per; // one past the last element read
    const size = t.fromSrc ? a.src.size : a.pool.size;
    if (t.off < 0 || t.stride < per || last > size) throw new Error(`lincomb: term reads [${t.off}, ${last}) with stride ${t.stride} of ${t.fromSrc ? a.src.label : a.pool.label} (${size} elements)`);
  }
  if (a.outOff + n > a.pool.size) throw new Error(`lincomb: result [${a.outOff}, ${a.outOff + n}) is outside the pool (${a.pool.size} elements)`);
  if (a.copies * n > a.model.size) throw new Error(`lincomb: ${a.copies} copies of ${n} do not fit the model input ${a.model.label} (${a.model.size} elements)`);
  const fields: UniformField[] = [
    ['n', 'u32', n],
    ['per', 'u32', per],
    ['nterms', 'u32', a.terms.length],
    ['out_off', 'u32', a.outOff],
    ['copies', 'u32', a.copies],
    ['flag_bit', 'u32', a.flagBit],
    ['lim', 'f32', a.clamp ?? 0],
    ['pad', 'u32', 0],
  ];
  for (let k = 0; k < LINCOMB_MAX_TERMS; k++) {
    const t = a.terms[k];
    fields.push([`coef${k}`, 'f32', t?.coef ?? 0], [`off${k}`, 'u32', t?.off ?? 0], [`stride${k}`, 'u32', t?.stride ?? per], [`src${k}`, 'u32', t?.fromSrc ? 1 : 0]);
  }
  const srcReads = a.terms.filter((t) => t.fromSrc).length;
  plan.record({
    spec: lincombKernel,
    variant: { flags: { ...dtypeFlags(a.src), CLAMP: a.clamp !== undefined } },
    uniforms: fields,
    buffers: [a.pool, a.src, a.model, a.flag],
    workgroups: grid1D(plan.gpu, ceilDiv(n, 256)),
    layer: a.layer,
    shapes: `n${n} per${per} terms${a.terms.length}${a.copies ? ` →model×${a.copies}` : ''}`,
    flops: 2 * n * a.terms.length,
    bytes: n * (4 * (a.terms.length - srcReads + 1) + bytesPer(a.src.dtype) * (srcReads + a.copies)),
  });
}
