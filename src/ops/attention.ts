// Fused (flash) attention, O(N) memory. Two kernels implement it (uniforms, bindings and the
// score function shared, kernels/common/attention_io.wgsl):
//   attention      rows per invocation, K/V by subgroup broadcast (measured fastest on lavapipe);
//                  the tuning candidate `rows-dh` is the same kernel with the head dim compiled in
//   attention_fa2  FlashAttention-2 style for GPUs: 4 lanes per query row split the head dim,
//                  bounded per-invocation state; a subgroup-shuffle and a workgroup-memory variant
// Which one runs is a strategy (`rows`, `fa2`, `fa2-wg`; the tuner also times `rows-dh`), chosen
// per (adapter, shape bucket) by the tuner (src/gpu/tune.ts) when a cached or measured choice
// exists, else by the adapter policy's heuristic: `rows` on CPU adapters, `fa2` (or `fa2-wg`
// without subgroups) on every other adapter.
import { defineKernel } from '../gpu/kernel.js';
import { grid1D, type Plan, type RecordArgs } from '../gpu/plan.js';
import { bytesPer, shapeStr, type DType, type Tensor } from '../gpu/tensor.js';
import type { Gpu } from '../gpu/device.js';
import type { Variant } from '../gpu/kernel.js';
import { ceilDiv, checkDtypes } from './util.js';
import { cpuTunedVariantsOk, subgroupsOf8 } from '../gpu/policy.js';
import '../gpu/tune.js'; // registers the tuner with Plan (recordTuned below)

const ATTENTION_FLAGS = { F16: [false, true], SG: [false, true], RELBIAS: [false, true], KEYMASK: [false, true], KEYFOLD: [false, true] } as const;
const ATTENTION_BINDINGS = ['uniform', 'read', 'read', 'read', 'rw', 'read', 'read', 'read'] as const;
/** Head dims / 4 that have a compiled-in-head-dim variant of the rows kernel (tuning candidate rows-dh). */
const ROWS_DH_DH4 = [16, 18, 32] as const;

/** KEYFOLD shares klen with KEYMASK and needs equal scores for the folded keys (no RELBIAS): alone or with F16/SG. */
const keyFoldAlone = (f: Record<string, boolean>) => !f.KEYFOLD || (!f.KEYMASK && !f.RELBIAS);

export const attentionKernel = defineKernel({
  name: 'attention',
  family: 'attention',
  prelude: ['common/dtype', 'common/attention_io'],
  // RELBIAS: T5's relative position bias added to every score; KEYMASK: keys past each batch
  // item's length masked out (right padding). UMT5's encoder uses both with scale 1. KEYFOLD: each
  // item's trailing run of equal keys taken as one key with + log2(run length) (Wan's cross-attention
  // to zero-padded text; AttentionArgs.keyFold).
  flags: ATTENTION_FLAGS,
  // WG: invocations per workgroup; RPT: query rows per invocation (BQ = WG·RPT rows per
  // workgroup); BK: keys per staged tile. The head dim is a runtime uniform (one pipeline for
  // every head dim; kernels/attention.wgsl says why). SG: subgroup broadcast of staged K/V
  // (default when the adapter has subgroups of ≥ 8 lanes). DH4: the head dim / 4 compiled in
  // (tuning candidate rows-dh), 0 = runtime; declared only for the head dims of the models and benchmarks
  // it was measured on (DiT-S/Wan 64, DiT-XL 72, Wan-1.3B 128): one pipeline per head dim.
  overrides: { WG: [64, 32, 128, 16], RPT: [4, 1, 2], BK: [16, 8, 32, 4], DH4: [0, ...ROWS_DH_DH4] },
  bindings: ATTENTION_BINDINGS,
  needs: { F16: 'shader-f16', SG: 'subgroups' },
  valid: keyFoldAlone,
});

/**
 * FlashAttention-2-style kernel (kernels/attention_fa2.wgsl): WG/4 query rows per workgroup, 4
 * lanes per row splitting the head dim, up to BK keys per staged tile. SG: the row's partial
 * scores summed by subgroup shuffles; without it through workgroup memory.
 */
export const attentionFa2Kernel = defineKernel({
  name: 'attention_fa2',
  family: 'attention',
  prelude: ['common/dtype', 'common/attention_io'],
  flags: ATTENTION_FLAGS,
  overrides: { WG: [64, 128], BK: [16] },
  bindings: ATTENTION_BINDINGS,
  needs: { F16: 'shader-f16', SG: 'subgroups' },
  valid: keyFoldAlone,
});

