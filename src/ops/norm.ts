// LayerNorm / RMSNorm with optional affine and fused adaLN modulation (kernels/norm.wgsl).
import { defineKernel } from '../gpu/kernel.js';
import { grid1D, type Plan } from '../gpu/plan.js';
import { bytesPer, shapeStr, type Tensor } from '../gpu/tensor.js';
import { cpuTunedVariantsOk } from '../gpu/policy.js';
import { ceilDiv, checkDtypes, dtypeFlags, rowsCols } from './util.js';

export const normKernel = defineKernel({
  name: 'norm',
  prelude: ['common/dtype', 'common/wg_sum'],
  flags: { F16: [false, true], RMS: [false, true], AFFINE: [false, true], MODULATE: [false, true], ROW_PER_THREAD: [false, true], VEC4: [false, true], SG: [false, true] },
  overrides: { WG: [128, 64, 256] },
  bindings: ['uniform', 'read', 'read', 'read', 'read', 'rw'],
  needs: { F16: 'shader-f16', SG: 'subgroups' },
  // vec4 loads and subgroup sums are layouts of the workgroup-per-row kernel only
  valid: (f) => !(f.ROW_PER_THREAD && (f.VEC4 || f.SG)),
});

export interface Modulation {
  /** [B, stride] tensor holding shift and scale vectors for each batch item. */
  mod: Tensor;
  /** Elements between batch items in `mod`. */
  stride: number;
  shiftOffset: number;
  scaleOffset: number;
}

export interface NormArgs {
  x: Tensor; // [..., C]
  out: Tensor; // same shape
  eps: number;
  rms?: boolean;
  weight?: Tensor; // [C]
  bias?: Tensor; // [C] (LayerNorm only)
  modulate?: Modulation;
  /** Rows per batch item, for modulation (default: all rows are one item). */
  tokens?: number;
  layer?: string;
  wg?: number;
  /** One invocation per row (default: on a CPU adapter only; a GPU gets a workgroup per row at every width). */
  rowPerThread?: boolean;
  /** vec4 loads in the workgroup-per-row kernel (default: when C and the modulation offsets are multiples of 4). */
  vec4?: boolean;
  /** Row sums by subgroupAdd in the workgroup-per-row kernel (default: when the adapter has subgroups and rows get a workgroup). */
  subgroups?: boolean;
  /**
   * Only the first `itemRows` rows of each item: x and out [B, L, C] (rank 3), item b's rows at
   * b·L, 1 ≤ itemRows ≤ L; one dispatch over the B items (the grid's z), out's other rows left as
   * they are. Not with modulate. (Wan's prepare plan, model/wan.ts: attn2.norm_k over the text rows read.)
   */
  itemRows?: number;
}

/*
 * One row per invocation is the CPU adapter's layout (cpuTunedVariantsOk), at every width:
 * lavapipe, same process, worker CPU time, row/thread vs workgroup per row: 1024×384 LN+mod
 * 1.3 vs 12.7 ms, 6144×96 a few ms vs 70, 4096×1152 4.4× faster, 16×1152 3×, 64×1152 3.7× (each
 * barrier of the tree is a coroutine switch of every SIMD chunk of the workgroup). Those are CPU
 * timings only: on a GPU its loads are uncoalesced (neighbouring invocations read rows C apart),
 * so a GPU gets the workgroup-per-row layout (vec4, subgroup sums) at every width, narrow rows
 * included, unless the caller asks for rowPerThread.
 */

