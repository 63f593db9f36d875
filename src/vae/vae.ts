// loadVae / vae.decode: latents → pixels with diffusers' VAE decoders on the GPU.
//
// Scaling (what the pipelines do before `vae.decode`, applied here so callers pass the latents
// the sampler produced):
//   AutoencoderKLWan: WanPipeline  z = latents / (1 / latents_std) + latents_mean  (per channel)
//   AutoencoderKL:    DiTPipeline / LattePipeline  z = latents / scaling_factor; a config's shift_factor
//                     is not applied (those pipelines never add it; SD3/Flux's do, which tessera does
//                     not run): loadVae warns once when it is set and non-zero
// Output: the decoder's `sample`, F32 in diffusers' layout; Wan's is clamped to [-1, 1]
// (AutoencoderKLWan._decode); AutoencoderKL's is not (pipelines clamp when post-processing).
import type { Gpu } from '../gpu/device.js';
import { Allocator, fmtBytes, type DType } from '../gpu/tensor.js';
import type { Plan } from '../gpu/plan.js';
import { Serial } from '../gpu/serial.js';
import { configPath, openModelFolder, type ModelFolder } from '../io/model-folder.js';
import type { FolderSource } from '../io/source.js';
import { checkDtypeOnAdapter, checkLoadOptions, InputError, resolveFolder, shown, withLoadGpu, type TensorData } from '../model/model.js';
import { loadGpuOf } from '../model/device-option.js';
import { largerBudget, LimitError } from '../model/memory.js';
import { checkOptionNames, checkSignal, throwIfAborted, warnLine } from '../model/options.js';
import { parseVaeConfig, vaeDecoderKeys, type VaeConfig } from './config.js';
import { decodeLatents, decodeMemory as measureDecode, planDecode, type DecodePlanSummary } from './decoder.js';
import { checkVaeKeys, loadVaeWeights, type VaeWeights } from './weights.js';
import { unexpectedKeysLine, type UnexpectedKeys } from '../model/weights.js';
import type { Hook } from '../hook.js';

/** Options of loadVae. */
export interface LoadVaeOptions {
  /** A device from acquireGpu(); one is acquired (and owned by the VAE) when neither this nor `device` is given. */
  gpu?: Gpu;
  /** A GPUDevice of the caller's own instead of `gpu`, as LoadOptions.device (loadModel's). */
  device?: GPUDevice;
  /**
   * Storage dtype of weights and activations (accumulation is f32 always). Default f32.
   * AutoencoderKL with `force_upcast: true` runs in f32 whatever is asked, as diffusers'
   * pipelines upcast such a VAE.
   */
  dtype?: DType;
  /** diffusers weight variant: `diffusion_pytorch_model.<variant>.safetensors`. */
  variant?: string;
  /** Called after each weight tensor is uploaded: `done` of `total` tensors, the state-dict key. A promise it returns is awaited before the next tensor; one that throws or rejects fails the load (`loadVae, KEY: onProgress failed: …`, its error as `cause`). */
  onProgress?: Hook<[done: number, total: number, key: string]>;
  /**
   * GPU memory budget for a decode: bytes (> 0), or a size such as "2GiB" (as loadModel's; InputError
   * otherwise, before anything is read). A decode whose weights + peak activations (a dry run of its
   * recording, before any GPU work) exceed it is refused with LimitError giving both figures.
   * Unlimited when unset (the band plan still keeps every binding within the adapter's limit).
   */
  maxMemory?: number | string;
  /**
   * Called with the parsed config, the device and the dtype after the keys were checked and
   * before any weight is read: e.g. `planDecode` for the latents the caller will decode, so that
   * a decode that cannot fit is refused before the weights are read.
   */
  preflight?: (config: VaeConfig, gpu: Gpu, dtype: DType) => void;
  /**
   * Cancels the load: checked before the folder is read (an aborted signal reads no file) and before each
   * weight tensor. An aborted load rejects with a DOMException named 'AbortError',
   * `loadVae(DIR), before KEY (I/N): aborted (REASON)` (the signal's reason as `cause`), and frees what it
   * uploaded. Not an AbortSignal: InputError.
   */
  signal?: AbortSignal;
  /**
   * `decoder.*` / `post_quant_conv.*` tensors the decoder has no place for (the encoder's are never read):
   * 'error' (the default) refuses the load naming them; 'warn' loads without them and reports one line
   * through `onWarning` (as LoadOptions.unexpectedKeys). Missing tensors are an error either way.
   */
  unexpectedKeys?: UnexpectedKeys;
  /**
   * Where the load's warning lines go (default console.warn): the unexpected tensors of `unexpectedKeys:
   * 'warn'` and an AutoencoderKL's ignored shift_factor. A promise it returns is awaited; one that throws
   * or rejects fails the load (`loadVae: onWarning failed: …`).
   */
  onWarning?: Hook<[line: string]>;
}

