// Benchmark workloads: one op at a given size with seeded random data, recorded into a Plan,
// plus a check of its output against the float64 reference (on sampled rows when the full
// reference would be slow). `tessera bench` and the browser demo both use these.
// Browser-safe: no Node imports.
import type { Gpu } from '../gpu/device.js';
import { roundF16 } from '../gpu/half.js';
import { Plan } from '../gpu/plan.js';
import { Allocator, bytesPer, fmtBytes, readTensor, subTensor, type DType, type Tensor } from '../gpu/tensor.js';
import { LimitError, U32_MAX } from '../gpu/plan.js';
import { ATTENTION_MAX_HEAD_DIM, attention, attentionHeadDimOk, attentionStrategiesFor, candidateTile, rowsDhOk, type AttentionCandidate } from '../ops/attention.js';
import { conv, convKernel } from '../ops/conv.js';
import { gemm, gemmCandidatesFor, type GemmCandidate } from '../ops/gemm.js';
import { scale } from '../ops/elementwise.js';
import { norm } from '../ops/norm.js';
import { planeStride } from '../model/qkv.js';
import { attentionRef } from '../ref/attention.js';
import { convRef } from '../ref/conv.js';
import { gemmRef } from '../ref/gemm.js';
import { normRef } from '../ref/norm.js';
import { convLayout } from '../vae/weights.js';
import { randn, rng } from '../random.js';
import { BENCH_TOL, compareRows, type Check, type Tol } from './check.js';
import { checkDtypeOnAdapter, DtypeUnsupportedError, InputError, shown } from '../model/model.js';
import { bindingLimit } from '../model/memory.js';
import { checkOptionNames } from '../model/options.js';
import { checkGpuArg } from './args.js';
export { assertCheck, BENCH_TOL, WrongResultError, type Check, type Tol } from './check.js';

/** A benchmark workload: a recorded plan over seeded inputs, with its float64 reference check. */
export interface Workload {
  /** The op, e.g. `gemm`. */
  name: string;
  /** e.g. `gemm m×k×n 1024×384×384 f32` (sizes say which dimension is which). */
  label: string;
  /** Storage dtype of its tensors. */
  dtype: DType;
  /** The recorded plan (run it to time the workload). */
  plan: Plan;
  /** Holds every buffer of the workload (destroy() frees them). */
  alloc: Allocator;
  /** Runs the plan once and compares with the reference. */
  check(): Promise<Check>;
  /** Compares any full output (e.g. another library's) with the reference on the sampled rows (default tolerance: BENCH_TOL). */
  checkOutput(got: Float32Array, tol?: Tol): Check;
  /** The (dtype-rounded) inputs and weights, for running the same workload elsewhere. */
  data: Record<string, Float32Array>;
  /** The tensor the plan writes its result to. */
  out: Tensor;
  /** Frees the workload's buffers. */
  destroy(): void;
}

/** Rows to check: all when the reference is cheap, else first, last and seeded random ones. */
export function sampleRows(total: number, costPerRow: number, budget = 3e7, max = 8, seed = 1): number[] {
  if (total * costPerRow <= budget) return Array.from({ length: total }, (_, i) => i);
  const n = Math.max(2, Math.min(max, Math.floor(budget / Math.max(1, costPerRow))));
  const set = new Set([0, total - 1]);
  const r = rng(seed);
  while (set.size < Math.min(n, total)) set.add(Math.floor(r() * total));
  return [...set].sort((a, b) => a - b);
}

/** One tensor a workload binds: what it is, its element count, and the options that size it. */
export interface WorkloadTensor {
  /** e.g. `x [M, K]`. */
  name: string;
  elements: number;
  /** The workload options that size it, e.g. `['m', 'k']`. */
  options: readonly string[];
}

/** The size options of each workload (positive integers), as its argument object names them. */
const SIZE_OPTIONS = {
  gemm: ['m', 'k', 'n'],
  attention: ['batch', 'heads', 'tokens', 'kvTokens', 'headDim'],
  layernorm: ['rows', 'cols'],
  conv: ['height', 'width', 'inChannels', 'outChannels'],
  block: ['hidden', 'heads', 'tokens'],
} as const;
export type WorkloadName = keyof typeof SIZE_OPTIONS;

