// Small elementwise and data-movement ops: SiLU, GELU(tanh), add / scale with broadcast, the gated
// product (kernels/elementwise.wgsl), row gather (kernels/gather.wgsl), and a strided 4-D copy for
// permutes and slicing (kernels/strided_copy.wgsl).
// None of these runs in place: WebGPU forbids binding one buffer as both read and read_write.
import { defineKernel } from '../gpu/kernel.js';
import { grid1D, type Plan } from '../gpu/plan.js';
import { bytesPer, numel, shapeStr, type Tensor } from '../gpu/tensor.js';
import { ceilDiv, checkDtypes, dtypeFlags } from './util.js';

export const elementwiseKernel = defineKernel({
  name: 'elementwise',
  prelude: ['common/dtype'],
  flags: { F16: [false, true], BINARY: [false, true], SILU: [false, true], GELU: [false, true], MUL: [false, true] },
  // one value: the op dispatches ceil(n / 256) workgroups, so any other WG would leave outputs unwritten
  overrides: { WG: [256] },
  bindings: ['uniform', 'read', 'read', 'rw'],
  needs: { F16: 'shader-f16' },
  valid: (f) => !(f.SILU && f.GELU) && (!f.MUL || !!f.BINARY), // one activation at a time; a product needs b
});

export const gatherKernel = defineKernel({
  name: 'gather',
  prelude: ['common/dtype'],
  flags: { F16: [false, true] },
  // one value: the op dispatches ceil(n / 256) workgroups, so any other WG would leave outputs unwritten
  overrides: { WG: [256] },
  bindings: ['uniform', 'read', 'read', 'rw'],
  needs: { F16: 'shader-f16' },
});

export const stridedCopyKernel = defineKernel({
  name: 'strided_copy',
  prelude: ['common/dtype'],
  flags: { F16: [false, true] },
  // one value: the op dispatches ceil(n / 256) workgroups, so any other WG would leave outputs unwritten
  overrides: { WG: [256] },
  bindings: ['uniform', 'read', 'rw'],
  needs: { F16: 'shader-f16' },
});

const WG = 256;

function sameSize(op: string, x: Tensor, out: Tensor): void {
  if (out.size !== x.size) throw new Error(`${op}: out ${out.label} ${shapeStr(out.shape)} has ${out.size} elements, ${x.label} ${shapeStr(x.shape)} has ${x.size}`);
  if (out.buffer === x.buffer) throw new Error(`${op}: out ${out.label} is the same buffer as ${x.label} (not in place: WebGPU forbids read + read_write bindings of one buffer)`);
}

type Act = 'none' | 'silu' | 'gelu';

function map(plan: Plan, op: string, a: Tensor, b: Tensor | undefined, out: Tensor, alpha: number, beta: number, act: Act, layer?: string, mul = false): Tensor {
  sameSize(op, a, out);
  checkDtypes(op, a, b, out);
  if (b) {
    if (b.size === 0 || a.size % b.size) throw new Error(`${op}: b ${b.label} ${shapeStr(b.shape)} (${b.size} elements) does not broadcast over a ${a.label} ${shapeStr(a.shape)} (${a.size} elements): its size must divide a's`);
    if (b.buffer === out.buffer) throw new Error(`${op}: out ${out.label} is the same buffer as b ${b.label}`);
  }
  const n = a.size;
  plan.record({
    spec: elementwiseKernel,
    variant: { flags: { ...dtypeFlags(a), BINARY: !!b, SILU: act === 'silu', GELU: act === 'gelu', MUL: mul } },
    uniforms: [
      ['n', 'u32', n],
      ['bsize', 'u32', b?.size ?? 1],
      ['alpha', 'f32', alpha],
      ['beta', 'f32', beta],
    ],
    buffers: [a, b ?? plan.dummy, out],
    workgroups: grid1D(plan.gpu, ceilDiv(n, WG)),
    layer,
    shapes: `a${shapeStr(a.shape)}${b ? ` b${shapeStr(b.shape)}` : ''}`,
    // α·a + β·b 3 flops, SiLU ~4 (exp, add, div), GELU ~10 (cube, fma, tanh, mul) per element
    flops: n * ((b ? 3 : 1) + (act === 'silu' ? 4 : act === 'gelu' ? 10 : 0)),
    bytes: (2 * n + (b ? Math.min(b.size, n) : 0)) * bytesPer(a.dtype),
  });
  return out;
}

export interface UnaryArgs {
  x: Tensor;
  out: Tensor; // same size as x
  layer?: string;
}

