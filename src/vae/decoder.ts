// The two VAE decoders as diffusers computes them, frame by frame, on channels-last row bands.
//
// Activations: N independent images (frames of batch items) decoded together, each [H, W, C]
// channels last, split in `bands` row bands; each band is its own tensor [N, rows + 2, W, C], every
// image with one halo row above and below (zeros at the frame's edges, the neighbour band's edge
// row elsewhere, refreshed after every op). Each op is one dispatch over the N images of a band
// (conv, norms and copies carry the image index): a batch or a clip costs the dispatches of one
// image, not N times them. GroupNorm statistics and the mid-block attention stay per image.
// N (DecodePlanSummary.images) is the most images whose largest binding fits; the row bands split
// an image only when one alone does not fit (then N = 1). A 3×3
// convolution of a band then reads only its own tensor and computes exactly what an unsplit
// frame gives (same products, same order); GroupNorm statistics are summed over all bands
// (f32 rounding of the partial sums is the only difference). Latent row i·r..(i+1)·r belongs to
// band i at every level (×2 rows per upsampling), so bands line up through the decoder.
// The mid-block attention gathers the whole lowest-resolution frame into one tensor.
//
// AutoencoderKLWan (diffusers autoencoder_kl_wan.py, `_decode`): post_quant_conv, then latent
// frame 0 → 1 frame, each later latent frame → 4; every WanCausalConv3d keeps the inputs of the
// previous two frames as its cache (the frames themselves, retained: no copy; zeros before the
// first). Its frames are causal, its batch items independent: the N images of a pass are batch
// items, decoded frame by frame together. The upsample3d time_conv is skipped for latent frame 0 ("Rep") and then runs causally
// over frames from latent frame 1 on, with zeros before them, its 2C output channels making two
// frames (time_conv.0 → 2t, time_conv.1 → 2t+1). Output clamped to [−1, 1].
// AutoencoderKL (diffusers vae.py Decoder): conv_in, UNetMidBlock2D, UpDecoderBlock2D × n,
// GroupNorm(eps 1e-6) + SiLU, conv_out; videos ([B, C, F, H, W]) frame by frame as
// LattePipeline.decode_latents does: every frame of every batch item is an independent image, so
// a pass takes N of the B·F images.
import type { Gpu } from '../gpu/device.js';
import { DryAllocator } from '../gpu/memory-plan.js';
import { Plan, U32_MAX } from '../gpu/plan.js';
import { Allocator, bytesPer, fmtBytes, readTensor, storageBytes, type DType, type Tensor } from '../gpu/tensor.js';
import { InputError, shown, type TensorData } from '../model/model.js';
import { LimitError } from '../model/memory.js';
import { throwIfAborted } from '../model/options.js';
import { conv } from '../ops/conv.js';
import { stridedCopy } from '../ops/elementwise.js';
import { gemm } from '../ops/gemm.js';
import { attentionImageGroup, vaeAttention } from '../ops/vae-attention.js';
import { groupNorm, rmsNormChannels } from '../ops/vae-norm.js';
import type { KlVaeConfig, VaeConfig, WanVaeConfig } from './config.js';
import type { DecodeOptions } from './vae.js';
import type { VaeWeights } from './weights.js';
import { callHook } from '../hook.js';

/** What a decode of one latent shape needs: row bands, sizes, and the largest binding. */
export interface DecodePlanSummary {
  /** The VAE class: 'wan' (AutoencoderKLWan) or 'kl' (AutoencoderKL). */
  kind: 'wan' | 'kl';
  /** Row bands per frame (1: untiled). */
  bands: number;
  /**
   * Images decoded together per pass (each op one dispatch over them all): KL, up to B·F (batch items ×
   * frames); Wan, up to B (batch items; its frames are causal). 1 when the frame is split in row bands.
   */
  images: number;
  /** Latent rows of each band. */
  bandRows: number[];
  /** Largest single storage binding the decode uses, bytes. */
  largestBinding: number;
  /** That binding's tensor and shape. */
  largestName: string;
  /** The per-binding limit planned for, bytes (planDecode's `maxBinding`). */
  maxBinding: number;
  /** Output `sample` shape. */
  outShape: number[];
  /** Frames decoded per batch item (Wan: output frames; KL: 1 per image or latent frame). */
  frames: number;
  /** Latent height/width and batch. */
  height: number;
  /** See height. */
  width: number;
  /** See height. */
  batch: number;
  /** Latent frames (Wan), or frames of a KL video (1 for images). */
  latentFrames: number;
  /** The latents are 5-D (a video: Wan, or KL frame by frame) rather than 4-D images. */
  video: boolean;
}

interface LevelUse {
  scale: number;
  channels: number;
  what: string;
}

/** Every (scale, channels) an activation of the decoder takes, for the band plan. */
function levels(c: VaeConfig): LevelUse[] {
  const out: LevelUse[] = [];
  if (c.kind === 'wan') {
    const dims = wanDims(c);
    out.push({ scale: 1, channels: c.zDim, what: 'latents' }, { scale: 1, channels: dims[0]!, what: 'decoder.conv_in' });
    for (let i = 0; i < c.dimMult.length; i++) {
      const s = 2 ** i;
      out.push({ scale: s, channels: wanInDim(c, i), what: `decoder.up_blocks.${i}` }, { scale: s, channels: dims[i + 1]!, what: `decoder.up_blocks.${i}` });
      if (i !== c.dimMult.length - 1) out.push({ scale: 2 * s, channels: dims[i + 1]! / 2, what: `decoder.up_blocks.${i}.upsamplers.0` });
      if (c.temperalUpsample[i] && i !== c.dimMult.length - 1) out.push({ scale: s, channels: dims[i + 1]!, what: `decoder.up_blocks.${i}.upsamplers.0.time_conv` });
    }
    out.push({ scale: 2 ** (c.dimMult.length - 1), channels: c.outChannels, what: 'decoder.conv_out' });
  } else {
    const rev = [...c.blockOutChannels].reverse();
    out.push({ scale: 1, channels: c.latentChannels, what: 'latents' }, { scale: 1, channels: rev[0]!, what: 'decoder.conv_in' });
    let prev = rev[0]!;
    rev.forEach((ch, i) => {
      const s = 2 ** i;
      out.push({ scale: s, channels: prev, what: `decoder.up_blocks.${i}` }, { scale: s, channels: ch, what: `decoder.up_blocks.${i}` });
      if (i !== rev.length - 1) out.push({ scale: 2 * s, channels: ch, what: `decoder.up_blocks.${i}.upsamplers.0` });
      prev = ch;
    });
    out.push({ scale: 2 ** (rev.length - 1), channels: c.outChannels, what: 'decoder.conv_out' });
  }
  return out;
}