/** Lanes per query row in attention_fa2 (LPR in the kernel). */
const FA2_LANES_PER_ROW = 4;

/** The strategies: the rows kernel, FA2 with subgroup sums, FA2 with workgroup-memory sums. */
export const ATTENTION_STRATEGIES = ['rows', 'fa2', 'fa2-wg'] as const;
export type AttentionStrategy = (typeof ATTENTION_STRATEGIES)[number];
/**
 * What the tuner chooses among: a strategy, or `rows-dh`, the rows kernel with the head dim
 * compiled in (head dims 64, 72, 128 only; by hand: tile knob DH4 = Dh/4).
 */
export type AttentionCandidate = AttentionStrategy | 'rows-dh';
/** Every candidate the tuner may choose (the names `tessera info` and the tuning cache use), strategies first. */
export const ATTENTION_CANDIDATES: readonly AttentionCandidate[] = [...ATTENTION_STRATEGIES, 'rows-dh'];

/** Strategies that can run on this adapter (`fa2` needs subgroups of ≥ 8 lanes, like the rows kernel's SG path). */
export function attentionStrategiesFor(gpu: Pick<Gpu, 'subgroups' | 'subgroupMinSize'>): AttentionStrategy[] {
  return ATTENTION_STRATEGIES.filter((s) => s !== 'fa2' || subgroupsOf8(gpu));
}

/** Whether the rows kernel has a variant with head dim `headDim` compiled in (tuning candidate rows-dh). */
export function rowsDhOk(headDim: number): boolean {
  return (ROWS_DH_DH4 as readonly number[]).includes(headDim / 4);
}

/**
 * The heuristic strategy (no tuning): on CPU adapters the rows kernel, as measured on lavapipe
 * (bench/RESULTS.md "Attention"); on every other adapter FlashAttention-2 style (never the
 * CPU-tuned rows kernel), with subgroup sums where subgroups of ≥ 8 lanes exist.
 */
export function attentionHeuristic(gpu: Pick<Gpu, 'isCpu' | 'subgroups' | 'subgroupMinSize'>): AttentionStrategy {
  if (cpuTunedVariantsOk(gpu)) return 'rows';
  return subgroupsOf8(gpu) ? 'fa2' : 'fa2-wg';
}

/**
 * The strategies worth timing at head dim `headDim` (the heuristic first). CPU adapters time the
 * rows kernel against its compiled-in-head-dim variant where one exists (×1.15–1.2 at Dh = 64 on
 * lavapipe, bench/RESULTS.md "Attention — compile-time head dim"), never the FA2 kernels: they
 * measured 7.8–9.8× slower than the rows kernel on lavapipe ("Attention for GPUs"), so tuning
 * them there would only cost first-use time; `bench attention --variants all` still times them.
 * Other adapters time FA2 and the runtime-head-dim rows kernel (no per-head-dim pipeline).
 * Without `headDim`: the candidates of a head dim that has a rows-dh variant.
 */
export function attentionCandidates(gpu: Pick<Gpu, 'isCpu' | 'subgroups' | 'subgroupMinSize'>, headDim?: number): AttentionCandidate[] {
  const h = attentionHeuristic(gpu);
  if (h === 'rows') return headDim === undefined || rowsDhOk(headDim) ? ['rows', 'rows-dh'] : ['rows'];
  return [h, ...attentionStrategiesFor(gpu).filter((s) => s !== h)];
}

const nextPow2 = (v: number) => 2 ** Math.ceil(Math.log2(Math.max(1, v)));

/** Shape bucket of the tuning cache: dtype, query and key counts as powers of two, head dim, flags. */
export function attentionBucket(dtype: DType, Lq: number, Lk: number, D: number, relBias: boolean, keyMask: boolean, keyFold = false): string {
  return `${dtype} Lq${nextPow2(Lq)} Lk${nextPow2(Lk)} Dh${D}${relBias ? ' relbias' : ''}${keyMask ? ' keymask' : ''}${keyFold ? ' keyfold' : ''}`;
}