/** Arguments of gemmWorkload. */
export interface GemmWorkloadArgs {
  /** Rows of x [M, K] and y [M, N] (tokens): a positive integer. */
  m: number;
  /** Input features (x's columns, w's rows of w [K, N]): a positive integer. */
  k: number;
  /** Output features: a positive integer. */
  n: number;
  /** Storage dtype of x, w and y ('f16' needs shader-f16); accumulation is f32 either way. */
  dtype: DType;
  /** Fix the kernel and its knobs as GemmArgs.tile (SG=1 subgroup: SWG, SR, SC, KC; SG=0 tiled: WGX, WGY, TM, TN, BK; GEMV=1: WG, MR); no tuning then. */
  tile?: Record<string, number>;
  /** The GEMM kernel to time by name (GEMM_CANDIDATES: a strategy or a tuner candidate; no tuning then); default: the tuned or heuristic choice. */
  strategy?: GemmCandidate;
}

/** Arguments of attentionWorkload. */
export interface AttentionWorkloadArgs {
  /** Batch items B: a positive integer. */
  batch: number;
  /** Heads H: a positive integer. */
  heads: number;
  /** Query tokens Lq (q, o: [B, Lq, H·Dh]). */
  tokens: number;
  /** Key/value tokens Lk (k, v: [B, Lk, H·Dh]). */
  kvTokens: number;
  /** Head dim Dh: 8..128, a multiple of 4. */
  headDim: number;
  /** Storage dtype of q, k, v and o ('f16' needs shader-f16); softmax and accumulation in f32. */
  dtype: DType;
  /** Override knobs of the rows kernel as AttentionArgs.tile (WG, RPT, BK, SG, DH4); no tuning then. */
  tile?: Record<string, number>;
  /** The attention kernel to time (a tuning candidate's name); default: the tuned or heuristic choice. */
  strategy?: AttentionCandidate;
}

/** Arguments of layernormWorkload. */
export interface LayernormWorkloadArgs {
  /** Rows (tokens) of x [rows, cols]: a positive integer. */
  rows: number;
  /** Features normalized over per row: a positive integer. */
  cols: number;
  /** Storage dtype ('f16' needs shader-f16); statistics in f32. */
  dtype: DType;
}

type ArgsOf = { gemm: GemmWorkloadArgs; attention: AttentionWorkloadArgs; layernorm: LayernormWorkloadArgs; conv: ConvWorkloadArgs; block: BlockArgs };

/**
 * The tensors workload `name` binds for arguments `a` (element counts; the block's qkv without its plane
 * alignment): what checkWorkloadFits compares with the adapter's limits.
 */
export function workloadTensors<N extends WorkloadName>(name: N, a: ArgsOf[N]): WorkloadTensor[] {
  const t = (n: string, elements: number, ...options: string[]): WorkloadTensor => ({ name: n, elements, options });
  switch (name) {
    case 'gemm': {
      const { m, k, n } = a as GemmWorkloadArgs;
      return [t('x [M, K]', m * k, 'm', 'k'), t('w [N, K]', n * k, 'n', 'k'), t('out [M, N]', m * n, 'm', 'n')];
    }
    case 'attention': {
      const { batch, heads, tokens, kvTokens, headDim } = a as AttentionWorkloadArgs;
      const w = heads * headDim;
      return [t('q [B, N, H·D]', batch * tokens * w, 'batch', 'tokens', 'heads', 'headDim'), t('k, v [B, M, H·D]', batch * kvTokens * w, 'batch', 'kvTokens', 'heads', 'headDim')];
    }
    case 'layernorm': {
      const { rows, cols } = a as LayernormWorkloadArgs;
      return [t('x [R, C]', rows * cols, 'rows', 'cols')];
    }
    case 'conv': {
      const { height, width, inChannels, outChannels, frames, ks } = a as ConvWorkloadArgs;
      const band = (height + 2) * width;
      return [
        t('x [H + 2, W, C_in] (each frame)', band * inChannels, 'height', 'width', 'inChannels'),
        t('out [H + 2, W, C_out]', band * outChannels, 'height', 'width', 'outChannels'),
        t('weight [taps, C_in, C_out]', frames * ks * ks * inChannels * Math.ceil(outChannels / 4) * 4, 'inChannels', 'outChannels'),
      ];
    }
    case 'block': {
      const { hidden, tokens, mlpRatio } = a as BlockArgs;
      const f = Math.round(hidden * mlpRatio);
      return [t('qkv [T, 3·D]', tokens * 3 * hidden, 'tokens', 'hidden'), t('mlp [T, F]', tokens * f, 'tokens', 'hidden', 'mlpRatio'), t('mlp weight [F, D]', f * hidden, 'hidden', 'mlpRatio')];
    }
    default:
      throw new Error(`no workload ${String(name)}`);
  }
}