const wanDims = (c: WanVaeConfig) => [c.dimMult[c.dimMult.length - 1]!, ...[...c.dimMult].reverse()].map((u) => u * c.baseDim);
const wanInDim = (c: WanVaeConfig, i: number) => (i > 0 ? wanDims(c)[i]! / 2 : wanDims(c)[0]!);

function splitRows(H: number, n: number): number[] {
  const base = Math.floor(H / n);
  const extra = H % n;
  return Array.from({ length: n }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * Whether the decode would plan in f16 (what a refusal in f32 may suggest: half the bytes is not always enough).
 * Never for an AutoencoderKL with force_upcast: it decodes in f32 whatever dtype is asked (loadVae).
 */
function f16Plans(c: VaeConfig, shape: number[], maxBinding: number): boolean {
  if (c.kind === 'kl' && c.forceUpcast) return false;
  try {
    planDecode(c, shape, 'f16', maxBinding);
    return true;
  } catch (e) {
    if (e instanceof LimitError) return false;
    throw e;
  }
}

/**
 * Latents of `shape` against a VAE config alone (no weight read, no GPU): the rank the VAE takes ([B, C, F, H, W] for
 * AutoencoderKLWan; that or [B, C, H, W] for AutoencoderKL) and its latent channels (z_dim, latent_channels).
 * planDecode's first check, and `tessera decode`'s before the adapter is acquired.
 * @throws InputError naming `latents`, its shape and what the config expects.
 */
export function checkDecodeLatents(c: VaeConfig, shape: number[]): void {
  const zc = c.kind === 'wan' ? c.zDim : c.latentChannels;
  const video = shape.length === 5;
  if (c.kind === 'wan' && !video) throw new InputError(`latents: AutoencoderKLWan takes [B, ${zc}, F, H, W], found [${shape.join(',')}]`, { option: 'latents' });
  if (!video && shape.length !== 4) throw new InputError(`latents: AutoencoderKL takes [B, ${zc}, H, W] images or [B, ${zc}, F, H, W] video, found [${shape.join(',')}]`, { option: 'latents' });
  if (shape[1] !== zc) throw new InputError(`latents: ${shape[1]} channels, the VAE config has ${zc} (${c.kind === 'wan' ? 'z_dim' : 'latent_channels'}); layout is [B, C, ${video ? 'F, ' : ''}H, W]`, { option: 'latents' });
}

/**
 * Images decoded together stop where one pass's largest tensor would pass this many bytes (64 MiB),
 * unless one image alone is larger (then one image a pass). A 512² SD-VAE frame's largest tensor is
 * 128 MiB in f32 (one a pass, as before batching); the 4×4-latent images of the test models are a few
 * KiB (all of them in one pass).
 */
export const PASS_BYTES = 64 * 2 ** 20;

/**
 * The band plan for decoding latents of `shape` within `maxBinding` bytes per storage binding:
 * the fewest row bands (or `bands` when given) whose every tensor fits, in bytes and in 2^32 − 1
 * elements (the kernels' u32 index: the tighter bound on bindings past 8 GiB in f16, 16 GiB in f32).
 * With one band, the most independent images per pass (`images`: KL B·F, Wan B, at most `maxImages`) whose
 * tensors, N times one image's, still fit, and whose largest tensor stays within PASS_BYTES (or one image
 * a pass when one image's is larger); with several bands, one image per pass.
 * @param shape latents [B, C, F, H, W] (Wan, KL video) or [B, C, H, W] (KL images), positive integers.
 * @param dtype 'f32' or 'f16', the decode's storage dtype.
 * @param maxBinding bytes one storage binding may hold, a positive integer.
 * @param maxImages at most this many images per pass (a positive integer; default: as many as fit).
 * @throws InputError, before any arithmetic, for a shape the VAE cannot take (a dim that is not a
 *   positive integer, the wrong rank or channel count), a dtype other than 'f32' / 'f16', a maxBinding
 *   that is not a positive integer, bands outside 1…H or a maxImages that is not a positive integer; LimitError (with the numbers) when even one
 *   latent row per band does not fit, the lowest-resolution frame the attention needs whole does not, or
 *   the sample would hold more than the 2^32 values of one Float32Array.
 */
export function planDecode(c: VaeConfig, shape: number[], dtype: DType, maxBinding: number, bands?: number, maxImages?: number): DecodePlanSummary {
  // a negative or fractional dim made a plan with negative frames or a LimitError for a band of -Infinity rows
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 1)) throw new InputError(`latents: every dim must be a positive integer, found ${Array.isArray(shape) ? `[${shape.join(',')}]` : shown(shape)}`, { option: 'latents' });
  if (dtype !== 'f32' && dtype !== 'f16') throw new InputError(`dtype: 'f32' or 'f16', got ${shown(dtype)}`, { option: 'dtype' });
  if (!Number.isInteger(maxBinding) || maxBinding < 1) throw new InputError(`maxBinding: a positive integer (bytes of the largest binding), got ${shown(maxBinding)}`, { option: 'maxBinding' });
  if (maxImages !== undefined && (!Number.isInteger(maxImages) || maxImages < 1)) throw new InputError(`maxImages: a positive integer (images per pass), got ${shown(maxImages)}`, { option: 'maxImages' });
  checkDecodeLatents(c, shape);
  const video = shape.length === 5;
  const B = shape[0]!;
  const F = video ? shape[2]! : 1;
  const H = shape[shape.length - 2]!;
  const W = shape[shape.length - 1]!;
  const S = c.scaleFactorSpatial;
  const outFrames = c.kind === 'wan' ? 1 + c.scaleFactorTemporal * (F - 1) : F;
  const outShape = video ? [B, c.outChannels, outFrames, H * S, W * S] : [B, c.outChannels, H * S, W * S];
  // the sample comes back as one Float32Array: JavaScript's typed arrays stop at 2^32 elements
  const outElems = outShape.reduce((a, b) => a * b, 1);
  if (outElems > 2 ** 32) throw new LimitError(`decoding latents [${shape.join(',')}]: the sample [${outShape.join(',')}] would be ${outElems} f32 values (${fmtBytes(outElems * 4)}) on the host, above the 2^32 values one Float32Array holds: decode fewer frames or a smaller batch per call`);
  const bp = bytesPer(dtype);
  // the kernels index a binding's elements in u32: past 2^32 − 1 elements (bindings above 8 GiB in
  // f16, 16 GiB in f32) the recording would refuse the band, so the bands follow that limit too
  const limit = Math.min(maxBinding, U32_MAX * bp);
  const limitText = limit < maxBinding ? `${fmtBytes(limit)} (2^32 − 1 ${dtype} elements, the kernels' u32 index)` : fmtBytes(maxBinding);
  const uses = levels(c);
  const attnC = c.kind === 'wan' ? wanDims(c)[0]! : [...c.blockOutChannels].reverse()[0]!;
  const hasAttn = c.kind === 'wan' || c.midBlockAddAttention;
  const L = H * W;
  if (hasAttn) {
    const whole = storageBytes(L * attnC, dtype);
    const probsRow = 4 * L;
    if (whole > limit || probsRow > maxBinding) {
      const f16Fits = dtype === 'f32' && f16Plans(c, shape, maxBinding);
      throw new LimitError(`decoding latents [${shape.join(',')}]: the mid-block attention needs the whole ${H}×${W} latent frame × ${attnC} channels in one binding (${fmtBytes(Math.max(whole, probsRow))}), the limit is ${limitText}: use smaller latents${f16Fits ? " or dtype: 'f16'" : ''}`);
    }
  }
  // images independent of each other: KL every frame of every item, Wan the items (its frames are causal)
  const independent = c.kind === 'wan' ? B : B * F;
  const largestFor = (rows: number[], m = 1) => {
    let best = 0;
    let name = '';
    const maxRows = Math.max(...rows);
    const lead = m > 1 ? `${m},` : '';
    for (const u of uses) {
      const b = storageBytes(m * (maxRows * u.scale + 2) * W * u.scale * u.channels, dtype);
      if (b > best) [best, name] = [b, `${u.what} band [${lead}${maxRows * u.scale + 2},${W * u.scale},${u.channels}]`];
    }
    if (hasAttn && storageBytes(m * L * attnC, dtype) > best) [best, name] = [storageBytes(m * L * attnC, dtype), `mid-block attention frame [${m * L},${attnC}]`];
    return { best, name };
  };
  const tryN = (n: number) => {
    const rows = splitRows(H, n);
    return { rows, ...largestFor(rows) };
  };
  // the most images per pass whose largest binding fits (bindings grow linearly in the images), and
  // whose largest tensor stays within PASS_BYTES: batching pays for small frames (fewer, fuller
  // dispatches) and buys nothing for frames that fill a device alone, whose peak it would multiply
  const imagesFor = (rows: number[]) => {
    const one = largestFor(rows).best;
    const room = Math.min(limit, Math.max(PASS_BYTES, one));
    let m = Math.max(1, Math.min(independent, maxImages ?? independent, Math.floor(room / one)));
    while (m > 1 && largestFor(rows, m).best > limit) m--;
    return { images: m, ...largestFor(rows, m) };
  };
  const summary = (n: number, r: { rows: number[]; best: number; name: string }): DecodePlanSummary => {
    const m = n === 1 ? imagesFor(r.rows) : { images: 1, best: r.best, name: r.name };
    return { kind: c.kind, bands: n, images: m.images, bandRows: r.rows, largestBinding: m.best, largestName: m.name, maxBinding, outShape, frames: outFrames, height: H, width: W, batch: B, latentFrames: F, video };
  };
  if (bands !== undefined) {
    if (!Number.isInteger(bands) || bands < 1 || bands > H) throw new InputError(`bands=${bands}: must be an integer from 1 to the latent height ${H}`, { option: 'bands' });
    const r = tryN(bands);
    if (r.best > limit) throw new LimitError(`decoding latents [${shape.join(',')}] in ${bands} row bands: ${r.name} needs ${fmtBytes(r.best)}, the binding limit is ${limitText}`);
    return summary(bands, r);
  }
  for (let n = 1; n <= H; n = n === H ? H + 1 : Math.min(H, n * 2 > H ? H : n + Math.max(1, Math.floor(n / 2)))) {
    const r = tryN(n);
    if (r.best <= limit) return summary(n, r);
    if (n === H) break;
  }
  const r = tryN(H);
  const f16Fits = dtype === 'f32' && f16Plans(c, shape, maxBinding);
  throw new LimitError(`decoding latents [${shape.join(',')}]: even one latent row per band, ${r.name} needs ${fmtBytes(r.best)}, the binding limit is ${limitText}: use a narrower frame${f16Fits ? " or dtype: 'f16'" : ''}`);
}