/** Figures of the last decode (for `tessera bench vae` and the profiler). */
export interface DecodeStats {
  /** Wall time of the decode, in seconds. */
  seconds: number;
  /** Peak bytes of the decoder's activations, caches and scratch (weights not included). */
  peakBytes: number;
  /** Bytes of the decoder's weights on the GPU. */
  weightBytes: number;
  /** GPU dispatches the decode recorded. */
  dispatches: number;
  /** Row bands per frame (1: untiled; planDecode). */
  bands: number;
  /** Images decoded together per pass (planDecode's `images`, fewer where loadVae's maxMemory asks). */
  images: number;
}

/** Options of a VAE's decode. */
export interface DecodeOptions {
  /**
   * Largest storage binding the decoder may use, in bytes: a positive integer (InputError otherwise;
   * default: the adapter's maxStorageBufferBindingSize). Frames whose activations exceed it are
   * decoded in row bands with halos (same numbers as untiled); tests lower it to force banding.
   */
  maxBinding?: number;
  /** Force this many row bands, an integer from 1 to the latent height (tests; default: the fewest that fit). */
  bands?: number;
  /**
   * Called after each decoded frame (Wan: output frames; KL: images/frames). A function (InputError otherwise).
   * A promise it returns is awaited before the next frame; one that throws or rejects fails the decode
   * (`Vae.decode, frame I/N: onProgress failed: …`, its error as `cause`).
   */
  onProgress?: Hook<[done: number, total: number]>;
  /**
   * Called inside the decode's passes, so that a long pass shows where it is: as pass `pass` begins (`part` 0), then
   * after each of its `parts` parts, `part` from 1 to `parts`, the last one after its frames were read back (and
   * onProgress was called for them).
   * A Wan decode's passes are its latent frames (per group of batch items decoded together: Vae.plan's `images`), in
   * order, diffusers' `_decode` loop: the first gives 1 output frame, each later one 4; the parts of a pass are its
   * mid block, each up block (once per frame it holds by then), each upsampler, conv_out (once per frame) and the read
   * back, so a later pass has more of them (the embedded tessera-shapes VAE: 8, then 15). A KL decode's passes are its groups of
   * images (Vae.plan's `images` each); their parts the mid block, each up-block resnet, conv_out and the read back. A
   * function (InputError otherwise); awaited as onProgress is (`Vae.decode, pass P/N part I/M: onBlock failed: …`).
   */
  onBlock?: Hook<[pass: number, passes: number, part: number, parts: number]>;
  /**
   * tessera's own: runs each recorded piece of the decode instead of `plan.run` (the profiler
   * times the pieces' dispatches this way: profileDecode in src/profile/decode.ts).
   */
  runPlan?: (plan: Plan, where: string) => Promise<void>;
  /**
   * Cancels the decode. A decode runs in pieces (per latent frame: the mid block, each up block and
   * upsampler, conv_out, each piece over all row bands); the signal is checked before each piece, so an
   * abort waits for the piece under way only, not the whole decode. An aborted decode rejects with an Error
   * named 'AbortError' (a DOMException `Vae.decode: aborted (REASON)`, the signal's reason as `cause`), frees the decode's GPU buffers and leaves the VAE usable.
   * Aborted before the call runs (queued behind other decodes, too): rejects at once, without waiting for
   * them, and never decodes. Not an AbortSignal: InputError.
   */
  signal?: AbortSignal;
}