/**
 * Refuses tensors the adapter cannot bind (each one buffer: maxStorageBufferBindingSize, maxBufferSize, 2^32 − 1
 * elements), before any host data is generated or uploaded: the workloads' check and `tessera bench`'s, which
 * names the options by its flags (`flag`).
 * @throws LimitError `WHERE: x [M, K] needs 16.00 GiB (…), more than this adapter binds in one buffer (…); use smaller m/k`.
 */
export function checkWorkloadFits(gpu: Gpu, where: string, tensors: readonly WorkloadTensor[], dtype: DType, flag: (option: string) => string = (o) => o): void {
  const per = bytesPer(dtype);
  const limit = Math.min(bindingLimit(gpu.limits).bytes, U32_MAX * per);
  // the sizes are well-formed; the adapter cannot hold the shape: a limit (the CLI: exit 1), as the models' LimitError.
  // Every tensor over is named, and the options of all of them (user24 #10: gemm at 100000³ said --m/--k for x,
  // while w [K, N] needed --n too)
  const over = tensors.filter((t) => t.elements * per > limit);
  if (over.length === 0) return;
  const [first, ...more] = over;
  const options = [...new Set(over.flatMap((t) => t.options))];
  const also = more.length ? `, and so do ${more.map((t) => `${t.name} (${fmtBytes(t.elements * per)})`).join(', ')}` : '';
  throw new LimitError(`${where}: ${first!.name} needs ${fmtBytes(first!.elements * per)} (${first!.elements} × ${per} bytes, ${dtype}), more than this adapter binds in one buffer (${fmtBytes(limit)}, maxStorageBufferBindingSize/maxBufferSize)${also}; use smaller ${options.map(flag).join('/')}`);
}

/**
 * The checks of a workload's arguments, before anything is generated or uploaded: `gpu` is acquireGpu()'s,
 * the options known, `dtype` 'f32' or 'f16' and storable on the adapter, the sizes positive integers, and
 * every tensor bindable (checkWorkloadFits).
 * @throws InputError naming `where` and the option; DtypeUnsupportedError (f16 without shader-f16); LimitError.
 */
function checkWorkload<N extends WorkloadName>(gpu: Gpu, name: N, a: ArgsOf[N], options: readonly string[], more?: () => void): void {
  const where = `${name}Workload`;
  checkGpuArg(where, gpu);
  const sizes: readonly string[] = SIZE_OPTIONS[name];
  checkOptionNames(a, options, where, `{ ${sizes.map((o) => `${o}: 64`).join(', ')}, dtype: 'f32' }`);
  const o = a as unknown as Record<string, unknown>;
  if (o.dtype !== 'f32' && o.dtype !== 'f16') throw new InputError(`${where}: dtype: 'f32' or 'f16', got ${shown(o.dtype)}`);
  try {
    checkDtypeOnAdapter(gpu, o.dtype);
  } catch (e) {
    throw e instanceof DtypeUnsupportedError ? new DtypeUnsupportedError(`${where}: ${e.message}`) : e;
  }
  for (const k of sizes) {
    const v = o[k];
    if (!(Number.isSafeInteger(v) && (v as number) >= 1)) throw new InputError(`${where}: ${k}: a positive integer, got ${shown(v)}`);
  }
  more?.();
  checkWorkloadFits(gpu, where, workloadTensors(name, a), o.dtype);
}

function data(n: number, seed: number, scale: number, dtype: DType): Float32Array {
  const a = randn(n, seed, scale);
  return dtype === 'f16' ? a.map(roundF16) : a;
}

function rowsOf(a: Float32Array, rows: readonly number[], cols: number): Float32Array {
  const out = new Float32Array(rows.length * cols);
  rows.forEach((r, i) => out.set(a.subarray(r * cols, (r + 1) * cols), i * cols));
  return out;
}

function base(gpu: Gpu): { alloc: Allocator; plan: Plan; destroy: () => void } {
  const alloc = new Allocator(gpu);
  return { alloc, plan: new Plan(gpu, alloc), destroy: () => alloc.destroyAll() };
}

async function runAndRead(plan: Plan, out: Tensor, where: string): Promise<Float32Array> {
  await plan.run(where);
  return readTensor(plan.gpu, out);
}

/**
 * y[M,N] = x[M,K]·w[N,K]ᵀ (no bias, no activation: the bare GEMM).
 * @throws before any host data is made: InputError naming the argument (gpu, an unknown option, dtype, a size
 *   not a positive integer), DtypeUnsupportedError (f16 without shader-f16), LimitError (a tensor the adapter
 *   cannot bind, naming the options that size it).
 */
