// Fused (flash) attention, O(N) memory (kernels/attention.wgsl).
import { defineKernel } from '../gpu/kernel.js';
import { grid1D, type Plan } from '../gpu/plan.js';
import { bytesPer, shapeStr, type DType, type Tensor } from '../gpu/tensor.js';
import type { Gpu } from '../gpu/device.js';
import type { Variant } from '../gpu/kernel.js';
import { ceilDiv, checkDtypes } from './util.js';
import { subgroupsOf8 } from '../gpu/policy.js';

export const attentionKernel = defineKernel({
  name: 'attention',
  prelude: ['common/dtype'],
  // RELBIAS: T5's relative position bias added to every score; KEYMASK: keys past each batch
  // item's length masked out (right padding). UMT5's encoder uses both with scale 1.
  flags: { F16: [false, true], SG: [false, true], RELBIAS: [false, true], KEYMASK: [false, true] },
  // WG: invocations per workgroup; RPT: query rows per invocation (BQ = WG·RPT rows per
  // workgroup); BK: keys per staged tile. The head dim is a runtime uniform (one pipeline for
  // every head dim; kernels/attention.wgsl says why). SG: subgroup broadcast of staged K/V
  // (default when the adapter has subgroups of ≥ 8 lanes).
  overrides: { WG: [64, 32, 128, 16], RPT: [4, 1, 2], BK: [16, 8, 32, 4] },
  bindings: ['uniform', 'read', 'read', 'read', 'rw', 'read', 'read', 'read'],
  needs: { F16: 'shader-f16', SG: 'subgroups' },
});

/** Largest head dim the kernel holds (MAXD4 = 32 vec4s in kernels/attention.wgsl). */
export const ATTENTION_MAX_HEAD_DIM = 128;

export interface AttentionArgs {
  q: Tensor; // [B, Lq, H*Dh]
  k: Tensor; // [B, Lk, H*Dh]
  v: Tensor; // [B, Lk, H*Dh]
  out: Tensor; // [B, Lq, H*Dh]
  heads: number;
  headDim: number;
  /** Default 1/sqrt(headDim); UMT5/T5 use 1 (no scaling). */
  scale?: number;
  /**
   * T5's relative position bias (transformers modeling_t5.py/modeling_umt5.py compute_bias),
   * added inside the kernel: score(i, j) += bias[buckets[j − i + Lq − 1]·H + h]. `bias`:
   * [numBuckets, H] in the q dtype (nn.Embedding(num_buckets, n_heads).weight); `buckets`: u32
   * [Lq + Lk − 1], the bucket of each relative position (src/ref/umt5.ts relativeBucketTable),
   * values < numBuckets (larger ones are clamped to the last bucket). No Lq×Lk buffer.
   */
  positionBias?: { bias: Tensor; buckets: Tensor };
  /** u32 [B]: keys j ≥ keyLengths[b] of batch item b are masked out (a right-padded attention_mask), each ≥ 1. */
  keyLengths?: Tensor;
  layer?: string;
  /** Override knobs: WG, RPT, BK, BQ (= WG·RPT), SG (0 turns the subgroup variant off). */
  tile?: Partial<Record<string, number>>;
}

function dims3(t: Tensor, name: string): [number, number, number] {
  if (t.shape.length !== 3) throw new Error(`attention: ${name} must be [B, L, H*Dh], got ${shapeStr(t.shape)}`);
  return t.shape as [number, number, number];
}

/**
 * The kernel variant `attention` records for `lq` query rows of storage dtype `dtype` with
 * optional tile knobs (see AttentionArgs.tile), and its query rows per workgroup BQ. The head
 * dim and the key count do not enter it (runtime uniforms), so tests can list the variants a
 * set of shapes needs and compile them up front. Throws on knob values not declared by the kernel
 * and on K/V tiles that do not fit the device's workgroup memory.
 */
export function attentionVariant(gpu: Gpu, a: { lq: number; dtype: DType; tile?: Partial<Record<string, number>>; relBias?: boolean; keyMask?: boolean }): { variant: Variant; BQ: number } {
  const t = a.tile ?? {};
  const bp = bytesPer(a.dtype);
  const Lq = a.lq;
  // 4 rows per invocation: each broadcast K/V value feeds 4 FMAs (1.4–1.6× over 1 on lavapipe,
  // bench/RESULTS.md "Attention"); fewer for short queries so blocks are not mostly padding.
  // The plain kernel (no subgroups) peaks at 2 rows (×1.45 over 1; 4 gives ×1.22).
  const sgOk = (t.SG ?? 1) !== 0 && subgroupsOf8(gpu);
  const RPT = t.RPT ?? (t.BQ ? 1 : Lq <= 64 ? 1 : Lq <= 128 || !sgOk ? 2 : 4);
  const WG = t.WG ?? (t.BQ ? t.BQ / RPT : 64);
  for (const [knob, val] of [['WG', WG], ['RPT', RPT], ['BK', t.BK]] as const) {
    if (val !== undefined && !attentionKernel.overrides[knob]!.includes(val)) {
      throw new Error(`attention: tile ${knob}=${val} is not one of ${attentionKernel.overrides[knob]!.join(', ')}`);
    }
  }
  // K and V tiles share the workgroup memory: 2·BK·MAXD4 vec4s of the storage type, sized for
  // the largest head dim (the tile is a fixed-size array; the head dim is a runtime uniform).
  const wgBytes = gpu.limits.maxComputeWorkgroupStorageSize;
  const tileBytes = (bk: number) => 2 * bk * ATTENTION_MAX_HEAD_DIM * bp;
  let BK = t.BK ?? 16;
  if (t.BK === undefined) while (BK > 4 && tileBytes(BK) > wgBytes) BK /= 2;
  if (tileBytes(BK) > wgBytes) throw new Error(`attention: BK=${BK} tiles need ${tileBytes(BK)} bytes of workgroup memory (room for head dim ${ATTENTION_MAX_HEAD_DIM}), limit ${wgBytes}; use a smaller BK`);
  const SG = sgOk && BK % 8 === 0;
  return { variant: { flags: { F16: a.dtype === 'f16', SG, RELBIAS: !!a.relBias, KEYMASK: !!a.keyMask }, overrides: { WG, RPT, BK } }, BQ: WG * RPT };
}