/** The attention_fa2 variant for storage `dtype` (`sg`: subgroup sums) and its query rows per workgroup. */
export function attentionFa2Variant(gpu: Gpu, a: { dtype: DType; sg: boolean; relBias?: boolean; keyMask?: boolean; keyFold?: boolean; wg?: number }): { variant: Variant; BQ: number } {
  const WG = a.wg ?? 64;
  if (!attentionFa2Kernel.overrides.WG!.includes(WG)) throw new Error(`attention: fa2 WG=${WG} is not one of ${attentionFa2Kernel.overrides.WG!.join(', ')}`);
  if (a.sg && !subgroupsOf8(gpu)) throw new Error('attention: strategy fa2 needs the subgroups feature with subgroups of at least 8 lanes (use fa2-wg)');
  const BK = 16;
  // K and V tiles of 4 KiB each (TV vec4s of the storage type) + the no-subgroup variant's partial scores
  const need = 2 * 4096 + (a.sg ? 0 : WG * BK * 4);
  const have = gpu.limits.maxComputeWorkgroupStorageSize;
  if (need > have) throw new Error(`attention: fa2 needs ${need} bytes of workgroup memory, limit ${have}`);
  return { variant: { flags: { F16: a.dtype === 'f16', SG: a.sg, RELBIAS: !!a.relBias, KEYMASK: !!a.keyMask, KEYFOLD: !!a.keyFold }, overrides: { WG, BK } }, BQ: WG / FA2_LANES_PER_ROW };
}

/** Largest head dim the kernel holds (MAXD4 = 32 vec4s in kernels/attention.wgsl). */
export const ATTENTION_MAX_HEAD_DIM = 128;

/** Whether the attention kernels take head dim `d`: a multiple of 4 (vec4 loads) from 8 to ATTENTION_MAX_HEAD_DIM. */
export const attentionHeadDimOk = (d: number): boolean => Number.isInteger(d) && d >= 8 && d <= ATTENTION_MAX_HEAD_DIM && d % 4 === 0;

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
  /**
   * The number of valid keys of each batch item (a right-padded attention_mask): keys j ≥
   * keyLengths[b] of item b are masked out. Each an integer in 1..Lk (0 leaves a row no key to
   * attend to: NaN). Host values (B numbers) are checked here, before any GPU work, and uploaded
   * into the plan's allocator; a u32 [B] tensor is read by the kernel as it runs, so whoever
   * writes it checks the values first (checkKeyLengths; Umt5Encoder.encode does).
   */
  keyLengths?: Tensor | ArrayLike<number>;
  /**
   * u32 [B]: the keys of item b before its trailing run of equal key and value rows, 0..Lk
   * (`keyFoldLengths`); key keyFold[b] stands for the Lk − keyFold[b] keys of the run (its score
   * + ln(Lk − keyFold[b])) and the keys after it are skipped; Lk folds nothing. Softmax over n
   * equal keys of score s equals softmax over one of score s + ln n with the same value, so the
   * output is that of attention over all Lk keys, up to rounding: the caller must guarantee that
   * rows keyFold[b]..Lk−1 of k and of v are equal. For Wan's cross-attention: WanPipeline
   * (diffusers pipeline_wan.py `_get_t5_prompt_embeds`) zero-pads the prompt embeddings to
   * max_sequence_length rows and WanTransformer3DModel (transformer_wan.py) attends to all of them
   * without a mask, and its text embedder, to_k/to_v and norm_k act row by row. Not with
   * keyLengths or positionBias (a bias would tell the equal keys apart).
   */
  keyFold?: Tensor;
  layer?: string;
  /** Override knobs of the rows kernel: WG, RPT, BK, BQ (= WG·RPT), SG (0 turns the subgroup variant off), DH4 (headDim/4 compiled in: 16, 18, 32); no tuning. */
  tile?: Partial<Record<string, number>>;
  /** Fix the strategy by name (benchmarks, tests; no tuning): `rows`, `fa2` or `fa2-wg`. */
  strategy?: AttentionStrategy;
}

/** AttentionArgs as `attention` records them: keyLengths uploaded. */
type CheckedArgs = Omit<AttentionArgs, 'keyLengths'> & { keyLengths?: Tensor };

const isTensor = (x: Tensor | ArrayLike<number>): x is Tensor => 'buffer' in x;

/**
 * Throws unless `keyLengths` holds one integer in 1..kvTokens per batch item (`batch` of them):
 * the message names keyLengths, the batch item and the range. What `attention` checks for host
 * values; for callers that write a keyLengths tensor themselves.
 */