export function gemmWorkload(gpu: Gpu, a: GemmWorkloadArgs): Workload {
  checkWorkload(gpu, 'gemm', a, ['m', 'k', 'n', 'dtype', 'tile', 'strategy'], () => {
    if (a.tile && a.strategy) throw new InputError('gemmWorkload: give tile or strategy, not both');
    if (a.strategy !== undefined && !gemmCandidatesFor(gpu).includes(a.strategy)) throw new InputError(`gemmWorkload: strategy: one of ${gemmCandidatesFor(gpu).join(', ')} on this adapter, got ${shown(a.strategy)}`);
  });
  const { m: M, k: K, n: N, dtype } = a;
  const b = base(gpu);
  try {
    const x = data(M * K, 11, 1, dtype);
    const w = data(N * K, 12, 1 / Math.sqrt(K), dtype);
    const xt = b.alloc.upload(x, [M, K], dtype, 'x');
    const wt = b.alloc.upload(w, [N, K], dtype, 'w');
    const out = b.alloc.tensor([M, N], dtype, 'y');
    gemm(b.plan, { x: xt, w: wt, out, layer: 'gemm', ...(a.tile ? { tile: a.tile } : {}), ...(a.strategy ? { strategy: a.strategy } : {}) });
    const label = `gemm m×k×n ${M}×${K}×${N} ${dtype}`;
    b.plan.name = label;
    return {
      name: 'gemm',
      label,
      dtype,
      data: { x, w },
      out,
      ...b,
      async check() {
        return this.checkOutput(await runAndRead(b.plan, out, label));
      },
      checkOutput(got: Float32Array, tol?: Tol) {
        const rows = sampleRows(M, N * K);
        const ref = gemmRef(rowsOf(x, rows, K), w, { M: rows.length, K, N });
        return compareRows(got, ref, rows, N, M, tol ?? BENCH_TOL.gemm[dtype]);
      },
    };
  } catch (e) {
    b.destroy();
    throw e;
  }
}

/**
 * out = softmax(q·kᵀ/√Dh)·v over [batch, tokens, heads·headDim] with kv-tokens keys (seeded inputs, checked
 * against a float64 reference on sampled rows). `strategy` rows-dh: the rows kernel with the head dim compiled
 * in (tile knob DH4 = headDim/4), as the tuner records it (candidateTile).
 * @throws before any host data is made: InputError naming the argument (gpu, an unknown option, dtype, a size
 *   not a positive integer, a headDim the kernels do not take), DtypeUnsupportedError (f16 without shader-f16), LimitError (a tensor the adapter
 *   cannot bind, naming the options that size it).
 */
export function attentionWorkload(gpu: Gpu, a: AttentionWorkloadArgs): Workload {
  checkWorkload(gpu, 'attention', a, ['batch', 'heads', 'tokens', 'kvTokens', 'headDim', 'dtype', 'tile', 'strategy'], () => {
    if (!attentionHeadDimOk(a.headDim)) throw new InputError(`attentionWorkload: headDim: a multiple of 4 from 8 to ${ATTENTION_MAX_HEAD_DIM} (what the attention kernels take), got ${a.headDim}`);
    if (a.tile && a.strategy && a.strategy !== 'rows-dh') throw new InputError('attentionWorkload: give tile or strategy, not both (rows-dh takes the rows kernel\'s tile knobs)');
    const usable = (): string[] => [...attentionStrategiesFor(gpu), ...(rowsDhOk(a.headDim) ? ['rows-dh'] : [])];
    if (a.strategy !== undefined && !usable().includes(a.strategy)) throw new InputError(`attentionWorkload: strategy: one of ${usable().join(', ')} on this adapter at headDim ${a.headDim}, got ${shown(a.strategy)}`);
  });
  const { batch: B, heads: H, tokens: Lq, kvTokens: Lk, headDim: D, dtype } = a;
  const W = H * D;
  const tile = candidateTile(a.strategy, a.tile, D);
  const strategy = a.strategy === 'rows-dh' ? undefined : a.strategy;
  const b = base(gpu);
  try {
    const q = data(B * Lq * W, 21, 1, dtype);
    const k = data(B * Lk * W, 22, 1, dtype);
    const v = data(B * Lk * W, 23, 1, dtype);
    const qt = b.alloc.upload(q, [B, Lq, W], dtype, 'q');
    const kt = b.alloc.upload(k, [B, Lk, W], dtype, 'k');
    const vt = b.alloc.upload(v, [B, Lk, W], dtype, 'v');
    const out = b.alloc.tensor([B, Lq, W], dtype, 'o');
    attention(b.plan, { q: qt, k: kt, v: vt, out, heads: H, headDim: D, layer: 'attention', ...(tile ? { tile } : {}), ...(strategy ? { strategy } : {}) });
    const label = `attention B=${B} H=${H} Lq=${Lq} Lk=${Lk} Dh=${D} ${dtype}`;
    b.plan.name = label;
    return {
      name: 'attention',
      label,
      dtype,
      data: { q, k, v },
      out,
      ...b,
      async check() {
        return this.checkOutput(await runAndRead(b.plan, out, label));
      },
      checkOutput(got: Float32Array, tol?: Tol) {
        // Sampled query rows (per batch item, all heads); rows index [B·Lq] flattened.
        const flat = sampleRows(B * Lq, 2 * H * Lk * D);
        const ref = attentionRef(q, k, v, { batch: B, lq: Lq, lk: Lk, heads: H, headDim: D, rows: [...new Set(flat.map((r) => r % Lq))] });
        const picked = new Float64Array(flat.length * W);
        flat.forEach((r, i) => picked.set(ref.subarray(r * W, (r + 1) * W), i * W));
        return compareRows(got, picked, flat, W, B * Lq, tol ?? BENCH_TOL.attention[dtype]);
      },
    };
  } catch (e) {
    b.destroy();
    throw e;
  }
}