/** A loaded VAE decoder. `kind` says which diffusers class it is. */
export interface Vae {
  /** 'wan': AutoencoderKLWan; 'kl': AutoencoderKL. */
  readonly kind: 'wan' | 'kl';
  /** The checked config.json. */
  readonly config: VaeConfig;
  /** Storage dtype of weights and activations ('f32' for a force_upcast AutoencoderKL whatever was asked). */
  readonly dtype: DType;
  /** The device it runs on (the `gpu` option, or the one it acquired and owns). */
  readonly gpu: Gpu;
  /**
   * Decode latents to pixels, applying the pipeline's latent scaling first (see file header).
   * s = `config.scaleFactorSpatial`, t = `config.scaleFactorTemporal` (Wan), from config.json:
   *   Wan: s = 2^(len(dim_mult) − 1), t = 2^(number of true in temperal_downsample)
   *   (Wan2.1: s = 8, t = 4; the embedded models/tessera-shapes VAE: s = 4, t = 4);
   *   AutoencoderKL: s = 2^(len(block_out_channels) − 1).
   * @param latents F32. Wan: [B, z_dim, F, H, W] → sample [B, out_channels, 1 + t(F−1), sH, sW]
   *   in [−1, 1]. AutoencoderKL: [B, C, H, W] (images, DiTPipeline) → [B, out_channels, sH, sW],
   *   or [B, C, F, H, W] (video, LattePipeline.decode_latents, frame by frame)
   *   → [B, out_channels, F, sH, sW].
   * Calls on one VAE run one at a time, in call order (two at once would hold two decodes'
   * activations, beyond what the band plan allows for).
   * @throws InputError for a wrong rank/channel count or a non-finite value (e.option 'latents'; an option's refusal
   *   names that option: 'bands', 'maxBinding', …); LimitError (before
   *   any GPU work) when one row band of the smallest size still exceeds the binding limit, the
   *   sample would exceed the 2^32 values of one Float32Array, or the decode needs more than
   *   loadVae's `maxMemory` (weights + peak activations; the message gives both and the budget);
   *   DisposedError after dispose(); InputError for an option that is not one (`band: not an option of
   *   Vae.decode; did you mean bands?`), a non-function onProgress / runPlan, a maxBinding that is not a
   *   positive integer or a `signal` that is not an AbortSignal (all before waiting for earlier decodes);
   *   an Error named 'AbortError' when `signal` aborts (DecodeOptions.signal); while it runs, GpuError (device lost,
   *   a validation error naming the dispatch) and TuneEnvError (a bad TESSERA_TUNE / TESSERA_TUNE_MIN_FLOPS, read as
   *   the decode records its kernels).
   *   Time grows with the output's pixels (frames × height × width): a 2048² × 81-frame decode is
   *   seconds on a large GPU and hours on a CPU adapter; the band plan bounds memory, not time.
   */
  decode(latents: TensorData, opts?: DecodeOptions): Promise<TensorData>;
  /**
   * The band plan a decode of `shape` would use, without running it (throws LimitError; InputError for options as decode(); DisposedError after dispose()).
   * Its `images` per pass are the most the binding limit allows; under loadVae's maxMemory a decode may take fewer (down to 1) to fit the budget.
   */
  plan(shape: number[], opts?: DecodeOptions): DecodePlanSummary;
  /**
   * GPU bytes a decode of latents `shape` holds at its peak: this VAE's `weights`, and `activations` (its
   * frames, caches, scratch and uniform buffers) from a dry run of the decode's own recording — nothing is
   * created or run on the GPU; milliseconds per latent frame (the VAE keeps the last plan's figures: the same decode
   * asked again, here or by decode()'s maxMemory check, is not measured twice). A decode is refused when weights +
   * activations exceed `maxMemory` even at one image per pass (with a budget, the figures are those of the most
   * images per pass that fit it, as decode() would take).
   * @throws LimitError as plan(); InputError for an option other than maxBinding and bands, or a bad one; DisposedError after dispose().
   */
  decodeMemory(shape: number[], opts?: Pick<DecodeOptions, 'maxBinding' | 'bands'>): Promise<{ weights: number; activations: number }>;
  /** loadVae's maxMemory in bytes (undefined: unlimited). */
  readonly maxMemory?: number;
  /** Figures of the last completed decode (null before the first). */
  readonly lastStats: DecodeStats | null;
  /**
   * Frees the weights (and the device when the VAE acquired it). Decodes called before
   * it (running or queued) finish first; later calls throw DisposedError.
   */
  dispose(): void;
}