/** out = softmax(q·kᵀ·scale)·v per batch item and head; returns out. */
export function attention(plan: Plan, a: AttentionArgs): Tensor {
  const { heads: H, headDim: D } = a;
  if (!Number.isInteger(D) || D < 8 || D > ATTENTION_MAX_HEAD_DIM || D % 4 !== 0) {
    throw new Error(`attention: headDim ${D} is not supported (need a multiple of 4 from 8 to ${ATTENTION_MAX_HEAD_DIM})`);
  }
  if (!Number.isInteger(H) || H < 1) throw new Error(`attention: heads ${H} must be a positive integer`);
  const W = H * D;
  const [B, Lq, wq] = dims3(a.q, `q ${a.q.label}`);
  const [Bk, Lk, wk] = dims3(a.k, `k ${a.k.label}`);
  if (wq !== W) throw new Error(`attention: q ${a.q.label} last dim ${wq} ≠ heads·headDim ${W}`);
  if (Lq < 1 || Lk < 1) throw new Error(`attention: empty sequence (q ${shapeStr(a.q.shape)}, k ${shapeStr(a.k.shape)})`);
  if (Bk !== B) throw new Error(`attention: k ${a.k.label} batch ${Bk} ≠ q batch ${B}`);
  if (wk !== W) throw new Error(`attention: k ${a.k.label} last dim ${wk} ≠ heads·headDim ${W}`);
  const want = (t: Tensor, name: string, shape: number[]) => {
    if (t.shape.length !== 3 || t.shape.some((n, i) => n !== shape[i])) {
      throw new Error(`attention: ${name} ${t.label} is ${shapeStr(t.shape)}, expected ${shapeStr(shape)}`);
    }
  };
  want(a.v, 'v', [B, Lk, W]);
  want(a.out, 'out', [B, Lq, W]);
  checkDtypes('attention', a.q, a.k, a.v, a.out);
  if (a.out.buffer === a.q.buffer || a.out.buffer === a.k.buffer || a.out.buffer === a.v.buffer) {
    throw new Error(`attention: out ${a.out.label} must not alias q, k or v`);
  }

  const pb = a.positionBias;
  if (pb) {
    if (pb.bias.shape.length !== 2 || pb.bias.shape[1] !== H) throw new Error(`attention: positionBias.bias ${pb.bias.label} is ${shapeStr(pb.bias.shape)}, expected [numBuckets, ${H}]`);
    checkDtypes('attention', a.q, pb.bias);
    if (pb.buckets.size !== Lq + Lk - 1) throw new Error(`attention: positionBias.buckets ${pb.buckets.label} has ${pb.buckets.size} entries, expected Lq + Lk − 1 = ${Lq + Lk - 1}`);
  }
  if (a.keyLengths && a.keyLengths.size !== B) throw new Error(`attention: keyLengths ${a.keyLengths.label} has ${a.keyLengths.size} entries, expected one per batch item (batch ${B})`);
  const { variant, BQ } = attentionVariant(plan.gpu, { lq: Lq, dtype: a.q.dtype, tile: a.tile, relBias: !!pb, keyMask: !!a.keyLengths });
  const scale = a.scale ?? 1 / Math.sqrt(D);
  const qBlocks = ceilDiv(Lq, BQ);
  const groups = B * H * qBlocks;

  plan.record({
    spec: attentionKernel,
    variant,
    uniforms: [
      ['lq', 'u32', Lq],
      ['lk', 'u32', Lk],
      ['heads', 'u32', H],
      ['dh4', 'u32', D / 4],
      ['q_blocks', 'u32', qBlocks],
      ['groups', 'u32', groups],
      ['scale_log2', 'f32', scale * Math.LOG2E],
      ['n_buckets', 'u32', pb ? pb.bias.shape[0]! : 1],
    ],
    buffers: [a.q, a.k, a.v, a.out, pb?.bias ?? plan.dummy, pb?.buckets ?? plan.dummy, a.keyLengths ?? plan.dummy],
    workgroups: grid1D(plan.gpu, groups),
    layer: a.layer,
    shapes: `q${shapeStr(a.q.shape)} k${shapeStr(a.k.shape)} h${H}×${D}${pb ? ` bias[${pb.bias.shape[0]},${H}]` : ''}${a.keyLengths ? ' keymask' : ''}`,
    // QKᵀ and PV: 2 FLOPs per multiply-add, 2·Lq·Lk·Dh each per head.
    flops: 4 * B * H * Lq * Lk * D,
    // q and out once; k and v re-read by every query block.
    bytes: (2 * B * Lq * W + 2 * qBlocks * B * Lk * W) * bytesPer(a.q.dtype),
  });
  return a.out;
}