/** y = norm(x)[·w+b][·(1+scale)+shift]. */
export function norm(plan: Plan, a: NormArgs): Tensor {
  const { rows: allRows, cols } = rowsCols(a.x, 'norm x');
  if (a.out.size !== a.x.size) throw new Error(`norm: out ${shapeStr(a.out.shape)} ≠ x ${shapeStr(a.x.shape)}`);
  const it = a.itemRows === undefined ? undefined : itemsOf(a, a.itemRows);
  const rows = it ? it.rows : allRows; // per item
  checkDtypes('norm', a.x, a.out, a.weight, a.bias, a.modulate?.mod);
  if (a.weight && a.weight.size !== cols) throw new Error(`norm: weight has ${a.weight.size} elements, expected ${cols}`);
  if (a.bias && a.bias.size !== cols) throw new Error(`norm: bias has ${a.bias.size} elements, expected ${cols}`);
  if (a.bias && a.rms) throw new Error('norm: RMSNorm has no bias');
  if (a.bias && !a.weight) throw new Error('norm: bias without weight');
  const tokens = a.tokens ?? rows;
  if (rows % tokens !== 0) throw new Error(`norm: ${rows} rows is not a multiple of tokens=${tokens}`);
  const m = a.modulate;
  if (m) {
    const batches = rows / tokens;
    const need = (batches - 1) * m.stride + Math.max(m.shiftOffset, m.scaleOffset) + cols;
    if (m.mod.size < need) throw new Error(`norm: modulation tensor ${m.mod.label} has ${m.mod.size} elements, needs ${need}`);
  }
  const bp = bytesPer(a.x.dtype);
  const done = (it ? it.items * rows : rows) * cols; // elements normalized
  const perThread = a.rowPerThread ?? cpuTunedVariantsOk(plan.gpu);
  const wg = a.wg ?? (perThread ? 64 : 128);
  // vec4 loads where rows and modulation vectors start on 4-element boundaries (odd widths keep
  // the scalar loads, which handle any C)
  const vec4 = a.vec4 ?? (!perThread && cols % 4 === 0 && (!m || [m.stride, m.shiftOffset, m.scaleOffset].every((o) => o % 4 === 0)));
  if (vec4 && (perThread || cols % 4 !== 0 || (m && [m.stride, m.shiftOffset, m.scaleOffset].some((o) => o % 4 !== 0)))) {
    throw new Error(`norm: vec4 loads need a workgroup per row, C (${cols}) and the modulation stride/offsets multiples of 4`);
  }
  const sg = a.subgroups ?? (!perThread && plan.gpu.subgroups);
  if (sg && (perThread || !plan.gpu.subgroups)) throw new Error(`norm: subgroup sums need a workgroup per row and an adapter with subgroups (this one: ${plan.gpu.subgroups ? 'has' : 'lacks'} them)`);
  plan.record({
    spec: normKernel,
    variant: { flags: { ...dtypeFlags(a.x), RMS: !!a.rms, AFFINE: !!a.weight, MODULATE: !!m, ROW_PER_THREAD: perThread, VEC4: vec4, SG: sg }, overrides: { WG: wg } },
    uniforms: [
      ['rows', 'u32', rows],
      ['cols', 'u32', cols],
      ['tokens', 'u32', tokens],
      ['eps', 'f32', a.eps],
      ['mod_stride', 'u32', m?.stride ?? 0],
      ['shift_off', 'u32', m?.shiftOffset ?? 0],
      ['scale_off', 'u32', m?.scaleOffset ?? 0],
      ['item_stride', 'u32', it?.stride ?? 0],
    ],
    buffers: [a.x, a.weight ?? plan.dummy, a.bias ?? plan.dummy, m?.mod ?? plan.dummy, a.out],
    workgroups: [...grid1D(plan.gpu, perThread ? ceilDiv(rows, wg) : rows).slice(0, 2), it?.items ?? 1] as [number, number, number],
    layer: a.layer,
    shapes: `x${shapeStr(a.x.shape)}${it ? `[:${rows}]` : ''}`,
    // two or three passes over x: mean, variance, normalize (+ modulate)
    flops: done * (a.rms ? 5 : 7) + (m ? done * 3 : 0),
    bytes: ((a.rms ? 2 : 3) + 1) * done * bp + (m ? (rows / tokens) * 2 * cols * bp : 0) + (a.weight ? cols * bp * 2 : 0),
  });
  return a.out;
}

/** NormArgs.itemRows: x and out [B, L, C], the first `rows` rows of each item (no modulation). */
function itemsOf(a: NormArgs, rows: number): { rows: number; items: number; stride: number } {
  if (a.modulate) throw new Error('norm: itemRows does not take modulate');
  if (a.x.shape.length !== 3 || a.out.shape.length !== 3 || a.out.shape[0] !== a.x.shape[0] || a.out.shape[1] !== a.x.shape[1]) {
    throw new Error(`norm: itemRows needs x and out [B, L, C], got x ${shapeStr(a.x.shape)}, out ${shapeStr(a.out.shape)}`);
  }
  const [B, L] = a.x.shape as [number, number, number];
  if (!Number.isInteger(rows) || rows < 1 || rows > L) throw new Error(`norm: itemRows ${rows}, expected an integer in 1..${L} (x ${a.x.label} ${shapeStr(a.x.shape)})`);
  return { rows, items: B, stride: L };
}