/** Every option a decode reads; anything else is refused (`band: 2` was ignored silently). */
const DECODE_OPTIONS: readonly (keyof DecodeOptions)[] = ['maxBinding', 'bands', 'onProgress', 'onBlock', 'runPlan', 'signal'];

/**
 * Refuses a decode's options object (`where`: the call, taking `names`) holding a key that is not an
 * option, or a value of the wrong kind, before any work. (`bands` is planDecode's to check: its range is
 * the latent height.)
 * @throws InputError naming the option.
 */
function checkDecodeOptions(opts: unknown, where: string, names: readonly string[] = DECODE_OPTIONS): void {
  const decodeOnly = Object.fromEntries(DECODE_OPTIONS.filter((k) => !names.includes(k)).map((k) => [k, 'Vae.decode']));
  checkOptionNames(opts, names, where, '{ signal, onProgress }', decodeOnly);
  const o = opts as DecodeOptions;
  if (o.maxBinding !== undefined && (!Number.isInteger(o.maxBinding) || o.maxBinding < 1)) throw new InputError(`maxBinding: a positive integer (bytes of the largest binding), got ${shown(o.maxBinding)}`, { option: 'maxBinding' });
  for (const k of ['onProgress', 'onBlock', 'runPlan'] as const) if (o[k] !== undefined && typeof o[k] !== 'function') throw new InputError(`${k}: a function, got ${shown(o[k])}`, { option: k });
  checkSignal(o.signal);
}

const isModelFolder = (s: unknown): s is ModelFolder => typeof s === 'object' && s !== null && 'tensors' in s && 'readF32' in s;