/** out = x·sigmoid(x). */
export function silu(plan: Plan, a: UnaryArgs): Tensor {
  return map(plan, 'silu', a.x, undefined, a.out, 1, 0, 'silu', a.layer);
}

/** out = GELU(x), tanh approximation (diffusers "gelu-approximate" / nn.GELU(approximate="tanh")). */
export function gelu(plan: Plan, a: UnaryArgs): Tensor {
  return map(plan, 'gelu', a.x, undefined, a.out, 1, 0, 'gelu', a.layer);
}

export interface AddArgs {
  a: Tensor;
  b: Tensor; // a.size elements, or a smaller block repeated over a's leading dims (size divides a.size)
  out: Tensor; // same size as a
  layer?: string;
}

/** out = a + b (b broadcast by repetition). */
export function add(plan: Plan, x: AddArgs): Tensor {
  return map(plan, 'add', x.a, x.b, x.out, 1, 1, 'none', x.layer);
}

export interface GatedArgs {
  a: Tensor; // the gate input
  b: Tensor; // a.size elements (or a block repeated over a's leading dims, like add)
  out: Tensor; // same size as a
  /** Activation of a (T5 gated-GELU: 'gelu', tanh approximation). */
  act: Act;
  layer?: string;
}

/** out = act(a) ⊙ b — the gated product of T5's DenseGatedActDense (transformers modeling_t5.py). */
export function gatedProduct(plan: Plan, x: GatedArgs): Tensor {
  return map(plan, 'gatedProduct', x.a, x.b, x.out, 1, 0, x.act, x.layer, true);
}

export interface ScaleArgs {
  x: Tensor;
  out: Tensor;
  alpha: number;
  layer?: string;
}

/** out = α·x. */
export function scale(plan: Plan, a: ScaleArgs): Tensor {
  return map(plan, 'scale', a.x, undefined, a.out, a.alpha, 0, 'none', a.layer);
}

export interface GatherArgs {
  table: Tensor; // [V, D]
  ids: Tensor; // u32 [R] (Allocator.uploadU32)
  out: Tensor; // [R, D]
  /** The ids as known on the host, checked against V (the kernel writes zero rows for bad ids). */
  hostIds?: ArrayLike<number>;
  layer?: string;
}

/** Embedding lookup: out[r] = table[ids[r]]. */
export function gather(plan: Plan, a: GatherArgs): Tensor {
  if (a.table.shape.length !== 2) throw new Error(`gather: table ${a.table.label} must be [V, D], got ${shapeStr(a.table.shape)}`);
  const [V, D] = a.table.shape as [number, number];
  const R = a.ids.size;
  if (a.out.size !== R * D) throw new Error(`gather: out ${a.out.label} ${shapeStr(a.out.shape)} has ${a.out.size} elements, expected ids·D = ${R}·${D}`);
  checkDtypes('gather', a.table, a.out);
  if (a.hostIds) {
    if (a.hostIds.length !== R) throw new Error(`gather: hostIds has ${a.hostIds.length} entries, ids ${a.ids.label} has ${R}`);
    for (let r = 0; r < R; r++) {
      const id = a.hostIds[r]!;
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`gather: id ${id} at position ${r} is outside table ${a.table.label} [0, ${V})`);
    }
  }
  const total = R * D;
  plan.record({
    spec: gatherKernel,
    variant: { flags: dtypeFlags(a.table) },
    uniforms: [
      ['total', 'u32', total],
      ['cols', 'u32', D],
      ['vocab', 'u32', V],
      ['_pad', 'u32', 0],
    ],
    buffers: [a.table, a.ids, a.out],
    workgroups: grid1D(plan.gpu, ceilDiv(total, WG)),
    layer: a.layer,
    shapes: `table${shapeStr(a.table.shape)} ids[${R}]`,
    // copy: R rows of D read and written, R ids read
    flops: 0,
    bytes: 2 * total * bytesPer(a.table.dtype) + 4 * R,
  });
  return a.out;
}

export interface StridedCopyArgs {
  src: Tensor;
  dst: Tensor;
  /** Iteration extent, up to 4 dims (last fastest); shorter lists are left-padded with 1. */
  extent: number[];
  srcStrides: number[]; // same length as extent, in elements
  dstStrides: number[];
  srcOffset?: number;
  dstOffset?: number;
  layer?: string;
}