/** One frame of each of N images: row bands [N, rows + 2, W, C] with halos. */
interface Frame {
  N: number;
  H: number;
  W: number;
  C: number;
  scale: number;
  bands: Tensor[];
  rows: number[];
  refs: number;
  zero?: boolean;
}

/**
 * Records ops on bands and runs them in pieces, freeing what is dead after each piece. On a
 * DryAllocator (`dry`) nothing is created on the GPU or run: the same recording counts the bytes.
 */
class Ctx {
  plan: Plan;
  private planAlloc: Allocator;
  private dead: Tensor[] = [];
  private zeros = new Map<string, Frame>();
  dispatches = 0;
  /** The most bytes one piece's plan held (its uniform buffers), beside `alloc`'s tensors. */
  planPeakBytes = 0;
  /** DecodeOptions.runPlan: runs each piece instead of plan.run (profiling). */
  runPlan?: (plan: Plan, where: string) => Promise<void>;
  /** DecodeOptions.signal: checked before each piece runs (a decode is many pieces: blocks × bands' frames). */
  signal?: AbortSignal;

  constructor(
    readonly gpu: Gpu,
    readonly alloc: Allocator,
    readonly dtype: DType,
    readonly bandRows: number[],
    readonly W0: number,
    readonly maxBinding: number,
  ) {
    this.planAlloc = this.newPlanAlloc();
    this.plan = new Plan(gpu, this.planAlloc);
  }