class LoadedVae implements Vae {
  lastStats: DecodeStats | null = null;
  /** LoadVaeOptions.maxMemory in bytes; unlimited when unset. */
  maxMemory?: number;
  private readonly serial: Serial;
  /**
   * The last dry run: its plan (as JSON: plain data, the whole input of the dry run besides the loaded weights) and
   * bytes. A decode measured before (Pipeline.generate's up-front check through decodeMemory, a caller's repeated
   * decodes of one shape, profileDecode's) is not measured again.
   */
  private measured?: { plan: string; bytes: { weights: number; activations: number } };
  constructor(
    readonly config: VaeConfig,
    readonly gpu: Gpu,
    readonly dtype: DType,
    readonly weights: VaeWeights,
    private readonly alloc: Allocator,
    private readonly ownsGpu: boolean,
    name: string,
  ) {
    this.serial = new Serial(`VAE ${name}`);
  }
  get kind(): 'wan' | 'kl' {
    return this.config.kind;
  }
  plan(shape: number[], opts: DecodeOptions = {}): DecodePlanSummary {
    this.serial.check();
    checkDecodeOptions(opts, 'Vae.plan');
    return this.bandPlan(shape, opts);
  }
  async decodeMemory(shape: number[], opts: Pick<DecodeOptions, 'maxBinding' | 'bands'> = {}): Promise<{ weights: number; activations: number }> {
    this.serial.check();
    checkDecodeOptions(opts, 'Vae.decodeMemory', ['maxBinding', 'bands']);
    return this.measure(await this.budgetPlan(shape, opts));
  }
  /**
   * The band plan, its images per pass halved (down to 1, the per-image decode) while its weights + peak
   * activations exceed loadVae's maxMemory: more images per pass hold proportionally more activations.
   */
  private async budgetPlan(shape: number[], opts: DecodeOptions): Promise<DecodePlanSummary> {
    let plan = this.bandPlan(shape, opts);
    const budget = this.maxMemory;
    if (budget === undefined) return plan;
    while (plan.images > 1) {
      const m = await this.measure(plan);
      if (m.weights + m.activations <= budget) break;
      plan = this.bandPlan(shape, opts, Math.floor(plan.images / 2));
    }
    return plan;
  }
  private async measure(plan: DecodePlanSummary): Promise<{ weights: number; activations: number }> {
    const key = JSON.stringify(plan);
    if (this.measured?.plan !== key) {
      const m = await measureDecode(this.gpu, this.config, this.weights, this.dtype, plan);
      this.measured = { plan: key, bytes: { weights: this.weights.bytes, activations: m.activations + m.params } };
    }
    return { ...this.measured.bytes };
  }
  private bandPlan(shape: number[], opts: DecodeOptions, maxImages?: number): DecodePlanSummary {
    return planDecode(this.config, shape, this.dtype, opts.maxBinding ?? this.gpu.limits.maxStorageBufferBindingSize, opts.bands, maxImages);
  }
  decode(latents: TensorData, opts: DecodeOptions = {}): Promise<TensorData> {
    // refused at once, without waiting for the decodes queued before it
    try {
      checkDecodeOptions(opts, 'Vae.decode');
    } catch (e) {
      return Promise.reject(e as Error);
    }
    // aborted while it waits for the decodes before it: rejected at once, and it leaves the queue
    return this.serial.run(() => this.decodeNow(latents, opts), { signal: opts.signal, aborted: () => throwIfAborted(opts.signal, 'Vae.decode') });
  }
  private async decodeNow(latents: TensorData, opts: DecodeOptions): Promise<TensorData> {
    if (!latents || !(latents.data instanceof Float32Array) || !Array.isArray(latents.shape)) throw new InputError('latents: expected { data: Float32Array, shape: number[] }', { option: 'latents' });
    const n = latents.shape.reduce((a, b) => a * b, 1);
    if (latents.shape.some((d) => !Number.isInteger(d) || d < 1)) throw new InputError(`latents: every dim must be a positive integer, found [${latents.shape.join(',')}]`, { option: 'latents' });
    if (n !== latents.data.length) throw new InputError(`latents: ${latents.data.length} values for shape [${latents.shape.join(',')}], which needs ${n}`, { option: 'latents' });
    for (let i = 0; i < n; i++) if (!Number.isFinite(latents.data[i]!)) throw new InputError(`latents: non-finite value ${latents.data[i]} at flat index ${i}`, { option: 'latents' });
    const plan = await this.budgetPlan(latents.shape, opts);
    if (this.maxMemory !== undefined) await this.checkBudget(latents.shape, plan, this.maxMemory);
    throwIfAborted(opts.signal, 'Vae.decode');
    const t0 = performance.now();
    const { out, peakBytes, dispatches } = await decodeLatents(this.gpu, this.config, this.weights, this.dtype, latents, plan, opts);
    this.lastStats = { seconds: (performance.now() - t0) / 1000, peakBytes, weightBytes: this.weights.bytes, dispatches, bands: plan.bands, images: plan.images };
    return out;
  }
  /** Refuses (LimitError) a decode per `plan` whose weights + peak activations exceed `budget`; runs nothing on the GPU. */
  private async checkBudget(shape: number[], plan: DecodePlanSummary, budget: number): Promise<void> {
    const m = await this.measure(plan);
    const need = m.weights + m.activations;
    if (need <= budget) return;
    throw new LimitError(`decoding latents [${shape.join(',')}] needs ${fmtBytes(need)} on the GPU (weights ${fmtBytes(m.weights)}, frames, caches and scratch ${fmtBytes(m.activations)}), above the VAE's maxMemory budget of ${fmtBytes(budget)}: use smaller latents (height×width) or ${largerBudget(need)}`);
  }
  dispose(): void {
    // a decode already running reads the weights until it settles
    this.serial.dispose(() => {
      this.alloc.destroyAll();
      if (this.ownsGpu) this.gpu.destroy();
    });
  }
}

/** Every option loadVae reads; anything else is refused (a misspelt name would otherwise be ignored). */
const LOAD_VAE_OPTIONS: readonly (keyof LoadVaeOptions)[] = ['gpu', 'device', 'dtype', 'variant', 'onProgress', 'preflight', 'maxMemory', 'signal', 'unexpectedKeys', 'onWarning'];