/**
 * LayerNorm with affine weight and bias over [rows, cols], eps 1e-6.
 * @throws before any host data is made: InputError naming the argument (gpu, an unknown option, dtype, a size
 *   not a positive integer), DtypeUnsupportedError (f16 without shader-f16), LimitError (a tensor the adapter
 *   cannot bind, naming the options that size it).
 */
export function layernormWorkload(gpu: Gpu, a: LayernormWorkloadArgs): Workload {
  checkWorkload(gpu, 'layernorm', a, ['rows', 'cols', 'dtype']);
  const { rows: R, cols: C, dtype } = a;
  const b = base(gpu);
  try {
    const x = data(R * C, 31, 2, dtype).map((v) => (dtype === 'f16' ? roundF16(v + 1) : v + 1));
    const w = data(C, 32, 0.5, dtype).map((v) => (dtype === 'f16' ? roundF16(v + 1) : v + 1));
    const bias = data(C, 33, 0.5, dtype);
    const xt = b.alloc.upload(x, [R, C], dtype, 'x');
    const out = b.alloc.tensor([R, C], dtype, 'y');
    norm(b.plan, { x: xt, out, eps: 1e-6, weight: b.alloc.upload(w, [C], dtype, 'weight'), bias: b.alloc.upload(bias, [C], dtype, 'bias'), layer: 'layernorm' });
    const label = `layernorm rows×cols ${R}×${C} ${dtype}`;
    b.plan.name = label;
    return {
      name: 'layernorm',
      label,
      dtype,
      data: { x, weight: w, bias },
      out,
      ...b,
      async check() {
        return this.checkOutput(await runAndRead(b.plan, out, label));
      },
      checkOutput(got: Float32Array, tol?: Tol) {
        const rows = sampleRows(R, 4 * C, 3e7, 64);
        const ref = normRef(rowsOf(x, rows, C), { rows: rows.length, cols: C, eps: 1e-6, weight: w, bias });
        return compareRows(got, ref, rows, C, R, tol ?? BENCH_TOL.layernorm[dtype]);
      },
    };
  } catch (e) {
    b.destroy();
    throw e;
  }
}

/** The sizes of convWorkload (`tessera bench conv`). */
export interface ConvWorkloadArgs {
  /** Output rows of the frame (pixels). */
  height: number;
  /** Output columns of the frame (pixels). */
  width: number;
  /** Input channels. */
  inChannels: number;
  /** Output channels. */
  outChannels: number;
  /** Causal frames of the kernel: 3 (WanCausalConv3d, kernel 3×k×k) or 1 (Conv2d). */
  frames: 1 | 3;
  /** Spatial kernel size: 3 (zero padding 1) or 1. */
  ks: 1 | 3;
  /** Storage dtype of the frame, weights and output. */
  dtype: DType;
  /** conv knobs: PX (output pixels per invocation), WG (invocations per workgroup); declared values only. */
  tile?: Record<string, number>;
}

/**
 * One convolution of the VAE decoders (ops/conv.ts, kernels/conv.wgsl) on one frame, as the
 * decoders record it: each input frame a row band [height + 2, width, in_channels] (channels last,
 * zero halo rows), the output [height + 2, width, out_channels] (halo rows not written), bias
 * added. frames = 3: the causal Conv3d over frames t−2, t−1, t (three bindings, the frame cache's
 * form). Checked on sampled output rows against convRef (float64); `checkOutput` takes the whole
 * output band. Throws on tile knobs conv does not have.
 * @throws before any host data is made: InputError naming the argument (gpu, an unknown option, dtype, a size
 *   not a positive integer, frames or ks not 1 or 3), DtypeUnsupportedError (f16 without shader-f16), LimitError (a tensor the adapter
 *   cannot bind, naming the options that size it).
 */