  get dry(): boolean {
    return this.alloc.dry;
  }

  private newPlanAlloc(): Allocator {
    return this.dry ? new DryAllocator(this.gpu) : new Allocator(this.gpu);
  }

  /** Images per frame of the pass under way (the last pass of a decode may take fewer). */
  images = 1;

  frame(C: number, scale: number, label: string): Frame {
    const rows = this.bandRows.map((r) => r * scale);
    const W = this.W0 * scale;
    const N = this.images;
    const bands = rows.map((r, i) => this.alloc.tensor(N > 1 ? [N, r + 2, W, C] : [r + 2, W, C], this.dtype, `${label}#${i}`));
    return { N, H: rows.reduce((a, b) => a + b, 0), W, C, scale, bands, rows, refs: 1 };
  }

  /** An all-zero frame (the causal cache before the first frame); never written, shared. */
  zero(C: number, scale: number): Frame {
    const k = `${C}@${scale}@${this.images}`;
    let z = this.zeros.get(k);
    if (!z) {
      z = { ...this.frame(C, scale, `zeros${k}`), zero: true };
      this.zeros.set(k, z);
    }
    return z;
  }

  retain(f: Frame): Frame {
    if (!f.zero) f.refs++;
    return f;
  }

  release(f: Frame | null | undefined): void {
    if (!f || f.zero) return;
    if (--f.refs === 0) this.dead.push(...f.bands);
    if (f.refs < 0) throw new Error('vae decoder: frame released twice');
  }

  /** Refresh halo rows from the neighbour bands (frame edges stay zero), every image in one copy. */
  halo(f: Frame): Frame {
    const n = f.bands.length;
    const rowLen = f.W * f.C;
    const img = (i: number) => imageStride(f, i);
    for (let i = 0; i < n; i++) {
      const t = f.bands[i]!;
      if (i > 0) stridedCopy(this.plan, { src: f.bands[i - 1]!, dst: t, extent: [f.N, rowLen], srcStrides: [img(i - 1), 1], dstStrides: [img(i), 1], srcOffset: f.rows[i - 1]! * rowLen, dstOffset: 0, layer: 'halo' });
      if (i < n - 1) stridedCopy(this.plan, { src: f.bands[i + 1]!, dst: t, extent: [f.N, rowLen], srcStrides: [img(i + 1), 1], dstStrides: [img(i), 1], srcOffset: rowLen, dstOffset: (f.rows[i]! + 1) * rowLen, layer: 'halo' });
    }
    return f;
  }

  /** Run what was recorded, then free tensors that died meanwhile. */
  async flush(where: string): Promise<void> {
    // an abort stops before the next piece; the caller's finally frees every tensor (destroy, alloc.destroyAll)
    throwIfAborted(this.signal, 'Vae.decode');
    if (this.plan.dispatches.length) {
      this.dispatches += this.plan.dispatches.length;
      if (!this.dry) await (this.runPlan ? this.runPlan(this.plan, where) : this.plan.run(where));
    }
    this.planPeakBytes = Math.max(this.planPeakBytes, this.planAlloc.peakBytes);
    this.planAlloc.destroyAll();
    this.planAlloc = this.newPlanAlloc();
    this.plan = new Plan(this.gpu, this.planAlloc);
    for (const t of this.dead) this.alloc.free(t);
    this.dead = [];
  }

  destroy(): void {
    this.planAlloc.destroyAll();
  }
}

/** Elements from one image of band i to the next: the band with its halo rows. */
const imageStride = (f: Frame, i: number) => (f.rows[i]! + 2) * f.W * f.C;

interface ConvOpts {
  /** Earlier frames for a causal kt = 3 conv: [t−2, t−1]. */
  cache?: [Frame, Frame];
  up?: boolean;
  residual?: Frame;
  layer: string;
}

function convFrame(ctx: Ctx, w: VaeWeights, name: string, x: Frame, o: ConvOpts): Frame {
  const cw = w.conv(name);
  if (cw.cin !== x.C) throw new Error(`vae decoder: ${name} takes ${cw.cin} channels, got ${x.C}`);
  const scale = o.up ? x.scale * 2 : x.scale;
  const out = ctx.frame(cw.cout, scale, name);
  x.bands.forEach((xb, i) => {
    const frames = cw.kt === 3 ? [o.cache![0].bands[i]!, o.cache![1].bands[i]!, xb] : [xb];
    conv(ctx.plan, {
      x: frames,
      w: cw.w,
      bias: cw.b,
      out: out.bands[i]!,
      residual: o.residual?.bands[i],
      rows: out.rows[i]!,
      width: out.W,
      cin: cw.cin,
      cout: cw.cout,
      ks: cw.ks,
      up: o.up,
      images: x.N,
      layer: o.layer,
    });
  });
  return ctx.halo(out);
}