/** dst[dstOffset + Σ i·dstStrides] = src[srcOffset + Σ i·srcStrides] over `extent`. */
export function stridedCopy(plan: Plan, a: StridedCopyArgs): Tensor {
  const k = a.extent.length;
  if (k < 1 || k > 4) throw new Error(`stridedCopy: extent must have 1..4 dims, got [${a.extent.join(',')}]`);
  if (a.srcStrides.length !== k || a.dstStrides.length !== k) throw new Error(`stridedCopy: extent [${a.extent.join(',')}] needs ${k} strides, got src [${a.srcStrides.join(',')}] dst [${a.dstStrides.join(',')}]`);
  if (a.extent.some((e) => !Number.isInteger(e) || e < 1)) throw new Error(`stridedCopy: extent [${a.extent.join(',')}] must be positive integers`);
  checkDtypes('stridedCopy', a.src, a.dst);
  if (a.src.buffer === a.dst.buffer) throw new Error(`stridedCopy: src and dst are the same buffer ${a.src.label}`);
  const pad = <T>(v: T[], fill: T): T[] => [...Array<T>(4 - k).fill(fill), ...v];
  const e = pad(a.extent, 1), ss = pad(a.srcStrides, 0), ds = pad(a.dstStrides, 0);
  const so = a.srcOffset ?? 0, dso = a.dstOffset ?? 0;
  // last element touched on each side must be inside the tensor
  const lastS = so + e.reduce((acc, x, i) => acc + (x - 1) * ss[i]!, 0);
  const lastD = dso + e.reduce((acc, x, i) => acc + (x - 1) * ds[i]!, 0);
  if (lastS >= a.src.size) throw new Error(`stridedCopy: reads element ${lastS} of src ${a.src.label} ${shapeStr(a.src.shape)} (${a.src.size} elements)`);
  if (lastD >= a.dst.size) throw new Error(`stridedCopy: writes element ${lastD} of dst ${a.dst.label} ${shapeStr(a.dst.shape)} (${a.dst.size} elements)`);
  const total = numel(e);
  plan.record({
    spec: stridedCopyKernel,
    variant: { flags: dtypeFlags(a.src) },
    uniforms: [
      ['total', 'u32', total],
      ['e1', 'u32', e[1]!],
      ['e2', 'u32', e[2]!],
      ['e3', 'u32', e[3]!],
      ['src_off', 'u32', so],
      ...ss.map((s, i): [string, 'u32', number] => [`s${i}`, 'u32', s]),
      ['dst_off', 'u32', dso],
      ...ds.map((s, i): [string, 'u32', number] => [`d${i}`, 'u32', s]),
      ['_pad0', 'u32', 0],
      ['_pad1', 'u32', 0],
    ],
    buffers: [a.src, a.dst],
    workgroups: grid1D(plan.gpu, ceilDiv(total, WG)),
    layer: a.layer,
    shapes: `src${shapeStr(a.src.shape)} extent${shapeStr(a.extent)}`,
    flops: 0,
    bytes: 2 * total * bytesPer(a.src.dtype),
  });
  return a.dst;
}

export interface PermuteArgs {
  x: Tensor;
  out: Tensor; // [N, Bdim, A, D] (any shape of that size)
  /** View of x as [A, Bdim, D] or [N, A, Bdim, D] (default: x.shape, which must be 3-D or 4-D). */
  shape?: number[];
  layer?: string;
}

/**
 * Swap the two axes in front of an inner dim: [N, A, Bdim, D] → [N, Bdim, A, D] (N optional).
 * Latte: '(b f) t d -> (b t) f d' is shape [b, f, t, d]; the way back is shape [b, t, f, d].
 */
export function permute(plan: Plan, a: PermuteArgs): Tensor {
  const s = a.shape ?? a.x.shape;
  if (s.length !== 3 && s.length !== 4) throw new Error(`permute: shape ${shapeStr(s)} must be [A,B,D] or [N,A,B,D]`);
  const [N, A, Bd, D] = (s.length === 3 ? [1, ...s] : s) as [number, number, number, number];
  if (numel(s) !== a.x.size) throw new Error(`permute: shape ${shapeStr(s)} has ${numel(s)} elements, x ${a.x.label} has ${a.x.size}`);
  if (a.out.size !== a.x.size) throw new Error(`permute: out ${a.out.label} ${shapeStr(a.out.shape)} has ${a.out.size} elements, x has ${a.x.size}`);
  // iterate over the output [N, Bd, A, D] so writes are contiguous
  return stridedCopy(plan, {
    src: a.x,
    dst: a.out,
    extent: [N, Bd, A, D],
    srcStrides: [A * Bd * D, D, Bd * D, 1],
    dstStrides: [Bd * A * D, A * D, D, 1],
    layer: a.layer,
  });
}