export function checkKeyLengths(keyLengths: ArrayLike<number>, batch: number, kvTokens: number): void {
  if (keyLengths.length !== batch) throw new Error(`attention: keyLengths has ${keyLengths.length} entries, expected one per batch item (batch ${batch})`);
  for (let b = 0; b < batch; b++) {
    const n = keyLengths[b]!;
    if (!Number.isInteger(n) || n < 1 || n > kvTokens) {
      throw new Error(`attention: keyLengths[${b}] (batch item ${b}) is ${n}, expected an integer in 1..${kvTokens} (valid keys of the ${kvTokens} kv tokens${n === 0 ? '; 0 leaves no key to attend to' : ''})`);
    }
  }
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
export function attentionVariant(gpu: Gpu, a: { lq: number; dtype: DType; tile?: Partial<Record<string, number>>; relBias?: boolean; keyMask?: boolean; keyFold?: boolean; headDim?: number }): { variant: Variant; BQ: number } {
  const t = a.tile ?? {};
  const bp = bytesPer(a.dtype);
  const Lq = a.lq;
  // 4 rows per invocation: each broadcast K/V value feeds 4 FMAs (1.4–1.6× over 1 on lavapipe,
  // bench/RESULTS.md "Attention"); fewer for short queries so blocks are not mostly padding.
  // The plain kernel (no subgroups) peaks at 2 rows (×1.45 over 1; 4 gives ×1.22).
  const sgOk = (t.SG ?? 1) !== 0 && subgroupsOf8(gpu);
  const RPT = t.RPT ?? (t.BQ ? 1 : Lq <= 64 ? 1 : Lq <= 128 || !sgOk ? 2 : 4);
  const WG = t.WG ?? (t.BQ ? t.BQ / RPT : 64);
  for (const [knob, val] of [['WG', WG], ['RPT', RPT], ['BK', t.BK], ['DH4', t.DH4]] as const) {
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
  const DH4 = t.DH4 ?? 0;
  if (DH4 !== 0 && a.headDim !== undefined && DH4 * 4 !== a.headDim) throw new Error(`attention: tile DH4=${DH4} compiles in head dim ${DH4 * 4}, the call's is ${a.headDim}`);
  return { variant: { flags: { F16: a.dtype === 'f16', SG, RELBIAS: !!a.relBias, KEYMASK: !!a.keyMask, KEYFOLD: !!a.keyFold }, overrides: { WG, RPT, BK, ...(DH4 ? { DH4 } : {}) } }, BQ: WG * RPT };
}

/**
 * The keyFold table of `rows` (f32 [batch, len, width], e.g. Wan's encoder_hidden_states): for
 * each item, the number of rows before its trailing run of rows bitwise equal to its last row, so
 * 0..len−1 (len − 1 when the last row has no equal neighbour: folding one key adds log2 1 = 0).
 * Row-wise layers (Wan's text embedder, to_k/to_v, norm_k) keep equal rows equal, so this is the
 * fold of the K/V computed from `rows`. Returns u32 [batch].
 */
export function keyFoldLengths(rows: Float32Array, batch: number, len: number, width: number): Uint32Array {
  if (rows.length !== batch * len * width) throw new Error(`keyFoldLengths: ${rows.length} values for [${batch}, ${len}, ${width}]`);
  const bits = new Uint32Array(rows.buffer, rows.byteOffset, rows.length);
  const out = new Uint32Array(batch);
  for (let b = 0; b < batch; b++) {
    const last = (b * len + len - 1) * width;
    let j = len - 1;
    // row j − 1 equal to the last row: extend the run
    outer: while (j > 0) {
      const o = (b * len + j - 1) * width;
      for (let c = 0; c < width; c++) if (bits[o + c] !== bits[last + c]) break outer;
      j--;
    }
    out[b] = j;
  }
  return out;
}

/**
 * out = softmax(q·kᵀ·scale [+ position bias] [key mask])·v per batch item and head; returns out.
 * With `keyFold`, each item's trailing run of equal keys is one key (see AttentionArgs.keyFold):
 * the same output, fewer keys visited.
 * Shapes: q, out [B, Lq, H·Dh], k, v [B, Lk, H·Dh] (Lq ≠ Lk allowed), Dh a multiple of 4 in
 * 8..128; f32 or f16 storage (all alike), f32 scores, softmax and accumulation. Without `tile` /
 * `strategy` the kernel is the tuner's cached choice for this adapter and shape bucket, else the
 * adapter policy's heuristic (`attentionHeuristic`), and the plan may be tuned before its first
 * run (src/gpu/tune.ts). Throws on unsupported head dims, mismatched shapes/dtypes, aliasing, table
 * sizes, host keyLengths outside 1..Lk (checkKeyLengths), undeclared knobs or a strategy the
 * adapter cannot run, naming the tensor or knob, before any GPU work.
 */
export function attention(plan: Plan, a: AttentionArgs): Tensor {
  const { heads: H, headDim: D } = a;
  if (!attentionHeadDimOk(D)) {
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
  if (a.keyLengths && isTensor(a.keyLengths) && a.keyLengths.size !== B) throw new Error(`attention: keyLengths ${a.keyLengths.label} has ${a.keyLengths.size} entries, expected one per batch item (batch ${B})`);
  if (a.keyFold) {
    if (a.keyLengths || pb) throw new Error(`attention: keyFold ${a.keyFold.label} cannot be combined with ${a.keyLengths ? 'keyLengths' : 'positionBias'} (the fold needs equal scores for the folded keys)`);
    if (a.keyFold.size !== B) throw new Error(`attention: keyFold ${a.keyFold.label} has ${a.keyFold.size} entries, expected one per batch item (batch ${B})`);
  }
  if (a.tile && a.strategy) throw new Error('attention: give tile or strategy, not both');
  if (a.strategy && !attentionStrategiesFor(plan.gpu).includes(a.strategy)) {
    throw new Error(`attention: strategy ${a.strategy} cannot run on this adapter (usable: ${attentionStrategiesFor(plan.gpu).join(', ')})`);
  }
  if (a.keyLengths && !isTensor(a.keyLengths)) checkKeyLengths(a.keyLengths, B, Lk);
  const keyLengths = a.keyLengths && !isTensor(a.keyLengths) ? plan.alloc.uploadU32(Uint32Array.from(a.keyLengths), `${a.layer ?? 'attention'}:key_lengths`) : a.keyLengths;
  return recordAttention(plan, { ...a, keyLengths }, Lq, Lk);
}

/** Records a call `attention` checked (host keyLengths uploaded). */
function recordAttention(plan: Plan, a: CheckedArgs, Lq: number, Lk: number): Tensor {
  const { headDim: D } = a;
  const pb = a.positionBias;
  if (a.tile || a.strategy) {
    plan.record(attentionRecordArgs(plan, a, a.tile ? 'rows' : a.strategy!));
    return a.out;
  }
  plan.recordTuned({
    family: 'attention',
    bucket: attentionBucket(a.q.dtype, Lq, Lk, D, !!pb, !!a.keyLengths, !!a.keyFold),
    candidates: attentionCandidates(plan.gpu, D),
    heuristic: attentionHeuristic(plan.gpu),
    flops: 4 * a.q.shape[0]! * a.heads * Lq * Lk * D, // Q·Kᵀ and P·V
    args: (name) => attentionRecordArgs(plan, a, name as AttentionCandidate),
    bench: (p, name) => attentionBenchRecord(p, a, name as AttentionCandidate),
  });
  return a.out;
}

/**
 * The rows kernel's tile knobs for candidate `s` at head dim `headDim`: for `rows-dh`, `tile`
 * with DH4 = headDim/4 (the head dim compiled in), as the tuner records it; for any other
 * candidate (or none), `tile` as given.
 */
export function candidateTile(s: AttentionCandidate | undefined, tile: Partial<Record<string, number>> | undefined, headDim: number): Partial<Record<string, number>> | undefined {
  return s === 'rows-dh' ? { ...tile, DH4: headDim / 4 } : tile;
}

/** The dispatch of `a` (checked by `attention`) with candidate `s` (the rows kernel takes `a.tile`). */
function attentionRecordArgs(plan: Plan, a: CheckedArgs, s: AttentionCandidate): RecordArgs {
  const { heads: H, headDim: D } = a;
  const [B, Lq, W] = a.q.shape as [number, number, number];
  const Lk = a.k.shape[1]!;
  const pb = a.positionBias;
  const flags = { dtype: a.q.dtype, relBias: !!pb, keyMask: !!a.keyLengths, keyFold: !!a.keyFold };
  const rows = s === 'rows' || s === 'rows-dh';
  const tile = candidateTile(s, a.tile, D);
  const { variant, BQ } = rows ? attentionVariant(plan.gpu, { lq: Lq, tile, headDim: D, ...flags }) : attentionFa2Variant(plan.gpu, { sg: s === 'fa2', ...flags });
  const scale = a.scale ?? 1 / Math.sqrt(D);
  const qBlocks = ceilDiv(Lq, BQ);
  const groups = B * H * qBlocks;
  return {
    spec: rows ? attentionKernel : attentionFa2Kernel,
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
    buffers: [a.q, a.k, a.v, a.out, pb?.bias ?? plan.dummy, pb?.buckets ?? plan.dummy, a.keyLengths ?? a.keyFold ?? plan.dummy],
    workgroups: grid1D(plan.gpu, groups),
    layer: a.layer,
    shapes: `q${shapeStr(a.q.shape)} k${shapeStr(a.k.shape)} h${H}×${D}${pb ? ` bias[${pb.bias.shape[0]},${H}]` : ''}${a.keyLengths ? ' keymask' : ''}${a.keyFold ? ' keyfold' : ''}`,
    // QKᵀ and PV: 2 FLOPs per multiply-add, 2·Lq·Lk·Dh each per head.
    flops: 4 * B * H * Lq * Lk * D,
    // q and out once; k and v re-read by every query block.
    bytes: (2 * B * Lq * W + 2 * qBlocks * B * Lk * W) * bytesPer(a.q.dtype),
    // With keyFold the keys visited are data, written after recording: the plan counts the work of
    // the keys visited once the host writes the table (Plan.keyFoldWritten); until then, every key.
    ...(a.keyFold ? { keyFold: { buffer: a.keyFold.buffer, offset: a.keyFold.offset ?? 0, batch: B, lk: Lk, flopsPerKey: 4 * H * Lq * D, bytesPerKey: 2 * qBlocks * W * bytesPer(a.q.dtype), bytesFixed: 2 * B * Lq * W * bytesPer(a.q.dtype) } } : {}),
  };
}

/**
 * For the tuner: record strategy `name` for this call's head layout and flags on fresh seeded
 * inputs in `p.alloc` (one batch item; queries capped at 1024 and keys at 2048, so tuning a
 * 30k-token layer stays cheap: the bucket spans the rest). Returns the output tensor.
 */
function attentionBenchRecord(p: Plan, a: CheckedArgs, name: AttentionCandidate): Tensor {
  const { heads: H, headDim: D } = a;
  const dtype = a.q.dtype;
  const W = H * D;
  const Lq = Math.min(a.q.shape[1]!, 1024);
  const Lk = Math.min(a.k.shape[1]!, 2048);
  let st = 12345;
  const fill = (n: number, scale: number): Float32Array | number[] => {
    if (p.alloc.dry) return []; // tuneScratchBytes' dry run: the upload ignores the data
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      st = (Math.imul(st, 1664525) + 1013904223) >>> 0;
      out[i] = ((st / 2 ** 32) * 2 - 1) * scale;
    }
    return out;
  };
  const al = p.alloc;
  const q = al.upload(fill(Lq * W, 2), [1, Lq, W], dtype, 'tune:q');
  const k = al.upload(fill(Lk * W, 2), [1, Lk, W], dtype, 'tune:k');
  const v = al.upload(fill(Lk * W, 1), [1, Lk, W], dtype, 'tune:v');
  const out = al.tensor([1, Lq, W], dtype, 'tune:out');
  const pb = a.positionBias;
  let positionBias: AttentionArgs['positionBias'];
  if (pb) {
    const nb = pb.bias.shape[0]!;
    const buckets = new Uint32Array(Lq + Lk - 1).map((_, i) => Math.abs(i - Lq + 1) % nb);
    positionBias = { bias: al.upload(fill(nb * H, 1), [nb, H], dtype, 'tune:bias'), buckets: al.uploadU32(buckets, 'tune:buckets') };
  }
  const keyLengths = a.keyLengths ? al.uploadU32(Uint32Array.of(Math.max(1, Lk - 3)), 'tune:klen') : undefined;
  // the fold's worst case: no padding (every key visited); the seeded keys differ, so folding the last 1 is exact
  const keyFold = a.keyFold ? al.uploadU32(Uint32Array.of(Lk - 1), 'tune:keyfold') : undefined;
  const args: CheckedArgs = { q, k, v, out, heads: H, headDim: D, layer: 'tune', ...(a.scale !== undefined ? { scale: a.scale } : {}), ...(positionBias ? { positionBias } : {}), ...(keyLengths ? { keyLengths } : {}), ...(keyFold ? { keyFold } : {}) };
  p.record(attentionRecordArgs(p, args, name));
  return out;
}