export function convWorkload(gpu: Gpu, a: ConvWorkloadArgs): Workload {
  checkWorkload(gpu, 'conv', a, ['height', 'width', 'inChannels', 'outChannels', 'frames', 'ks', 'dtype', 'tile'], () => {
    for (const k of ['frames', 'ks'] as const) if (a[k] !== 1 && a[k] !== 3) throw new InputError(`convWorkload: ${k}: 1 or 3, got ${shown(a[k])}`);
    for (const k of Object.keys(a.tile ?? {})) {
      if (!(k in convKernel.overrides)) throw new InputError(`convWorkload: tile: unknown knob ${k} (known: ${Object.keys(convKernel.overrides).join(', ')})`);
    }
  });
  const { height: H, width: W, inChannels: CIN, outChannels: COUT, frames: F, ks: KS, dtype } = a;
  const taps = F * KS * KS;
  const b = base(gpu);
  try {
    const xs = Array.from({ length: F }, (_, t) => data(H * W * CIN, 61 + t, 1, dtype)); // F × [H, W, CIN]
    const w = data(COUT * CIN * taps, 64, 1 / Math.sqrt(CIN * taps), dtype); // torch layout [COUT, CIN, F, KS, KS]
    const bias = data(COUT, 65, 0.3, dtype);
    const band = (x: Float32Array) => {
      const o = new Float32Array((H + 2) * W * CIN); // zero halo rows −1 and H
      o.set(x, W * CIN);
      return o;
    };
    const xt = xs.map((x, t) => b.alloc.upload(band(x), [H + 2, W, CIN], dtype, `x${t}`));
    const c4 = Math.ceil(COUT / 4) * 4;
    const wt = b.alloc.upload(convLayout(w, COUT, CIN, taps), [taps, CIN, c4], dtype, 'weight');
    const out = b.alloc.tensor([H + 2, W, COUT], dtype, 'out');
    conv(b.plan, { x: xt, w: wt, bias: b.alloc.upload(bias, [COUT], dtype, 'bias'), out, rows: H, width: W, cin: CIN, cout: COUT, ks: KS, layer: 'conv', ...(a.tile ? { tile: a.tile } : {}) });
    const label = `conv ${H}×${W} ${CIN}→${COUT} k${F}×${KS}×${KS} ${dtype}`;
    b.plan.name = label;
    const cols = W * COUT;
    return {
      name: 'conv',
      label,
      dtype,
      data: Object.fromEntries([...xs.map((x, t) => [`x${t}`, x] as const), ['weight', w], ['bias', bias]]),
      out,
      ...b,
      async check() {
        return this.checkOutput(await runAndRead(b.plan, out, label));
      },
      checkOutput(got: Float32Array, tol?: Tol) {
        // each sampled row from its own 3-row (ks 3) or 1-row input window; rows outside the frame are zeros, as the padding
        const rows = sampleRows(H, 3 * cols * taps * CIN);
        const P = (KS - 1) / 2;
        const ref = new Float64Array(rows.length * cols);
        rows.forEach((r, i) => {
          const win = xs.map((x) => {
            const o = new Float32Array((2 * P + 1) * W * CIN);
            for (let j = -P; j <= P; j++) if (r + j >= 0 && r + j < H) o.set(x.subarray((r + j) * W * CIN, (r + j + 1) * W * CIN), (j + P) * W * CIN);
            return o;
          });
          const y = convRef({ x: win, inH: 2 * P + 1, inW: W, cin: CIN, cout: COUT, w, bias, ks: KS }); // [2P+1, W, COUT]
          ref.set(y.subarray(P * cols, (P + 1) * cols), i * cols);
        });
        return compareRows(got.subarray(cols), ref, rows, cols, H, tol ?? BENCH_TOL.conv[dtype]);
      },
    };
  } catch (e) {
    b.destroy();
    throw e;
  }
}

/** The sizes of blockWorkload (`tessera bench block --hidden --heads --tokens --mlp-ratio`). */
export interface BlockArgs {
  /** Model width D (DiT-S 384, DiT-XL 1152, Wan2.1-1.3B 1536). */
  hidden: number;
  /** Attention heads; hidden / heads is the head dim, which the attention kernels take as a multiple of 4 from 8 up. */
  heads: number;
  /** Tokens of the one batch item (a DiT-XL/2 256² image: 256). */
  tokens: number;
  /** MLP width = round(hidden · mlpRatio) (DiT: 4). */
  mlpRatio: number;
  /** Storage dtype of weights and activations. */
  dtype: DType;
}

