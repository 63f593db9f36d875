// 3D RoPE (Wan) in place on q or k (kernels/rope.wgsl), with the cos/sin table built on the host;
// and normRope, Wan's q/k RMSNorm across heads with the RoPE in the same pass (kernels/norm_rope.wgsl).
import { defineKernel } from '../gpu/kernel.js';
import { grid1D, type Plan } from '../gpu/plan.js';
import { bytesPer, shapeStr, type Tensor } from '../gpu/tensor.js';
import { ceilDiv, dtypeFlags } from './util.js';
import { cpuTunedVariantsOk } from '../gpu/policy.js';

export const ropeKernel = defineKernel({
  name: 'rope',
  prelude: ['common/dtype'],
  flags: { F16: [false, true], VEC4: [false, true] },
  overrides: { WG: [256, 64, 128] },
  bindings: ['uniform', 'read', 'rw'],
  needs: { F16: 'shader-f16' },
});

/**
 * Wan's split of a head dim into (t, h, w) sub-dims: h = w = 2·⌊Dh/6⌋, t = Dh − 2h
 * (128 → 44/42/42). Returned as pair counts [t/2, h/2, w/2].
 */
export function ropeSplit(headDim: number): [number, number, number] {
  if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2) throw new Error(`rope: headDim must be a positive even integer, got ${headDim}`);
  const hd = 2 * Math.floor(headDim / 6);
  return [(headDim - 2 * hd) / 2, hd / 2, hd / 2];
}

/**
 * cos/sin table f32 [L, Dh/2, 2] for a token grid [F', H', W'] (token = f·H'W' + h·W' + w).
 * Pair j of axis sub-dim d (local pair index jj) rotates by pos·θ^(−2jj/d), pos = that axis'
 * grid coordinate. Computed in float64 and rounded to f32, as diffusers' WanRotaryPosEmbed does.
 */
export function ropeTable(grid: [number, number, number], headDim: number, theta = 10000): Float32Array {
  const [Fp, Hp, Wp] = grid;
  if (grid.length !== 3 || grid.some((g) => !Number.isInteger(g) || g < 1)) throw new Error(`ropeTable: grid must be 3 positive integers, got [${grid.join(',')}]`);
  const split = ropeSplit(headDim);
  const half = headDim / 2;
  // per pair: which axis (0 t, 1 h, 2 w) and its frequency
  const axis = new Uint8Array(half);
  const freq = new Float64Array(half);
  let j = 0;
  split.forEach((pairs, a) => {
    const d = 2 * pairs;
    for (let jj = 0; jj < pairs; jj++, j++) {
      axis[j] = a;
      freq[j] = 1 / theta ** ((2 * jj) / d);
    }
  });
  const L = Fp * Hp * Wp;
  const out = new Float32Array(L * half * 2);
  for (let f = 0; f < Fp; f++)
    for (let h = 0; h < Hp; h++)
      for (let w = 0; w < Wp; w++) {
        const l = (f * Hp + h) * Wp + w;
        const pos = [f, h, w];
        for (let k = 0; k < half; k++) {
          const ang = pos[axis[k]!]! * freq[k]!;
          out[(l * half + k) * 2] = Math.cos(ang);
          out[(l * half + k) * 2 + 1] = Math.sin(ang);
        }
      }
  return out;
}

export interface RopeArgs {
  x: Tensor; // [B, L, row] with heads·headDim values at `offset` in each row; rotated in place
  table: Tensor; // f32 [L, Dh/2, 2] from ropeTable (uploaded once per shape)
  heads: number;
  headDim: number;
  /** Elements between tokens in x (default: x's last dim). */
  rowStride?: number;
  /** Element offset of head 0 in each row (default 0), e.g. D for k in a fused qkv row. */
  offset?: number;
  layer?: string;
  wg?: number;
  /**
   * One invocation per vec4 (two pairs), coalesced: the GPU layout (default: on adapters that are
   * not CPUs, when Dh, the row stride and the offset are multiples of 4; CPUs keep one invocation
   * per (token, head), measured faster on lavapipe).
   */
  vec4?: boolean;
}