function spans(f: Frame) {
  return f.bands.map((t, i) => ({ t, offset: f.W * f.C, pixels: f.rows[i]! * f.W, images: f.N, imageStride: imageStride(f, i) }));
}

function rmsFrame(ctx: Ctx, gamma: Tensor, x: Frame, silu: boolean, layer: string): Frame {
  const out = ctx.frame(x.C, x.scale, layer);
  spans(x).forEach((s, i) => rmsNormChannels(ctx.plan, { x: s, out: { ...s, t: out.bands[i]! }, C: x.C, gamma, silu, layer }));
  return ctx.halo(out);
}

function groupNormFrame(ctx: Ctx, w: VaeWeights, name: string, groups: number, x: Frame, silu: boolean): Frame {
  const out = ctx.frame(x.C, x.scale, name);
  const stats = ctx.alloc.tensor([x.N * groups, 2], 'f32', `${name}.stats`);
  const sx = spans(x);
  groupNorm(ctx.plan, { x: sx, out: sx.map((s, i) => ({ ...s, t: out.bands[i]! })), C: x.C, groups, eps: 1e-6, weight: w.get(`${name}.weight`), bias: w.get(`${name}.bias`), stats, silu, layer: name });
  ctx.release(tensorFrame(stats));
  return ctx.halo(out);
}

/** Gather a frame into one [N·H·W, C] tensor (image after image). */
function gather(ctx: Ctx, f: Frame, label: string): Tensor {
  const t = ctx.alloc.tensor([f.N * f.H * f.W, f.C], ctx.dtype, label);
  const whole = f.H * f.W * f.C;
  let row = 0;
  f.bands.forEach((b, i) => {
    const n = f.rows[i]! * f.W * f.C;
    stridedCopy(ctx.plan, { src: b, dst: t, extent: [f.N, n], srcStrides: [imageStride(f, i), 1], dstStrides: [whole, 1], srcOffset: f.W * f.C, dstOffset: row * f.W * f.C, layer: label });
    row += f.rows[i]!;
  });
  return t;
}

function scatter(ctx: Ctx, t: Tensor, like: Frame, label: string): Frame {
  const out = ctx.frame(like.C, like.scale, label);
  const whole = out.H * out.W * out.C;
  let row = 0;
  out.bands.forEach((b, i) => {
    const n = out.rows[i]! * out.W * out.C;
    stridedCopy(ctx.plan, { src: t, dst: b, extent: [out.N, n], srcStrides: [whole, 1], dstStrides: [imageStride(out, i), 1], srcOffset: row * out.W * out.C, dstOffset: out.W * out.C, layer: label });
    row += out.rows[i]!;
  });
  return ctx.halo(out);
}

const tensorFrame = (t: Tensor): Frame => ({ N: 1, H: 0, W: 0, C: 0, scale: 0, bands: [t], rows: [], refs: 1 });

/**
 * Single-head attention block over the whole frame with a residual: Wan (RMS norm, to_qkv,
 * proj) or AutoencoderKL (GroupNorm, to_q/k/v, to_out.0).
 */
function attentionFrame(ctx: Ctx, w: VaeWeights, name: string, x: Frame, norm: { groups: number } | 'rms'): Frame {
  const L = x.H * x.W;
  const C = x.C;
  const NL = x.N * L; // every op over all N images at once (norm statistics and the softmax per image; attention images grouped per dispatch)
  const xs = gather(ctx, x, `${name}.x`); // [N·L, C]
  const xn = ctx.alloc.tensor([NL, C], ctx.dtype, `${name}.norm`);
  const span = { t: xs, offset: 0, pixels: L, images: x.N, imageStride: L * C };
  if (norm === 'rms') rmsNormChannels(ctx.plan, { x: span, out: { ...span, t: xn }, C, gamma: w.get(`${name}.norm`), layer: `${name}.norm` });
  else {
    const stats = ctx.alloc.tensor([x.N * norm.groups, 2], 'f32', `${name}.stats`);
    groupNorm(ctx.plan, { x: [span], out: [{ ...span, t: xn }], C, groups: norm.groups, eps: 1e-6, weight: w.get(`${name}.group_norm.weight`), bias: w.get(`${name}.group_norm.bias`), stats, layer: `${name}.group_norm` });
    ctx.release(tensorFrame(stats));
  }
  const qkv = ['to_q', 'to_k', 'to_v'].map((p) => {
    const t = ctx.alloc.tensor([NL, C], ctx.dtype, `${name}.${p}`);
    gemm(ctx.plan, { x: xn, w: w.get(`${name}.${p}.weight`), bias: w.get(`${name}.${p}.bias`), out: t, layer: `${name}.${p}` });
    return t;
  });
  const o = ctx.alloc.tensor([NL, C], ctx.dtype, `${name}.attn`);
  // small frames several images per dispatch (attentionImageGroup: at most 64 KiB of probabilities a group)
  const { group, blockRows } = attentionImageGroup(L, x.N, ctx.maxBinding);
  const ml = ctx.alloc.tensor([group * L, 2], 'f32', `${name}.ml`);
  const probs = ctx.alloc.tensor([group * Math.min(blockRows, L), L], 'f32', `${name}.probs`);
  vaeAttention(ctx.plan, { q: qkv[0]!, k: qkv[1]!, v: qkv[2]!, out: o, ml, probs, blockRows, layer: name, images: x.N, group });
  // proj / to_out.0 added onto the identity (residual epilogue of gemm).
  const proj = norm === 'rms' ? 'proj' : 'to_out.0';
  gemm(ctx.plan, { x: o, w: w.get(`${name}.${proj}.weight`), bias: w.get(`${name}.${proj}.bias`), out: xs, residual: true, layer: `${name}.${proj}` });
  const out = scatter(ctx, xs, x, `${name}.out`);
  for (const t of [xs, xn, ...qkv, o, ml, probs]) ctx.release(tensorFrame(t));
  return out;
}