/**
 * One warning line (`onWarning`, else console.warn) when an AutoencoderKL config sets a non-zero shift_factor: the decode does not
 * apply it (DiTPipeline and LattePipeline decode latents / scaling_factor only), so a user who expected
 * SD3/Flux's `latents / scaling_factor + shift_factor` is told, not silently given another answer.
 */
async function warnShiftFactor(config: VaeConfig, file: string, onWarning: Hook<[line: string]> | undefined): Promise<void> {
  if (config.kind !== 'kl' || !config.shiftFactor) return;
  await warnLine(onWarning, 'loadVae', `warning: ${file}: shift_factor ${config.shiftFactor} is ignored: the pipelines tessera runs (DiTPipeline, LattePipeline) decode latents / scaling_factor only, as diffusers does; SD3/Flux pipelines add shift_factor, and tessera does not run those`);
}

/**
 * Load a diffusers VAE folder (config.json + diffusion_pytorch_model[.variant].safetensors),
 * AutoencoderKLWan or AutoencoderKL; only the decoder's weights (and post_quant_conv) are read.
 * Weights may be F32, F16 or BF16 (F64 read rounded to f32, as diffusers casts it to float32). Throws InputError for an unknown option, a dtype other than
 * 'f32' / 'f16', a maxMemory that is not a size, a `device` that is not a GPUDevice or is given with `gpu`, or a `gpu` that is not acquireGpu()'s object (a
 * GPUDevice, …; before reading anything), ConfigError /
 * ModelFolderError / SafetensorsError / WeightError naming the file and key, DtypeUnsupportedError (an InputError)
 * for dtype 'f16' on an adapter without shader-f16, GpuUnavailableError when no `gpu` is given and there is no
 * adapter, whatever `preflight` throws (before any weight is read), and an Error named 'AbortError' when `signal` aborts
 * (LoadVaeOptions.signal). An AutoencoderKL config whose shift_factor is
 * set and non-zero loads with one warning line (`onWarning`, else console.warn): the decode does not apply it (see the file header).
 * WeightError for missing or mis-shaped decoder keys, and for unexpected decoder keys unless `unexpectedKeys: 'warn'`
 * (before the device is acquired).
 */
export async function loadVae(source: string | FolderSource | ModelFolder, opts: LoadVaeOptions = {}): Promise<Vae> {
  const { maxMemory } = checkLoadOptions(opts, 'loadVae', LOAD_VAE_OPTIONS);
  throwIfAborted(opts.signal, `loadVae(${typeof source === 'string' ? source : source.name}), before reading its folder`);
  const folder: ModelFolder = isModelFolder(source) ? source : await openModelFolder(typeof source === 'string' ? await resolveFolder(source) : source, opts.variant ? { variant: opts.variant } : undefined);
  try {
    const config = parseVaeConfig(folder.config, configPath(folder));
    await warnShiftFactor(config, configPath(folder), opts.onWarning);
    const want = vaeDecoderKeys(config);
    const unused = checkVaeKeys(folder, want, opts.unexpectedKeys);
    if (unused.length) await warnLine(opts.onWarning, 'loadVae', unexpectedKeysLine(folder.name, unused));
    return await withLoadGpu(loadGpuOf(opts), async (gpu, owned) => {
      const dtype: DType = config.kind === 'kl' && config.forceUpcast ? 'f32' : (opts.dtype ?? 'f32');
      checkDtypeOnAdapter(gpu, dtype);
      opts.preflight?.(config, gpu, dtype);
      const alloc = new Allocator(gpu);
      try {
        const weights = await loadVaeWeights(alloc, folder, want, dtype, opts.onProgress, opts.signal && { signal: opts.signal, where: `loadVae(${folder.name})` });
        const vae = new LoadedVae(config, gpu, dtype, weights, alloc, owned, folder.name);
        vae.maxMemory = maxMemory;
        return vae;
      } catch (e) {
        alloc.destroyAll();
        throw e;
      }
    });
  } finally {
    if (!isModelFolder(source)) await folder.close();
  }
}

export { LimitError };