/** In-place RoPE on x using a precomputed table (same table for every head and batch item). */
export function rope(plan: Plan, a: RopeArgs): Tensor {
  const { heads, headDim } = a;
  ropeSplit(headDim);
  if (!Number.isInteger(heads) || heads < 1) throw new Error(`rope: heads must be a positive integer, got ${heads}`);
  if (a.table.dtype !== 'f32') throw new Error(`rope: table ${a.table.label} must be f32, got ${a.table.dtype}`);
  const half = headDim / 2;
  if (a.table.size % (half * 2)) throw new Error(`rope: table ${a.table.label} has ${a.table.size} elements, not a multiple of Dh = ${headDim}`);
  const L = a.table.size / (half * 2);
  const rowStride = a.rowStride ?? a.x.shape[a.x.shape.length - 1]!;
  const offset = a.offset ?? 0;
  if (offset + heads * headDim > rowStride) throw new Error(`rope: offset ${offset} + heads·headDim ${heads * headDim} exceeds the row stride ${rowStride}`);
  if (a.x.size % rowStride) throw new Error(`rope: x ${shapeStr(a.x.shape)} has ${a.x.size} elements, not a multiple of the row stride ${rowStride}`);
  const rows = a.x.size / rowStride;
  if (rows % L) throw new Error(`rope: x ${shapeStr(a.x.shape)} has ${rows} tokens, not a multiple of the table's L=${L}`);
  const pairs = rows * heads * half;
  const wg = a.wg ?? 256;
  const fits4 = headDim % 4 === 0 && rowStride % 4 === 0 && offset % 4 === 0;
  const vec4 = a.vec4 ?? (!cpuTunedVariantsOk(plan.gpu) && fits4);
  if (vec4 && !fits4) throw new Error(`rope: vec4 needs headDim (${headDim}), the row stride (${rowStride}) and the offset (${offset}) to be multiples of 4`);
  plan.record({
    spec: ropeKernel,
    variant: { flags: { ...dtypeFlags(a.x), VEC4: vec4 }, overrides: { WG: wg } },
    uniforms: [
      ['pairs', 'u32', pairs],
      ['tokens', 'u32', L],
      ['heads', 'u32', heads],
      ['half', 'u32', half],
      ['row_stride', 'u32', rowStride],
      ['offset', 'u32', offset],
      ['units', 'u32', rows * heads],
      ['_pad1', 'u32', 0],
    ],
    buffers: [a.table, a.x],
    // one invocation per (token, head), looping over its pairs, or per vec4 of pairs (kernels/rope.wgsl)
    workgroups: grid1D(plan.gpu, ceilDiv(rows * heads * (vec4 ? half / 2 : 1), wg)),
    layer: a.layer,
    shapes: `x${shapeStr(a.x.shape)} h${heads}x${headDim} L${L}`,
    // 4 mul + 2 add per pair; x read and written once, table read once per pair (cached across heads)
    flops: 6 * pairs,
    bytes: 4 * pairs * bytesPer(a.x.dtype) + L * half * 8,
  });
  return a.x;
}

export const normRopeKernel = defineKernel({
  name: 'norm_rope',
  prelude: ['common/dtype', 'common/wg_sum'],
  flags: { F16: [false, true], ROW_PER_THREAD: [false, true], VEC4: [false, true], SG: [false, true] },
  overrides: { WG: [128, 64, 256] },
  bindings: ['uniform', 'read', 'read', 'read', 'rw'],
  needs: { F16: 'shader-f16', SG: 'subgroups' },
  // vec4 loads and subgroup sums are layouts of the workgroup-per-row kernel only (as norm's)
  valid: (f) => !(f.ROW_PER_THREAD && (f.VEC4 || f.SG)),
});

export interface NormRopeArgs {
  /** q or k [..., L, H·Dh], e.g. a plane of the fused qkv GEMM's output. */
  x: Tensor;
  /** Output, x's size and dtype; must not alias x. */
  out: Tensor;
  /** RMSNorm weight [H·Dh] (diffusers' `norm_q.weight` / `norm_k.weight`), x's dtype. */
  weight: Tensor;
  /** f32 [L, Dh/2, 2] from ropeTable; row r of x is token r mod L. */
  table: Tensor;
  heads: number;
  headDim: number;
  /** RMSNorm eps (Wan: 1e-6). */
  eps: number;
  layer?: string;
  wg?: number;
  /** One invocation per row (default: on a CPU adapter only, the layout norm measured fastest there). */
  rowPerThread?: boolean;
  /** Two pairs per load in the workgroup-per-row layout (default: there, when Dh % 4 == 0). */
  vec4?: boolean;
  /** Row sums by subgroupAdd in the workgroup-per-row layout (default: there, when the adapter has subgroups). */
  subgroups?: boolean;
}