/**
 * Host → GPU: ctx.images latent frames, image n's data[bases[n] + c·frameStride + h·W + w], as channels-last
 * bands [N, rows + 2, W, C], y = x·a[c] + b[c].
 */
function uploadLatentFrames(ctx: Ctx, data: Float32Array, bases: number[], frameStride: number, C: number, H: number, W: number, a: Float64Array, b: Float64Array): Frame {
  const f = ctx.frame(C, 1, 'latents');
  if (ctx.dry) return f; // the same bytes, nothing to upload
  let r0 = 0;
  f.bands.forEach((t, i) => {
    const rows = f.rows[i]!;
    const img = (rows + 2) * W * C;
    const host = new Float32Array(f.N * img);
    bases.forEach((base, n) => {
      for (let r = -1; r <= rows; r++) {
        const g = r0 + r;
        if (g < 0 || g >= H) continue;
        for (let x = 0; x < W; x++) {
          for (let c = 0; c < C; c++) host[n * img + ((r + 1) * W + x) * C + c] = data[base + c * frameStride + g * W + x]! * a[c]! + b[c]!;
        }
      }
    });
    const shape = t.shape;
    ctx.alloc.free(t);
    f.bands[i] = ctx.alloc.upload(host, shape, ctx.dtype, `latents#${i}`);
    r0 += rows;
  });
  return f;
}

/** GPU → host: each image n's interior rows into out[bases[n] + c·cStride + h·W + w]. */
async function readFrames(ctx: Ctx, f: Frame, out: Float32Array, bases: number[], cStride: number, clamp: boolean): Promise<void> {
  if (ctx.dry) return;
  let r0 = 0;
  for (let i = 0; i < f.bands.length; i++) {
    const d = await readTensor(ctx.gpu, f.bands[i]!);
    const rows = f.rows[i]!;
    const img = imageStride(f, i);
    bases.forEach((base, n) => {
      for (let r = 0; r < rows; r++) {
        for (let x = 0; x < f.W; x++) {
          for (let c = 0; c < f.C; c++) {
            let v = d[n * img + ((r + 1) * f.W + x) * f.C + c]!;
            if (clamp) v = Math.min(1, Math.max(-1, v));
            out[base + c * cStride + (r0 + r) * f.W + x] = v;
          }
        }
      }
    });
    r0 += rows;
  }
}

/** Per causal conv: the inputs of the previous two frames (null: zeros). */
type Caches = Map<string, [Frame | null, Frame | null]>;

function causal(ctx: Ctx, w: VaeWeights, caches: Caches, name: string, x: Frame, o: Omit<ConvOpts, 'cache'> = { layer: name }): Frame {
  const cw = w.conv(name);
  if (cw.kt !== 3) return convFrame(ctx, w, name, x, o);
  const [c0, c1] = caches.get(name) ?? [null, null];
  const z = ctx.zero(x.C, x.scale);
  const out = convFrame(ctx, w, name, x, { ...o, cache: [c0 ?? z, c1 ?? z] });
  ctx.release(c0);
  caches.set(name, [c1, ctx.retain(x)]);
  return out;
}

function wanResnet(ctx: Ctx, w: VaeWeights, caches: Caches, n: string, x: Frame): Frame {
  const h = w.has(`${n}.conv_shortcut`) ? convFrame(ctx, w, `${n}.conv_shortcut`, x, { layer: `${n}.conv_shortcut` }) : ctx.retain(x);
  const a = rmsFrame(ctx, w.get(`${n}.norm1`), x, true, `${n}.norm1`);
  const b = causal(ctx, w, caches, `${n}.conv1`, a);
  ctx.release(a);
  const c = rmsFrame(ctx, w.get(`${n}.norm2`), b, true, `${n}.norm2`);
  ctx.release(b);
  const out = causal(ctx, w, caches, `${n}.conv2`, c, { residual: h, layer: `${n}.conv2` });
  ctx.release(c);
  ctx.release(h);
  return out;
}

/**
 * The parts of pass `chunk` of a Wan decode, as DecodeOptions.onBlock counts them: wanChunk's pieces (the mid block, each
 * up block once per frame it holds, each upsampler, conv_out once per frame: the frames double at a temporal upsampler
 * after the first chunk) and the read back.
 */
export function wanParts(c: WanVaeConfig, chunk: number): number {
  let frames = 1;
  let parts = 1; // the mid block
  for (let i = 0; i < c.dimMult.length; i++) {
    parts += frames; // up block i
    if (i === c.dimMult.length - 1) break;
    if (c.temperalUpsample[i] && chunk > 0) frames *= 2;
    parts += 1; // upsampler i
  }
  return parts + frames + 1; // conv_out, the read back
}

/** The parts of one pass of a KL decode, as DecodeOptions.onBlock counts them: klFrame's pieces and the read back. */
export function klParts(c: KlVaeConfig): number {
  return 1 + c.blockOutChannels.length * (c.layersPerBlock + 1) + 1 + 1;
}

/**
 * One latent frame through WanDecoder3d (chunk `chunk` of `_decode`), returning its output frames. `part` is called
 * after each piece it runs (wanParts counts them).
 */