/**
 * One DiT block with adaLN-Zero and random weights, as the models record it:
 *   n = LN(x)·(1+scale_msa)+shift_msa → q|k|v (one fused linear, three planes, model/qkv.ts) → attention → out-proj →
 *   x += gate_msa ⊙ ·;  n = LN(x)·(1+scale_mlp)+shift_mlp → linear+GELU(tanh) → linear →
 *   x += gate_mlp ⊙ ·.   LN eps 1e-6, no affine. The modulation vector [6·D] is an input.
 * The plan starts by copying x_in to x, so every repeat computes the same thing. The library side of
 * `tessera bench block` (the same block at the same sizes).
 * @throws before any host data is made: InputError naming the argument (gpu, an unknown option, dtype, a size
 *   not a positive integer, hidden not heads × a head dim the kernels take, an mlpRatio giving no MLP width), DtypeUnsupportedError (f16 without shader-f16), LimitError (a tensor the adapter
 *   cannot bind, naming the options that size it).
 */
export function blockWorkload(gpu: Gpu, a: BlockArgs): Workload {
  checkWorkload(gpu, 'block', a, ['hidden', 'heads', 'tokens', 'mlpRatio', 'dtype'], () => {
    if (a.hidden % a.heads !== 0) throw new InputError(`blockWorkload: hidden ${a.hidden} is not a multiple of heads ${a.heads}`);
    if (!attentionHeadDimOk(a.hidden / a.heads)) throw new InputError(`blockWorkload: hidden ${a.hidden} / heads ${a.heads} = head dim ${a.hidden / a.heads}, which the attention kernels do not take (a multiple of 4 from 8 to ${ATTENTION_MAX_HEAD_DIM})`);
    if (!(typeof a.mlpRatio === 'number' && Math.round(a.hidden * a.mlpRatio) >= 1)) throw new InputError(`blockWorkload: mlpRatio: a number giving an MLP width round(hidden · mlpRatio) ≥ 1, got ${shown(a.mlpRatio)}`);
  });
  const { hidden: D, heads: H, tokens: T, dtype } = a;
  const F = Math.round(D * a.mlpRatio);
  const Dh = D / H;
  const b = base(gpu);
  try {
    const r = (t: Float32Array) => (dtype === 'f16' ? t.map(roundF16) : t);
    const x = data(T * D, 41, 1, dtype);
    const mod = data(6 * D, 42, 0.3, dtype);
    const lin = (out: number, inp: number, seed: number) => ({ w: data(out * inp, seed, 1 / Math.sqrt(inp), dtype), b: r(randn(out, seed + 1000, 0.1)) });
    const Wq = lin(D, D, 51);
    const Wk = lin(D, D, 52);
    const Wv = lin(D, D, 53);
    const Wo = lin(D, D, 54);
    const W1 = lin(F, D, 55);
    const W2 = lin(D, F, 56);
    const al = b.alloc;
    const up = (l: { w: Float32Array; b: Float32Array }, o: number, i: number, name: string) => ({ w: al.upload(l.w, [o, i], dtype, `${name}.weight`), b: al.upload(l.b, [o], dtype, `${name}.bias`) });
    // to_q; to_k; to_v stacked as the models stack them at load (weights.ts qkvGroups)
    const cat = (...a: Float32Array[]) => {
      const o = new Float32Array(a.reduce((n, t) => n + t.length, 0));
      a.reduce((at, t) => (o.set(t, at), at + t.length), 0);
      return o;
    };
    const wqkv = up({ w: cat(Wq.w, Wk.w, Wv.w), b: cat(Wq.b, Wk.b, Wv.b) }, 3 * D, D, 'to_qkv');
    const wo = up(Wo, D, D, 'to_out');
    const w1 = up(W1, F, D, 'ff.0');
    const w2 = up(W2, D, F, 'ff.2');
    const xin = al.upload(x, [1, T, D], dtype, 'x_in');
    const modt = al.upload(mod, [1, 6 * D], dtype, 'mod');
    const xt = al.tensor([1, T, D], dtype, 'x');
    const n = al.tensor([1, T, D], dtype, 'n');
    const stride = planeStride(b.plan, T, D, bytesPer(dtype));
    const qkv = al.tensor([3 * stride], dtype, 'qkv');
    const [q, k, v] = [0, 1, 2].map((i) => subTensor(qkv, i * stride, [1, T, D], 'qkv.' + 'qkv'[i])) as [Tensor, Tensor, Tensor];
    const att = al.tensor([1, T, D], dtype, 'attn');
    const h = al.tensor([1, T, F], dtype, 'mlp_hidden');
    const plan = b.plan;
    const gate = (j: number) => ({ mod: modt, stride: 6 * D, offset: j * D, tokens: T });
    plan.layer = 'block';
    scale(plan, { x: xin, out: xt, alpha: 1, layer: 'x_in' });
    norm(plan, { x: xt, out: n, eps: 1e-6, modulate: { mod: modt, stride: 6 * D, shiftOffset: 0, scaleOffset: D }, tokens: T, layer: 'norm1' });
    gemm(plan, { x: n, w: wqkv.w, bias: wqkv.b, out: qkv, planes: { width: D, stride }, layer: 'attn1.to_qkv' });
    attention(plan, { q, k, v, out: att, heads: H, headDim: Dh, layer: 'attn1' });
    gemm(plan, { x: att, w: wo.w, bias: wo.b, out: xt, residual: true, gate: gate(2), layer: 'attn1.to_out' });
    norm(plan, { x: xt, out: n, eps: 1e-6, modulate: { mod: modt, stride: 6 * D, shiftOffset: 3 * D, scaleOffset: 4 * D }, tokens: T, layer: 'norm2' });
    gemm(plan, { x: n, w: w1.w, bias: w1.b, out: h, act: 'gelu', layer: 'ff.0' });
    gemm(plan, { x: h, w: w2.w, bias: w2.b, out: xt, residual: true, gate: gate(5), layer: 'ff.2' });
    plan.layer = '';
    const label = `block D=${D} H=${H} T=${T} mlp=${F} ${dtype}`;
    b.plan.name = label;
    return {
      name: 'block',
      label,
      dtype,
      data: { x, mod, wq: Wq.w, bq: Wq.b, wk: Wk.w, bk: Wk.b, wv: Wv.w, bv: Wv.b, wo: Wo.w, bo: Wo.b, w1: W1.w, b1: W1.b, w2: W2.w, b2: W2.b },
      out: xt,
      ...b,
      async check() {
        return this.checkOutput(await runAndRead(plan, xt, label));
      },
      checkOutput(got: Float32Array, tol?: Tol) {
        // float64: LN+modulate and k, v for every token (attention needs them); the rest on sampled rows.
        const modLN = (xs: ArrayLike<number>, rows: number, shift: number, sc: number) =>
          normRef(xs, { rows, cols: D, eps: 1e-6, mod: { data: mod, stride: 6 * D, shiftOffset: shift, scaleOffset: sc, tokens: rows } });
        const lin64 = (xs: ArrayLike<number>, rows: number, l: { w: Float32Array; b: Float32Array }, K: number, N: number, act?: 'gelu') => gemmRef(xs, l.w, { M: rows, K, N, bias: l.b, ...(act ? { act } : {}) });
        const n1 = modLN(x, T, 0, D);
        const kk = lin64(n1, T, Wk, D, D);
        const vv = lin64(n1, T, Wv, D, D);
        const rows = sampleRows(T, 4 * D * D + 2 * T * D + 4 * D * F, 3e8, 8);
        const n1s = rowsOf64(n1, rows, D);
        const qs = lin64(n1s, rows.length, Wq, D, D);
        // attentionRef over a q tensor holding only the sampled rows (lq = rows.length).
        const as = attentionRef(qs, kk, vv, { batch: 1, lq: rows.length, lk: T, heads: H, headDim: Dh });
        const os = lin64(as, rows.length, Wo, D, D);
        const x1 = new Float64Array(rows.length * D);
        rows.forEach((rr, i) => {
          for (let c = 0; c < D; c++) x1[i * D + c] = x[rr * D + c]! + mod[2 * D + c]! * os[i * D + c]!;
        });
        const n3 = modLN(x1, rows.length, 3 * D, 4 * D);
        const hs = lin64(n3, rows.length, W1, D, F, 'gelu');
        const ys = lin64(hs, rows.length, W2, F, D);
        const x2 = x1.map((v0, j) => v0 + mod[5 * D + (j % D)]! * ys[j]!);
        return compareRows(got, x2, rows, D, T, tol ?? BENCH_TOL.block[dtype]);
      },
    };
  } catch (e) {
    b.destroy();
    throw e;
  }
}

function rowsOf64(a: Float64Array, rows: readonly number[], cols: number): Float64Array {
  const out = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => out.set(a.subarray(r * cols, (r + 1) * cols), i * cols));
  return out;
}