/**
 * Wan's q (or k) path (WanAttnProcessor: norm_q with qk_norm 'rms_norm_across_heads', then
 * apply_rotary_emb) in one dispatch (kernels/norm_rope.wgsl):
 * out = rope(x / sqrt(mean over all H·Dh of x² + eps) · weight). Equal to norm() then rope() up to
 * rounding (the normed value is not rounded to the storage dtype before the rotation).
 * Throws (before any GPU work) on mismatched shapes/dtypes, a table that does not fit, or a layout
 * the shapes or adapter cannot take. Returns out.
 */
export function normRope(plan: Plan, a: NormRopeArgs): Tensor {
  const { heads, headDim } = a;
  ropeSplit(headDim);
  if (!Number.isInteger(heads) || heads < 1) throw new Error(`normRope: heads must be a positive integer, got ${heads}`);
  const C = heads * headDim;
  if (a.x.shape[a.x.shape.length - 1] !== C) throw new Error(`normRope: x ${a.x.label} ${shapeStr(a.x.shape)} must end in heads·headDim = ${C}`);
  if (a.out.size !== a.x.size || a.out.dtype !== a.x.dtype) throw new Error(`normRope: out ${a.out.label} ${shapeStr(a.out.shape)} ${a.out.dtype} must match x ${a.x.label} ${shapeStr(a.x.shape)} ${a.x.dtype}`);
  if (a.weight.size !== C || a.weight.dtype !== a.x.dtype) throw new Error(`normRope: weight ${a.weight.label} ${shapeStr(a.weight.shape)} ${a.weight.dtype} must be [${C}] ${a.x.dtype} (heads·headDim)`);
  if (a.table.dtype !== 'f32' || a.table.size % headDim) throw new Error(`normRope: table ${a.table.label} must be f32 [L, ${headDim / 2}, 2], got ${shapeStr(a.table.shape)} ${a.table.dtype}`);
  const L = a.table.size / headDim;
  const rows = a.x.size / C;
  if (rows % L) throw new Error(`normRope: x ${a.x.label} ${shapeStr(a.x.shape)} has ${rows} tokens, not a multiple of the table's L=${L}`);
  const perThread = a.rowPerThread ?? cpuTunedVariantsOk(plan.gpu);
  const vec4 = a.vec4 ?? (!perThread && headDim % 4 === 0);
  if (vec4 && (perThread || headDim % 4)) throw new Error(`normRope: vec4 loads need a workgroup per row and headDim (${headDim}) a multiple of 4`);
  const sg = a.subgroups ?? (!perThread && plan.gpu.subgroups);
  if (sg && (perThread || !plan.gpu.subgroups)) throw new Error(`normRope: subgroup sums need a workgroup per row and an adapter with subgroups (this one: ${plan.gpu.subgroups ? 'has' : 'lacks'} them)`);
  const wg = a.wg ?? (perThread ? 64 : 128);
  const unit = vec4 ? 4 : 2;
  const bp = bytesPer(a.x.dtype);
  plan.record({
    spec: normRopeKernel,
    variant: { flags: { ...dtypeFlags(a.x), ROW_PER_THREAD: perThread, VEC4: vec4, SG: sg }, overrides: { WG: wg } },
    uniforms: [
      ['rows', 'u32', rows],
      ['tokens', 'u32', L],
      ['units_row', 'u32', C / unit],
      ['units_head', 'u32', headDim / unit],
      ['cols', 'f32', C],
      ['eps', 'f32', a.eps],
      ['_pad0', 'u32', 0],
      ['_pad1', 'u32', 0],
    ],
    buffers: [a.x, a.weight, a.table, a.out],
    workgroups: grid1D(plan.gpu, perThread ? ceilDiv(rows, wg) : rows),
    layer: a.layer,
    shapes: `x${shapeStr(a.x.shape)} h${heads}x${headDim} L${L}`,
    // per element: square-add, scale, weight (4); per pair: the rotation (6)
    flops: rows * C * 7,
    // x read twice and written once; the weight and the table read once (cached across rows and heads)
    bytes: 3 * rows * C * bp + C * bp + L * C * 4,
  });
  return a.out;
}