async function wanChunk(ctx: Ctx, c: WanVaeConfig, w: VaeWeights, caches: Caches, z: Frame, chunk: number, part: () => Promise<void>): Promise<Frame[]> {
  let x = causal(ctx, w, caches, 'decoder.conv_in', z);
  const swap = (y: Frame) => {
    ctx.release(x);
    x = y;
  };
  swap(wanResnet(ctx, w, caches, 'decoder.mid_block.resnets.0', x));
  swap(attentionFrame(ctx, w, 'decoder.mid_block.attentions.0', x, 'rms'));
  swap(wanResnet(ctx, w, caches, 'decoder.mid_block.resnets.1', x));
  await ctx.flush('vae decode (mid block)');
  await part();
  let frames = [x];
  for (let i = 0; i < c.dimMult.length; i++) {
    const next: Frame[] = [];
    for (let f of frames) {
      for (let j = 0; j <= c.numResBlocks; j++) {
        const y = wanResnet(ctx, w, caches, `decoder.up_blocks.${i}.resnets.${j}`, f);
        ctx.release(f);
        f = y;
      }
      next.push(f);
      await ctx.flush(`vae decode (up block ${i})`);
      await part();
    }
    frames = next;
    if (i === c.dimMult.length - 1) break;
    const u = `decoder.up_blocks.${i}.upsamplers.0`;
    if (c.temperalUpsample[i] && chunk > 0) {
      // time_conv: each frame → two (channels [0, C) then [C, 2C)), causal over the chunks after the first.
      const doubled: Frame[] = [];
      for (const f of frames) {
        const [c0, c1] = caches.get(`${u}.time_conv`) ?? [null, null];
        const zf = ctx.zero(f.C, f.scale);
        for (const half of ['0', '1']) doubled.push(convFrame(ctx, w, `${u}.time_conv.${half}`, f, { cache: [c0 ?? zf, c1 ?? zf], layer: `${u}.time_conv` }));
        ctx.release(c0);
        caches.set(`${u}.time_conv`, [c1, f]); // f's reference moves to the cache
      }
      frames = doubled;
    }
    frames = frames.map((f) => {
      const y = convFrame(ctx, w, `${u}.resample.1`, f, { up: true, layer: `${u}.resample.1` });
      ctx.release(f);
      return y;
    });
    await ctx.flush(`vae decode (upsampler ${i})`);
    await part();
  }
  const outs: Frame[] = [];
  for (const f of frames) {
    const a = rmsFrame(ctx, w.get('decoder.norm_out'), f, true, 'decoder.norm_out');
    ctx.release(f);
    outs.push(causal(ctx, w, caches, 'decoder.conv_out', a));
    ctx.release(a);
    await ctx.flush('vae decode (conv_out)');
    await part();
  }
  return outs;
}

function klResnet(ctx: Ctx, w: VaeWeights, groups: number, n: string, x: Frame): Frame {
  const h = w.has(`${n}.conv_shortcut`) ? convFrame(ctx, w, `${n}.conv_shortcut`, x, { layer: `${n}.conv_shortcut` }) : ctx.retain(x);
  const a = groupNormFrame(ctx, w, `${n}.norm1`, groups, x, true);
  const b = convFrame(ctx, w, `${n}.conv1`, a, { layer: `${n}.conv1` });
  ctx.release(a);
  const d = groupNormFrame(ctx, w, `${n}.norm2`, groups, b, true);
  ctx.release(b);
  const out = convFrame(ctx, w, `${n}.conv2`, d, { residual: h, layer: `${n}.conv2` });
  ctx.release(d);
  ctx.release(h);
  return out;
}

/** One pass of images through the KL decoder; `part` is called after each piece it runs (klParts counts them, with the read back). */
async function klFrame(ctx: Ctx, c: KlVaeConfig, w: VaeWeights, z: Frame, part: () => Promise<void>): Promise<Frame> {
  const G = c.normNumGroups;
  let x = z;
  ctx.retain(x);
  const swap = (y: Frame) => {
    ctx.release(x);
    x = y;
  };
  if (c.usePostQuantConv) swap(convFrame(ctx, w, 'post_quant_conv', x, { layer: 'post_quant_conv' }));
  swap(convFrame(ctx, w, 'decoder.conv_in', x, { layer: 'decoder.conv_in' }));
  swap(klResnet(ctx, w, G, 'decoder.mid_block.resnets.0', x));
  if (c.midBlockAddAttention) swap(attentionFrame(ctx, w, 'decoder.mid_block.attentions.0', x, { groups: G }));
  swap(klResnet(ctx, w, G, 'decoder.mid_block.resnets.1', x));
  await ctx.flush('vae decode (mid block)');
  await part();
  const n = c.blockOutChannels.length;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= c.layersPerBlock; j++) {
      swap(klResnet(ctx, w, G, `decoder.up_blocks.${i}.resnets.${j}`, x));
      await ctx.flush(`vae decode (up block ${i})`);
      await part();
    }
    if (i !== n - 1) swap(convFrame(ctx, w, `decoder.up_blocks.${i}.upsamplers.0.conv`, x, { up: true, layer: `decoder.up_blocks.${i}.upsamplers.0.conv` }));
  }
  swap(groupNormFrame(ctx, w, 'decoder.conv_norm_out', G, x, true));
  swap(convFrame(ctx, w, 'decoder.conv_out', x, { layer: 'decoder.conv_out' }));
  await ctx.flush('vae decode (conv_out)');
  await part();
  return x;
}

/** Decode per the plan (see the file header); returns diffusers' `sample` as F32. */
export async function decodeLatents(gpu: Gpu, c: VaeConfig, w: VaeWeights, dtype: DType, latents: TensorData, p: DecodePlanSummary, opts: DecodeOptions = {}): Promise<{ out: TensorData; peakBytes: number; dispatches: number }> {
  const r = await runDecode(new Allocator(gpu), c, w, dtype, latents, p, opts);
  return { out: { data: r.out, shape: p.outShape }, peakBytes: r.peakBytes, dispatches: r.dispatches };
}

/**
 * GPU bytes a decode per `p` would hold at its peak, beside the weights, from a dry run of the decode's
 * own recording (DryAllocator: nothing is created on the GPU or run): `activations` is the peak of its
 * frames, caches and scratch (what DecodeStats.peakBytes measures), `params` the most one piece's
 * uniform buffers take. Costs milliseconds per latent frame.
 */
export async function decodeMemory(gpu: Gpu, c: VaeConfig, w: VaeWeights, dtype: DType, p: DecodePlanSummary): Promise<{ activations: number; params: number }> {
  const r = await runDecode(new DryAllocator(gpu), c, w, dtype, null, p, {});
  return { activations: r.peakBytes, params: r.planPeakBytes };
}

/** The decode on `alloc`: a real one, or on a DryAllocator (`latents` null) the same recording with nothing run. */
async function runDecode(alloc: Allocator, c: VaeConfig, w: VaeWeights, dtype: DType, latents: TensorData | null, p: DecodePlanSummary, opts: DecodeOptions): Promise<{ out: Float32Array; peakBytes: number; planPeakBytes: number; dispatches: number }> {
  const { batch: B, latentFrames: F, height: H, width: W } = p;
  const zc = c.kind === 'wan' ? c.zDim : c.latentChannels;
  const data = latents?.data ?? new Float32Array(0);
  const out = new Float32Array(latents ? p.outShape.reduce((x, y) => x * y, 1) : 0);
  const gpu = alloc.gpu;
  const ctx = new Ctx(gpu, alloc, dtype, p.bandRows, W, p.maxBinding);
  ctx.runPlan = opts.runPlan;
  ctx.signal = opts.signal;
  const S = c.scaleFactorSpatial;
  const HW = H * S * W * S;
  // Per-channel affine applied to the latents before the decoder (the pipeline's scaling).
  const a = new Float64Array(zc);
  const b = new Float64Array(zc);
  for (let ch = 0; ch < zc; ch++) {
    if (c.kind === 'wan') {
      // WanPipeline: latents / (1 / latents_std) + latents_mean
      a[ch] = 1 / (1 / c.latentsStd[ch]!);
      b[ch] = c.latentsMean[ch]!;
    } else {
      // DiTPipeline / LattePipeline: latents / scaling_factor; they never add shift_factor (SD3/Flux do), loadVae warns
      a[ch] = 1 / c.scalingFactor;
      b[ch] = 0;
    }
  }
  let done = 0;
  const range = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k);
  // the progress hook once per decoded frame of each image, in the order the images are laid out
  const progress = async (n: number, total: number) => {
    for (let k = 0; k < n; k++) await callHook('onProgress', `Vae.decode, frame ${++done}/${total}`, opts.onProgress, done, total);
  };
  // DecodeOptions.onBlock: pass `pass` of `passes` begins (part 0), then part k of `parts` done (the last, the read back,
  // after `progress`); returns the function that says the next part
  const beginPass = async (pass: number, passes: number, parts: number) => {
    let k = 0;
    const say = () => callHook('onBlock', `Vae.decode, pass ${pass}/${passes} part ${k}/${parts}`, opts.onBlock, pass, passes, k, parts);
    await say();
    return () => {
      k++;
      return say();
    };
  };
  try {
    if (c.kind === 'wan') {
      const Fo = p.frames;
      const passes = Math.ceil(B / p.images) * F;
      // batch items b0 .. b0 + N − 1 together, frame by frame (causal caches per item, inside the images)
      for (let b0 = 0; b0 < B; b0 += p.images) {
        const items = range(b0, Math.min(p.images, B - b0));
        ctx.images = items.length;
        const caches: Caches = new Map();
        let t = 0;
        for (let fi = 0; fi < F; fi++) {
          const zin = uploadLatentFrames(ctx, data, items.map((bi) => (bi * zc * F + fi) * H * W), F * H * W, zc, H, W, a, b);
          const z = convFrame(ctx, w, 'post_quant_conv', zin, { layer: 'post_quant_conv' });
          ctx.release(zin);
          const pass = (b0 / p.images) * F + fi + 1;
          const part = await beginPass(pass, passes, wanParts(c, fi));
          const frames = await wanChunk(ctx, c, w, caches, z, fi, part);
          ctx.release(z);
          for (const f of frames) {
            await readFrames(ctx, f, out, items.map((bi) => (bi * c.outChannels * Fo + t) * HW), Fo * HW, true);
            ctx.release(f);
            t++;
            await progress(items.length, B * Fo);
          }
          await ctx.flush('vae decode');
          await part(); // the read back
        }
        for (const [c0, c1] of caches.values()) {
          ctx.release(c0);
          ctx.release(c1);
        }
        await ctx.flush('vae decode');
      }
    } else {
      // image k is frame k % F of batch item ⌊k / F⌋: every one independent, N per pass
      for (let k0 = 0; k0 < B * F; k0 += p.images) {
        const imgs = range(k0, Math.min(p.images, B * F - k0));
        ctx.images = imgs.length;
        const zin = uploadLatentFrames(ctx, data, imgs.map((k) => (Math.floor(k / F) * zc * F + (k % F)) * H * W), F * H * W, zc, H, W, a, b);
        const part = await beginPass(k0 / p.images + 1, Math.ceil((B * F) / p.images), klParts(c));
        const y = await klFrame(ctx, c, w, zin, part);
        ctx.release(zin);
        await readFrames(ctx, y, out, imgs.map((k) => (Math.floor(k / F) * c.outChannels * F + (k % F)) * HW), F * HW, false);
        ctx.release(y);
        await ctx.flush('vae decode');
        await progress(imgs.length, B * F);
        await part(); // the read back
      }
    }
  } finally {
    ctx.destroy();
    alloc.destroyAll();
  }
  return { out, peakBytes: alloc.peakBytes, planPeakBytes: ctx.planPeakBytes, dispatches: ctx.dispatches };
}
