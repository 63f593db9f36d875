// loadModel / model.forward: the library face of the engine, the same in Node and the browser.
//
// Weights are uploaded once. For each input shape the forward pass is recorded once (buffers,
// bind groups) into a Plan and replayed per call with only the input buffers rewritten.
import type { Gpu } from '../gpu/device.js';
import { acquireGpu, describeAdapter } from '../gpu/device.js';
import { describeDispatch, Plan } from '../gpu/plan.js';
import { Allocator, fmtBytes, readTensor, writeTensor, type DType, type Tensor } from '../gpu/tensor.js';
import { configPath, openModelFolder, tensorPath, type ModelFolder } from '../io/model-folder.js';
import type { FolderSource } from '../io/source.js';
import { parseConfig, patchDims, type ModelConfig } from './config.js';
import { budgetBytes, checkRunFits, checkWeightsFit, largerBudget, LimitError, runName, type Reserve } from './memory.js';
import { checkOptionNames, checkSignal, checkUnexpectedKeys, throwIfAborted, warnLine } from './options.js';
import { Serial } from '../gpu/serial.js';
import { recordForwardPooled, type MemoryOptions } from './forward.js';
import type { MemoryPlan } from '../gpu/memory-plan.js';
import { plural } from '../plural.js';
import { checkKeyCount, checkKeys, expectedKeys, unexpectedKeysLine, uploadWeights, type UnexpectedKeys, type Weights } from './weights.js';
import { keyFoldLengths } from '../ops/attention.js';
import { checkRopeGrid, textRowBucket, type KeyFoldTable } from './wan.js';
import { checkGpuOption, InputError, kindOf, shown } from './input-error.js';
import { checkDeviceOptions, isCallersDevice, loadGpuOf } from './device-option.js';
import type { Hook } from '../hook.js';

export { checkGpuOption, InputError, kindOf, shown };

/** The axes of a Wan latent grid that rope_max_seq_len bounds. */
export type RopeAxis = 'frames' | 'height' | 'width';

/**
 * A request past Wan's rope_max_seq_len (wan.ts checkRopeGrid, Pipeline.generate's size check): an InputError
 * (`instanceof InputError`; name 'RopeLimitError', code 'ERR_ROPE_LIMIT') naming the axes over the limit, so that a caller whose sizes came from its own options
 * (the CLI's --frames/--height/--width) can name those instead. The message says what fits.
 */
export class RopeLimitError extends InputError {
  override name = 'RopeLimitError';
  override readonly code: string = 'ERR_ROPE_LIMIT';
  constructor(
    message: string,
    /** The latent axes whose grid (after patching) is past rope_max_seq_len. */
    readonly axes: readonly RopeAxis[],
    /** The option the refused size came from (Pipeline.generate's `num_frames`, `height`, `width` or `latents`). */
    option?: string,
  ) {
    super(message, option === undefined ? undefined : { option });
  }
}

/**
 * The device handling every loader shares (loadModel, loadRandomModel, loadVae, loadTextEncoder,
 * loadPipeline): runs `load` on `given` (the caller's device: never destroyed here) or on a device
 * acquired for it, passed with `owned` true for the loaded object to keep and destroy; when `load`
 * throws (a check before the upload, the upload itself), an acquired device is destroyed before
 * the error propagates.
 * @throws GpuUnavailableError (no adapter), or whatever `load` throws.
 */
export async function withLoadGpu<T>(given: Gpu | undefined, load: (gpu: Gpu, owned: boolean) => Promise<T>): Promise<T> {
  const gpu = given ?? (await acquireGpu());
  try {
    return await load(gpu, !given);
  } catch (e) {
    if (!given) gpu.destroy();
    throw e;
  }
}

/**
 * f16 storage asked of an adapter without shader-f16: an InputError (name 'DtypeUnsupportedError', code
 * 'ERR_DTYPE_UNSUPPORTED', `option` 'dtype') of its own class, so
 * that a caller whose dtype came from its own option (the CLI's --dtype) can say so without reading the text.
 */
export class DtypeUnsupportedError extends InputError {
  override name = 'DtypeUnsupportedError';
  override readonly code: string = 'ERR_DTYPE_UNSUPPORTED';
  constructor(message: string) {
    super(message, { option: 'dtype' });
  }
}

/**
 * Refuses f16 storage on a device without shader-f16 (DtypeUnsupportedError naming the `dtype` option, which the
 * CLI shows as --dtype; before any upload). A caller's own GPUDevice (the `device` option) lacks it when it was
 * requested without it, whatever its adapter has (tessera cannot see that adapter): the message says how to
 * request it.
 */
export function checkDtypeOnAdapter(gpu: Gpu, dtype: DType): void {
  if (dtype !== 'f16' || gpu.f16) return;
  if (isCallersDevice(gpu)) {
    throw new DtypeUnsupportedError(`dtype: 'f16' needs shader-f16, and this GPUDevice was created without it: request it (adapter.requestDevice({ requiredFeatures: ['shader-f16'] }) on an adapter whose features have it) or use dtype: 'f32'`);
  }
  if (gpu.adapterFeatures?.includes('shader-f16')) {
    throw new DtypeUnsupportedError(`dtype: 'f16' needs shader-f16, which this device was acquired without: acquireGpu's disableFeatures turned it off (the adapter, ${describeAdapter(gpu)}, has it): acquire a GPU without disabling it, or use dtype: 'f32'`);
  }
  throw new DtypeUnsupportedError(`dtype: 'f16' needs the adapter feature shader-f16, which ${describeAdapter(gpu)} lacks: use dtype: 'f32'`);
}

/** A host tensor: f32 values in row-major (C) order; `data.length` is the product of `shape`. */
export interface TensorData {
  /** The values, f32, row-major. */
  data: Float32Array;
  /** Dimensions, outermost first (e.g. [B, C, F, H, W]). */
  shape: number[];
}

/** Inputs of one forward pass, named as diffusers' forward() names them. */
export interface ForwardInputs {
  /** Latents: Wan/Latte [B, C, F, H, W]; DiT [B, C, H, W]. */
  hidden_states: TensorData;
  /**
   * [B] timesteps on the training scale (diffusers' schedulers give 0 … num_train_timesteps, i.e.
   * 0 … 1000; flow matching σ·1000, fractional). Any finite value is taken (the sinusoidal
   * embedding is defined for all); integers as bigint (diffusers' int64 timesteps) are converted.
   * Non-finite values are refused (InputError). Wan and DiT also take one value for the whole batch ([1]),
   * as diffusers' WanTransformer3DModel and DiTTransformer2DModel broadcast a 1-element timestep; Latte
   * needs one per item (LatteTransformer3DModel fails on [1] at batch > 1), as does a scalar everywhere.
   */
  timestep: ArrayLike<number | bigint>;
  /** Wan: [B, L, text_dim]; Latte: [B, L, caption_channels]. */
  encoder_hidden_states?: TensorData;
  /** DiT: [B] class ids in [0, num_embeds_ada_norm] (the last is the null class): numbers, or bigint (a BigInt64Array as diffusers' int64 labels). */
  class_labels?: ArrayLike<number | bigint>;
}

/** Options of loadModel. */
export interface LoadOptions {
  /** A device from acquireGpu(); one is acquired (and owned by the model) when neither this nor `device` is given. */
  gpu?: Gpu;
  /**
   * A GPUDevice the caller already has (its own `adapter.requestDevice()`, or a device the page shares with other
   * WebGPU code), instead of `gpu`: tessera runs on it with the features and limits it was requested with
   * (request 'shader-f16' for dtype 'f16', 'timestamp-query' for the profiler's GPU times, and the adapter's
   * limits, e.g. maxStorageBufferBindingSize and maxBufferSize, for large runs) and never destroys it. Loads on
   * the same device share one Gpu (the loaded object's `gpu`). Not a GPUDevice (acquireGpu()'s object among
   * others), a device below WebGPU's default limits, or given with `gpu`: InputError, before anything is read.
   */
  device?: GPUDevice;
  /**
   * Storage dtype of weights and activations ('f32' | 'f16'; accumulation, norms and softmax are
   * f32 either way). Default 'f32' whatever the checkpoint stores, as diffusers' from_pretrained
   * without torch_dtype (F16/BF16 weights are widened on upload; `variant: 'fp16'` picks the file,
   * not the precision); 'f16' halves weights and activations on a shader-f16 adapter.
   * Anything else ('bf16', 'f64', …) is refused (InputError) before any file or GPU work.
   */
  dtype?: DType;
  /**
   * Called after each weight tensor is uploaded: `done` of `total` tensors, the state-dict key. A promise it
   * returns is awaited before the next tensor; one that throws or rejects fails the load
   * (`loadModel, KEY: onProgress failed: …`, its error as `cause`).
   */
  onProgress?: Hook<[done: number, total: number, key: string]>;
  /**
   * Budget for everything this model puts on the GPU (weights, activations, workspace): a number
   * of bytes (≥ 1, rounded down to whole bytes), or a size string as parseBytes reads it ("512MiB", "2GiB", "1e9"; K/M/G/T are
   * binary). Loads and runs that would exceed it are refused (LimitError) before allocating; a
   * value that is neither is refused (InputError naming maxMemory) before anything is read.
   */
  maxMemory?: number | string;
  /**
   * Called with the parsed config and the device after the keys were checked and before any
   * weight is uploaded: e.g. `checkRunFits` for the shapes the caller will run, so that a run
   * that cannot fit is refused before the weights are read.
   */
  preflight?: (config: ModelConfig, gpu: Gpu, dtype: DType) => void;
  /**
   * diffusers' weight variant (`variant="fp16"`): reads `diffusion_pytorch_model.<variant>.safetensors`
   * (or its sharded index) instead of `diffusion_pytorch_model.safetensors`.
   */
  variant?: string;
  /**
   * Cancels the load: checked before the folder is read (an aborted signal reads no file), after its headers
   * are read and before each weight tensor. An
   * aborted load rejects with a DOMException named 'AbortError' whose message names what was being loaded,
   * `loadModel(DIR), before KEY (I/N): aborted (REASON)` (REASON: the reason's message; `controller.abort()`
   * gives 'This operation was aborted'), the signal's reason as `cause`, and frees what it uploaded.
   * Not an AbortSignal: InputError.
   */
  signal?: AbortSignal;
  /**
   * Tensors of the checkpoint the model has no place for (diffusers' `unexpected_keys`): 'error' (the
   * default) refuses the load (WeightError naming them, before any weight is read); 'warn' loads without
   * them and reports one line through `onWarning`, `warning: DIR: N tensors of the checkpoint not used by
   * the model, ignored (unexpectedKeys: 'warn'): KEY, …` (the first five), as diffusers' from_pretrained
   * warns and goes on. Missing and mis-shaped tensors are an error either way. Anything else: InputError.
   */
  unexpectedKeys?: UnexpectedKeys;
  /**
   * Where the load's warning lines go (default console.warn): the unexpected tensors of `unexpectedKeys:
   * 'warn'`, before any weight is read. A promise it returns is awaited; one that throws or rejects fails the
   * load (`loadModel: onWarning failed: …`). Not a function: InputError.
   */
  onWarning?: Hook<[line: string]>;
}

/** A loader's `dtype` option: undefined (f32), 'f32' or 'f16'. @throws InputError naming dtype otherwise. */
export function checkDtypeOption(dtype: unknown): void {
  if (dtype !== undefined && dtype !== 'f32' && dtype !== 'f16') throw new InputError(`dtype: 'f32' or 'f16', got ${shown(dtype)}`, { option: 'dtype' });
}

/** Every option loadModel reads; anything else is refused (a typo such as dtyp would load f32 silently). */
const LOAD_OPTION_NAMES: readonly (keyof LoadOptions)[] = ['gpu', 'device', 'dtype', 'onProgress', 'maxMemory', 'preflight', 'variant', 'signal', 'unexpectedKeys', 'onWarning'];

/**
 * Checks the options loadModel, loadRandomModel and loadVae share (and that no other key is given), before any file or GPU work, and
 * returns the budget in bytes (a size string parsed with parseBytes).
 * @throws InputError naming the option and what it takes.
 */
export function checkLoadOptions(opts: { gpu?: unknown; device?: unknown; dtype?: unknown; maxMemory?: unknown; onProgress?: unknown; preflight?: unknown; variant?: unknown; signal?: unknown; unexpectedKeys?: unknown; onWarning?: unknown }, where = 'loadModel', names: readonly string[] = LOAD_OPTION_NAMES): { maxMemory?: number } {
  checkOptionNames(opts, names, where, "{ dtype: 'f16' }");
  checkSignal(opts.signal);
  checkUnexpectedKeys(opts.unexpectedKeys);
  checkDtypeOption(opts.dtype);
  if (opts.variant !== undefined && (typeof opts.variant !== 'string' || opts.variant === '')) throw new InputError(`variant: a weight variant name such as "fp16", got ${shown(opts.variant)}`, { option: 'variant' });
  for (const k of ['onProgress', 'preflight', 'onWarning'] as const) {
    if (opts[k] !== undefined && typeof opts[k] !== 'function') throw new InputError(`${k}: a function, got ${shown(opts[k])}`, { option: k });
  }
  checkDeviceOptions(opts);
  const maxMemory = budgetBytes(opts.maxMemory);
  return maxMemory === undefined ? {} : { maxMemory };
}

/** Where a string `source` is opened from: Node registers a file-system resolver; the browser uses URLs. */
let resolveString: (s: string) => FolderSource | Promise<FolderSource> = async (s) => (await import('../io/source.js')).httpFolder(s);
/** Sets how loadModel, loadPipeline and loadVae open a string `source` (the Node entry registers file-system paths; the browser default is httpFolder over URLs). */
export function setFolderResolver(fn: (s: string) => FolderSource | Promise<FolderSource>): void {
  resolveString = fn;
}
/** A string source opened as loadModel opens it (in Node a path, or an http(s):// URL as httpFolder; a URL in the browser). */
export function resolveFolder(s: string): FolderSource | Promise<FolderSource> {
  return resolveString(s);
}

/**
 * The model's calls for a caller that holds it (DiffusionModel.exclusive): the same as the
 * model's own methods, without queueing behind the holder.
 */
export interface ExclusiveModel {
  /** DiffusionModel.forward, not queued. */
  forward(inputs: ForwardInputs): Promise<TensorData>;
  /** DiffusionModel.locateNonFinite, not queued. */
  locateNonFinite(inputs: ForwardInputs): Promise<string | null>;
  /** DiffusionModel.resident (with `reserve`: bytes the caller allocates beside the run, counted against maxMemory). */
  resident(inputs: ForwardInputs, reserve?: Reserve): ReturnType<DiffusionModel['resident']>;
}

export type { Reserve } from './memory.js';

/** The inputs each family's forward takes (anything else is refused: it would be ignored). */
const FORWARD_INPUTS: Record<ModelConfig['family'], readonly string[]> = {
  wan: ['hidden_states', 'timestep', 'encoder_hidden_states'],
  latte: ['hidden_states', 'timestep', 'encoder_hidden_states'],
  dit: ['hidden_states', 'timestep', 'class_labels'],
};

interface Runner {
  key: string;
  plan: Plan;
  /**
   * What depends on the text alone (text embedder, cross-attention K/V): run before `plan` after the text is written; empty for DiT.
   * Wan: the plan of `prepares` for the written text's row bucket (writeInputs).
   */
  prepare: Plan;
  /** Wan: prepare plans by rows computed per text item (textRowBucket), recorded on first use; all L rows recorded with the runner. */
  prepares?: Map<number, Plan>;
  /** Wan: records a prepare plan over the first `rows` rows of each item (WanRecording.recordText). */
  recordText?: (prepare: Plan, rows: number) => void;
  /** Whether `prepare` ran since the text was last written. */
  prepared: boolean;
  alloc: Allocator;
  latents: Tensor;
  timestep: Tensor;
  text?: Tensor;
  /** Wan: the text's cross-attention key fold, written with the text. */
  textKeyFold?: KeyFoldTable;
  labels?: Tensor;
  out: Tensor;
  /** The dry run's memory plan the activations follow (absent without sharing). */
  memory?: MemoryPlan;
}

/**
 * A loaded diffusers transformer on a WebGPU device.
 *
 * @example
 * const model = await loadModel('path/to/transformer');
 * const { data, shape } = await model.forward({ hidden_states: { data, shape: [1, 16, 1, 8, 8] }, timestep: [500], encoder_hidden_states: text });
 * model.dispose();
 */
export class DiffusionModel {
  private runners = new Map<string, Runner>();
  /**
   * How recorded plans place their activations (src/model/forward.ts): shared by liveness unless
   * `reuse` is false; `ffnChunkRows` forces FFN token chunks (tests). Applies to plans recorded later
   * (see resetPlans).
   */
  memory: MemoryOptions = {};
  /**
   * Recorded plans (one per input shape) kept at most; the least recently used is freed when a new
   * shape would exceed it. A plan returned by `resident` or `planFor` is valid until then.
   */
  maxPlans = 4;
  /**
   * Wan: attend to each text item's trailing run of equal rows (WanPipeline's zero padding to
   * max_sequence_length) as one key with + ln(run length) (AttentionArgs.keyFold): the same output
   * as attending to every padded key, as diffusers does, with a fraction of the keys. false: every
   * key one by one (tests, A/B benchmarks). Read when the text is written (no plan is re-recorded).
   */
  keyFold = true;
  /** Budget in bytes for weights + activations + workspace (LoadOptions.maxMemory, parsed); unlimited when unset. */
  maxMemory?: number;
  /** One call at a time: the recorded plans' input and output buffers are shared by every call of a shape. */
  private readonly serial: Serial;
  private readonly inner: ExclusiveModel = {
    forward: (inputs) => this.forwardNow(inputs),
    locateNonFinite: (inputs) => this.locateNow(inputs),
    resident: (inputs, reserve) => this.residentNow(inputs, reserve),
  };

  constructor(
    readonly name: string,
    readonly config: ModelConfig,
    readonly gpu: Gpu,
    readonly weights: Weights,
    private readonly weightAlloc: Allocator,
    private readonly ownsGpu: boolean,
  ) {
    this.serial = new Serial(`model ${name}`);
  }

  /**
   * Runs `f` with the model to itself: after every call queued before it, and with later calls
   * (forward, generate, locateNonFinite, another exclusive) waiting until it settles. `f` calls
   * the model through `m`, never through the model's own async methods (they would wait for `f`:
   * a deadlock; awaited inside a callback of generate(), which holds the model this way for its whole
   * loop, they reject with ReentrantCallError instead).
   * `opts.signal`: when it aborts while the call waits for the calls before it, the call leaves the
   * queue and rejects at once with a DOMException named 'AbortError', `WHERE: aborted (REASON)` (WHERE being
   * `opts.where`, default 'exclusive'; the signal's reason as `cause`); `f` never runs. Once `f`
   * runs, checking the signal is up to `f`.
   * @throws DisposedError when the model was disposed before the call; calls made before dispose() still run.
   */
  exclusive<T>(f: (m: ExclusiveModel) => Promise<T>, opts: { signal?: AbortSignal; where?: string } = {}): Promise<T> {
    const { signal, where = 'exclusive' } = opts;
    return this.serial.run(() => f(this.inner), { signal, aborted: () => throwIfAborted(signal, where), call: where });
  }

  /** The transformer family from config.json's _class_name: 'wan' (WanTransformer3DModel), 'dit', 'latte'. */
  get family(): ModelConfig['family'] {
    return this.config.family;
  }

  /** Storage dtype of weights and activations on the GPU (LoadOptions.dtype; 'f32' unless 'f16' was asked). */
  get dtype(): DType {
    return this.weights.dtype;
  }

  /** Checks names, shapes and values of the inputs against the config, before any GPU work. */
  validate(inputs: ForwardInputs): { batch: number; latentShape: number[]; textShape?: number[] } {
    this.serial.check();
    return this.checkInputs(inputs);
  }

  /** validate() without the disposal check: for calls already queued (made before dispose()), which run. */
  private checkInputs(inputs: ForwardInputs): { batch: number; latentShape: number[]; textShape?: number[] } {
    const c = this.config;
    if (inputs === null || typeof inputs !== 'object') throw new InputError(`forward: inputs must be an object of named tensors, got ${shown(inputs)}`);
    const accepted = FORWARD_INPUTS[c.family];
    // the options' wording ("did you mean"); an input given as undefined is an absent one
    const given = Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== undefined));
    checkOptionNames(given, accepted, `forward for a ${c.family} model`, `{ ${accepted.join(', ')} }`, {}, 'input');
    const hs = inputs.hidden_states;
    const want5 = c.family !== 'dit';
    const rank = want5 ? 5 : 4;
    const layout = want5 ? '[B, C, F, H, W]' : '[B, C, H, W]';
    checkTensorData('hidden_states', hs, `${layout} latents`);
    if (hs.shape.length !== rank) throw new InputError(`hidden_states: expected ${layout} (${rank} dims), found [${hs.shape.join(',')}]`, { option: 'hidden_states' });
    const [B, C] = hs.shape as [number, number];
    if (C !== c.inChannels) throw new InputError(`hidden_states: expected ${c.inChannels} channels (config in_channels), found ${C}`, { option: 'hidden_states' });
    checkLatentGrid(c, 'hidden_states', hs.shape);
    const t: unknown = inputs.timestep;
    // Wan's and DiT's time embedding broadcasts a 1-element timestep over the batch in diffusers; Latte's adaLN-single does not
    const broadcast = c.family !== 'latte' && B > 1;
    const perItem = `one per batch item${broadcast ? ', or 1 for the whole batch' : ''}`;
    if (t !== undefined && !isList(t)) throw new InputError(`timestep: expected a list of ${B} values (${perItem}; numbers or bigint), got ${kindOf(t)}`, { option: 'timestep' });
    if (!t || (t.length !== B && !(broadcast && t.length === 1))) {
      const latte = c.family === 'latte' && B > 1 && t?.length === 1 ? ": Latte does not broadcast one timestep over the batch (diffusers' LatteTransformer3DModel fails on it)" : '';
      throw new InputError(`timestep: expected ${B} value${B === 1 ? '' : 's'} (${perItem}), found ${t?.length ?? 0}${latte}`, { option: 'timestep' });
    }
    for (let i = 0; i < t.length; i++) {
      const v = t[i];
      if (typeof v === 'bigint' || (typeof v === 'number' && Number.isFinite(v))) continue;
      throw new InputError(`timestep: value at index ${i} is not ${typeof v === 'number' ? 'finite' : 'a number'} (${shown(v)})`, { option: 'timestep' });
    }
    checkFinite('hidden_states', hs.data);
    checkF16Range('hidden_states', hs.data, this.dtype);
    let textShape: number[] | undefined;
    if (c.family === 'wan' || c.family === 'latte') {
      const e = inputs.encoder_hidden_states;
      const width = c.family === 'wan' ? c.textDim : c.captionChannels;
      const key = c.family === 'wan' ? 'text_dim' : 'caption_channels';
      checkTensorData('encoder_hidden_states', e, `[B, L, ${width}] text embeddings`);
      if (e.shape.length !== 3 || e.shape[0] !== B || e.shape[2] !== width) {
        throw new InputError(`encoder_hidden_states: expected [${B}, L, ${width}] (batch of hidden_states, config ${key}), found [${e.shape.join(',')}]`, { option: 'encoder_hidden_states' });
      }
      checkFinite('encoder_hidden_states', e.data);
      checkF16Range('encoder_hidden_states', e.data, this.dtype);
      textShape = e.shape;
    } else {
      const y = inputs.class_labels;
      if (y === undefined) throw new InputError(`class_labels: expected ${B} class ids, found 0`, { option: 'class_labels' });
      checkClassIds(y, B, c.numClasses, 'batch of hidden_states');
    }
    return { batch: B, latentShape: hs.shape, textShape };
  }

  private runner(latentShape: number[], textShape?: number[], reserve?: Reserve): Runner {
    const key = `${latentShape.join('x')}|${textShape?.join('x') ?? ''}`;
    const hit = this.runners.get(key);
    if (hit) {
      // recorded already (its buffers held): only what the caller adds beside it is new
      if (reserve && this.maxMemory !== undefined && this.gpuBytes + reserve.bytes > this.maxMemory) {
        throw new LimitError(`${runName(latentShape, textShape, this.dtype)} needs ${fmtBytes(this.gpuBytes + reserve.bytes)} on the GPU (held ${fmtBytes(this.gpuBytes)} + ${reserve.what} ${fmtBytes(reserve.bytes)}); above the budget of ${fmtBytes(this.maxMemory)} (maxMemory): use fewer frames, a smaller resolution or ${largerBudget(this.gpuBytes + reserve.bytes)}`);
      }
      // most recently used last (eviction takes the first)
      this.runners.delete(key);
      this.runners.set(key, hit);
      return hit;
    }
    // refused from the config and shapes alone, before any buffer of this run is allocated
    checkRunFits(this.config, latentShape, textShape, this.dtype, this.gpu.limits, { maxMemory: this.maxMemory, heldBytes: this.gpuBytes, f16: this.gpu.f16, ...(reserve ? { reserve } : {}) });
    const alloc = new Allocator(this.gpu);
    try {
      // scratch activations share buffers by liveness over the recorded plans (src/gpu/memory-plan.ts)
      const { plan, prepare, latents, timestep, text, textKeyFold, recordText, labels, out, memory } = recordForwardPooled(this.gpu, alloc, this.config, this.weights, latentShape, textShape, this.memory);
      const prepares = recordText && new Map([[textShape![1]!, prepare]]);
      const r: Runner = { key, plan, prepare, prepares, recordText, prepared: false, alloc, latents, timestep, text, textKeyFold, labels, out, memory };
      this.runners.set(key, r);
      this.evictRunners();
      return r;
    } catch (e) {
      alloc.destroyAll();
      throw e;
    }
  }

  /**
   * Records (once per shape) and returns the plan of one denoising step, for profiling: what
   * `forward` replays after the text-only part (the prepare plan: text embedder and cross-attention
   * K/V, run once per generation). That part is submitted here for `inputs`' text, so replaying the
   * returned plan computes the forward of `inputs`. Synchronous and not queued (profiling tools):
   * do not call it while a forward() or generate() of this model is in flight.
   */
  planFor(inputs: ForwardInputs): Plan {
    const v = this.validate(inputs);
    const r = this.runner(v.latentShape, v.textShape);
    this.writeInputs(r, inputs);
    // queue order puts it before any later submit of r.plan; no tuning (it runs once)
    if (!r.prepared && r.prepare.dispatches.length) {
      const enc = this.gpu.device.createCommandEncoder({ label: `${this.name} prepare` });
      r.prepare.encode(enc);
      this.gpu.device.queue.submit([enc.finish()]);
    }
    r.prepared = true;
    return r.plan;
  }

  private writeInputs(r: Runner, inputs: ForwardInputs): void {
    writeTensor(this.gpu, r.latents, inputs.hidden_states.data);
    const t = Float32Array.from(inputs.timestep as ArrayLike<number | bigint>, Number);
    // one timestep for the whole batch (checkInputs: Wan and DiT), broadcast as diffusers does
    writeTensor(this.gpu, r.timestep, t.length === r.timestep.size ? t : new Float32Array(r.timestep.size).fill(t[0]!));
    if (r.text) {
      const e = inputs.encoder_hidden_states!;
      writeTensor(this.gpu, r.text, e.data);
      if (r.textKeyFold) {
        // per item, the rows before its trailing run of equal rows (its zero padding); L: fold nothing
        const [B, L, W] = e.shape as [number, number, number];
        const fold = this.keyFold ? keyFoldLengths(e.data, B, L, W) : new Uint32Array(B).fill(L);
        const { tensor, stride } = r.textKeyFold;
        const table = new Uint32Array(tensor.size);
        for (let b = 0; b < B; b++) table[b * stride] = fold[b]!;
        this.gpu.device.queue.writeBuffer(tensor.buffer, tensor.offset ?? 0, table);
        r.plan.keyFoldWritten(tensor.buffer, tensor.offset ?? 0, table);   // profiles count the keys visited
        // the text-only work over the rows the cross-attention reads (keys 0..fold[b]), not all L padded rows
        r.prepare = this.textPrepare(r, textRowBucket(Math.max(...fold) + 1, L));
      }
      r.prepared = false;
    }
    if (r.labels) this.gpu.device.queue.writeBuffer(r.labels.buffer, r.labels.offset ?? 0, Uint32Array.from(inputs.class_labels!, Number));
  }

  /**
   * Wan: the runner's prepare plan over the first `rows` rows of each text item, recorded on first
   * use (same buffers as the L-row plan; each op one dispatch over the items' first rows, gemm/norm itemRows).
   */
  private textPrepare(r: Runner, rows: number): Plan {
    let p = r.prepares!.get(rows);
    if (!p) {
      p = new Plan(this.gpu, r.alloc);
      r.recordText!(p, rows);
      r.prepares!.set(rows, p);
    }
    return p;
  }

  /** Runs the runner's prepare plan when the text changed since it last ran. */
  private async prepareText(r: Runner, where: string): Promise<void> {
    if (r.prepared) return;
    if (r.prepare.dispatches.length) await r.prepare.run(`${where} (text and cross-attention K/V)`);
    r.prepared = true;
  }

  /**
   * For loops that keep their state on the GPU (src/sampler/generate.ts): validates `inputs`,
   * records the forward plan for their shapes (once), writes every input once, and returns the
   * plan with its input and output tensors. `prepare` (the text embedder and every block's
   * cross-attention K/V: what depends on the text alone) must run once before `plan` is first run
   * or encoded; then running or encoding `plan` computes `out` from what the input tensors hold;
   * the caller rewrites `hidden_states` / `timestep` between runs (the text stays). Not queued:
   * call it holding the model (exclusive(), as generate does). `reserve`: bytes the caller will
   * allocate beside the model (generate's sampler state), counted with the run in the maxMemory check.
   * @throws InputError (the inputs, as forward()), LimitError when the run, with `reserve`, does not fit the
   *   adapter or maxMemory (before allocating), TuneEnvError (a bad TESSERA_TUNE, read when a new shape is
   *   recorded), DisposedError (after dispose()).
   */
  resident(inputs: ForwardInputs, reserve?: Reserve): { plan: Plan; prepare: Plan; hidden_states: Tensor; timestep: Tensor; out: Tensor } {
    this.serial.check();
    return this.residentNow(inputs, reserve);
  }

  private residentNow(inputs: ForwardInputs, reserve?: Reserve): { plan: Plan; prepare: Plan; hidden_states: Tensor; timestep: Tensor; out: Tensor } {
    const v = this.checkInputs(inputs);
    const r = this.runner(v.latentShape, v.textShape, reserve);
    this.writeInputs(r, inputs);
    r.prepared = true; // the caller runs `prepare`
    return { plan: r.plan, prepare: r.prepare, hidden_states: r.latents, timestep: r.timestep, out: r.out };
  }

  /**
   * One forward pass, as diffusers' `model(hidden_states, timestep, encoder_hidden_states | class_labels)`.
   * Returns `sample` in diffusers' layout as f32: Wan/Latte [B, out_channels, F, H, W], DiT
   * [B, out_channels, H, W] (learned-sigma models keep all 2·C channels). The first call for a shape
   * records and compiles its plan (slow); later calls with that shape replay it.
   * @throws InputError (an input the family does not take, as `KEY: not an input of forward …; did you mean …?`; shapes, non-finite values, with dtype 'f16' values beyond ±65504, class ids out of range), LimitError (the
   *   run does not fit the adapter or `maxMemory`; before allocating), NumericsError (the output is
   *   non-finite: names the first layer that produced a non-finite value), GpuError (device lost,
   *   validation or out-of-memory, naming the dispatch), DisposedError (after dispose()), TuneEnvError (a bad
   *   TESSERA_TUNE / TESSERA_TUNE_MIN_FLOPS, at the first call of a shape). Calls
   *   on one model run one at a time, in call order (each waits for the one before).
   */
  forward(inputs: ForwardInputs): Promise<TensorData> {
    return this.exclusive(() => this.forwardNow(inputs), { where: 'forward' });
  }

  private async forwardNow(inputs: ForwardInputs): Promise<TensorData> {
    const v = this.checkInputs(inputs);
    const r = this.runner(v.latentShape, v.textShape);
    this.writeInputs(r, inputs);
    r.prepare.tuneBudget = r.plan.tuneBudget = this.tuneRoom();
    await this.prepareText(r, `${this.name} forward`);
    await r.plan.run(`${this.name} forward`);
    const data = await readTensor(this.gpu, r.out);
    const shape = this.config.family === 'dit' ? [r.out.shape[0]!, r.out.shape[1]!, r.out.shape[2]!, r.out.shape[3]!] : r.out.shape;
    return { data, shape };
  }

  /**
   * After a non-finite output: replays the forward pass on `inputs` one dispatch at a time and
   * names the first layer whose output is non-finite, e.g.
   * `layer blocks.1.ffn.net.0 (gemm[GELU], dispatch 37/52): value inf at flat index 12`. Null when the replay is finite.
   * Queued as forward() is.
   */
  locateNonFinite(inputs: ForwardInputs): Promise<string | null> {
    return this.exclusive(() => this.locateNow(inputs), { where: 'locateNonFinite' });
  }

  private async locateNow(inputs: ForwardInputs): Promise<string | null> {
    const v = this.checkInputs(inputs);
    const r = this.runner(v.latentShape, v.textShape);
    this.writeInputs(r, inputs);
    const pre = await r.prepare.firstNonFinite(`${this.name} forward (replay)`);
    r.prepared = true;
    if (pre) return `layer ${describeDispatch(r.prepare, pre.index)}: value ${pre.value} at flat index ${pre.flatIndex} of ${pre.dispatch.output!.label}`;
    const hit = await r.plan.firstNonFinite(`${this.name} forward (replay)`);
    if (!hit) return null;
    return `layer ${describeDispatch(r.plan, hit.index)}: value ${hit.value} at flat index ${hit.flatIndex} of ${hit.dispatch.output!.label}`;
  }

  /**
   * Drop every recorded plan and free its activations; the next call records afresh. Needed
   * after a kernel's source was edited live (setKernelSource + invalidateKernel): recorded
   * plans hold the old pipelines. Like every call, it waits for the calls running or queued on the
   * model (a forward, a generate loop: their plans stay theirs until they settle) and runs at once
   * when there are none; calls made after it record afresh. The promise resolves once the plans are
   * dropped (awaiting it is needed only to know when the memory is freed). Inside exclusive() or
   * inside a callback of another call on the same model (the onStep of a generate() running on it)
   * call it without await: the plans are dropped once that call settles. Awaited inside such a
   * callback it rejects with ReentrantCallError (it would wait for the call, which waits for it).
   * @throws DisposedError after dispose() (thrown at once, as Pipeline.resetPlans does).
   */
  resetPlans(): Promise<void> {
    return this.serial.whenIdle(() => this.dropPlans(), 'resetPlans');
  }

  private dropPlans(): void {
    for (const r of this.runners.values()) r.alloc.destroyAll();
    this.runners.clear();
  }

  /** Frees the least recently used recorded plans beyond `maxPlans`. */
  private evictRunners(): void {
    for (const [key, r] of this.runners) {
      if (this.runners.size <= Math.max(1, this.maxPlans)) break;
      r.alloc.destroyAll();
      this.runners.delete(key);
    }
  }

  /** The memory plan (from the dry run) of the recorded plan for these inputs' shapes; undefined without buffer sharing. */
  memoryPlanFor(inputs: ForwardInputs): MemoryPlan | undefined {
    const v = this.validate(inputs);
    return this.runner(v.latentShape, v.textShape).memory;
  }

  /**
   * GPU bytes maxMemory leaves now, for a plan's autotuning scratch (Plan.tuneBudget): the budget less
   * what the model holds (gpuBytes) and `otherBytes` held beside it (a sampler's state); undefined
   * without a budget.
   */
  tuneRoom(otherBytes = 0): number | undefined {
    return this.maxMemory === undefined ? undefined : this.maxMemory - this.gpuBytes - otherBytes;
  }

  /** Bytes held on the GPU: weights plus every recorded plan's activations. */
  get gpuBytes(): number {
    let n = this.weightAlloc.liveBytes;
    for (const r of this.runners.values()) n += r.alloc.liveBytes;
    return n;
  }

  /** The most bytes held on the GPU at once: the weights' and every recorded plan's allocator peaks, summed. */
  get peakBytes(): number {
    let n = this.weightAlloc.peakBytes;
    for (const r of this.runners.values()) n += r.alloc.peakBytes;
    return n;
  }

  /** One line for logs: family, layers, width (heads × head dim), dtype, weight bytes and the adapter, e.g. `wan 2 layers, dim 96 (4×24), f32, weights 1.2 MiB on …`. */
  describe(): string {
    const c = this.config;
    return `${c.family} ${plural(c.layers, 'layer')}, dim ${c.dim} (${c.heads}×${c.headDim}), ${this.dtype}, weights ${fmtBytes(this.weights.bytes)} on ${describeAdapter(this.gpu)}`;
  }

  /**
   * Frees the weights and every recorded plan's buffers, and the device when the model acquired
   * it. Every later call throws DisposedError; calls made before it (running or queued: a forward,
   * a generate loop) finish first, and the buffers are freed when they have settled.
   */
  dispose(): void {
    this.serial.dispose(() => {
      this.dropPlans();
      this.weightAlloc.destroyAll();
      if (this.ownsGpu) this.gpu.destroy();
    });
  }

  /** The same as dispose() (the name pipelines, VAEs and text encoders use); kept for existing callers. */
  destroy(): void {
    this.dispose();
  }
}

/** Refuses a NaN or ±Infinity in input tensor `name`'s values. @throws InputError naming `name` (also in `option`) and the flat index. */
export function checkFinite(name: string, a: Float32Array): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) throw new InputError(`${name}: value at flat index ${i} is not finite (${a[i]})`, { option: name });
  }
}

/**
 * For f16 storage, refuses an input tensor holding a value beyond ±65504 (on the GPU it would be
 * Infinity, and the error would blame the first layer that read it), before any GPU work; as
 * checkWeightValues does for weights. No-op for f32.
 * @throws InputError naming `name` (also in `option`), the value and its flat index.
 */
export function checkF16Range(name: string, a: Float32Array, dtype: DType): void {
  if (dtype !== 'f16') return;
  for (let i = 0; i < a.length; i++) {
    if (Math.abs(a[i]!) > 65504) throw new InputError(`${name}: value ${a[i]} at flat index ${i} is outside the f16 range (±65504): use dtype: 'f32'`, { option: name });
  }
}

/**
 * The latents' grid against the model: frames×height×width divisible by the patch size, Latte's
 * video_length, Wan's rope_max_seq_len. On the shape alone (no data), so forward's validate(), generate()
 * before it allocates the noise, and the memory estimate share it; `name` is the tensor or argument the
 * messages name (and InputError's `option`). `shape` has the family's rank ([B, C, F, H, W], a DiT [B, C, H, W]). @throws InputError.
 */
export function checkLatentGrid(c: ModelConfig, name: string, shape: readonly number[]): void {
  const video = c.family !== 'dit';
  const [pt, ph, pw] = patchDims(c);
  const [F, H, W] = (video ? shape.slice(2) : [1, ...shape.slice(2)]) as [number, number, number];
  if (F % pt || H % ph || W % pw) {
    // a DiT has no frames and one patch_size: say it in its own terms
    throw new InputError(video ? `${name}: frames×height×width ${F}×${H}×${W} must be divisible by the patch size ${pt}×${ph}×${pw}` : `${name}: height×width ${H}×${W} must be divisible by the patch size ${ph} (config patch_size)`, { option: name });
  }
  if (c.family === 'latte' && F > 1 && F !== c.videoLength) {
    throw new InputError(`${name}: Latte adds a temporal position embedding of video_length=${c.videoLength} frames; found ${F} frames (use ${c.videoLength} or 1)`, { option: name });
  }
  if (c.family === 'wan') checkRopeGrid(c, name, shape, [F, H, W]);
}

/**
 * Checks that `t` is a TensorData: `{ data: Float32Array, shape: number[] }`, shape of integers ≥ 1
 * whose product is data.length (the rank and sizes are the caller's to check).
 * @throws InputError naming `name` (also in `option`): missing (`what` says what it holds), not such an object, data of
 *   another type ("expected a Float32Array, got a Float64Array"), a bad shape, a count mismatch.
 */
export function checkTensorData(name: string, t: unknown, what: string): asserts t is TensorData {
  if (t === undefined || t === null) throw new InputError(`${name}: missing (${what})`, { option: name });
  const o = t as { data?: unknown; shape?: unknown };
  if (typeof t !== 'object' || ArrayBuffer.isView(t) || Array.isArray(t)) throw new InputError(`${name}: expected { data: Float32Array, shape: number[] } (${what}), got ${kindOf(t)}`, { option: name });
  if (!(o.data instanceof Float32Array)) throw new InputError(`${name}: expected data as a Float32Array, got ${o.data === undefined ? 'no data' : kindOf(o.data)}${ArrayBuffer.isView(o.data) || Array.isArray(o.data) ? ' (Float32Array.from converts it)' : ''}`, { option: name });
  const shape = o.shape;
  if (!Array.isArray(shape)) throw new InputError(`${name}: expected shape as a list of dims, got ${shape === undefined ? 'no shape' : kindOf(shape)}`, { option: name });
  if (shape.some((d) => !Number.isInteger(d) || d < 1)) throw new InputError(`${name}: every dim must be ≥ 1, found ${shown(shape)}`, { option: name });
  if (o.data.length !== shape.reduce((a: number, b: number) => a * b, 1)) throw new InputError(`${name}: ${o.data.length} values for shape [${shape.join(',')}], which needs ${shape.reduce((a: number, b: number) => a * b, 1)}`, { option: name });
}

/** A list input's values (timestep, class_labels): an array or typed array, else null. */
function isList(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

/**
 * Checks DiT class ids: `B` integers (numbers or bigint, e.g. a BigInt64Array as diffusers' int64
 * class_labels) in 0…numClasses (numClasses: the null class of guidance). Returns them as numbers.
 * `of` says where B comes from, for the count message.
 * @throws InputError naming class_labels (also in `option`) and the value and index at fault.
 */
export function checkClassIds(y: unknown, B: number, numClasses: number, of: string): number[] {
  if (!isList(y)) throw new InputError(`class_labels: expected a list of ${B} class ids (numbers or bigint), got ${kindOf(y)}`, { option: 'class_labels' });
  if (y.length !== B) throw new InputError(`class_labels: expected ${B} class ids (${of}), found ${y.length}`, { option: 'class_labels' });
  const ids: number[] = [];
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    const range = `expected 0…${numClasses} (${numClasses} = the null class used for guidance)`;
    if (typeof v !== 'number' && typeof v !== 'bigint') throw new InputError(`class_labels: value ${shown(v)} at index ${i} is not a number: ${range}`, { option: 'class_labels' });
    if (typeof v === 'number' && !Number.isInteger(v)) throw new InputError(`class_labels: value ${shown(v)} at index ${i} is not an integer: ${range}`, { option: 'class_labels' });
    if (v < 0 || v > numClasses) throw new InputError(`class_labels: value ${shown(v)} at index ${i} is out of range: ${range}`, { option: 'class_labels' });
    ids.push(Number(v));
  }
  return ids;
}

/**
 * Load a diffusers transformer folder (config.json + safetensors, sharded or not; F32/F16/BF16, F64 read rounded to f32):
 * `WanTransformer3DModel`, `DiTTransformer2DModel` or `LatteTransformer3DModel`.
 * `source`: a path or an http(s):// URL (Node), a URL (browser); URLs are read with HTTP range requests (httpFolder), or a FolderSource.
 * Weights are read and uploaded one tensor at a time.
 * @throws ModelFolderError (missing/invalid config.json, shard index), ConfigError (unsupported
 *   class or values), WeightError (missing/mis-shaped keys, extra keys unless `unexpectedKeys: 'warn'`, non-finite or out-of-f16-range
 *   values), LimitError (weights above `maxMemory` or a binding limit, before upload), InputError
 *   (a LoadOptions value of the wrong kind: dtype other than 'f32'/'f16', a maxMemory that is not
 *   a size, a non-string variant, a `gpu` that is not acquireGpu()'s object such as a GPUDevice (that goes in `device`), a `device` that is not a GPUDevice or is given with `gpu`;
 *   before anything is read), DtypeUnsupportedError (an InputError) for dtype 'f16' on an adapter without
 *   shader-f16 (before any upload), SafetensorsError (a corrupt shard), GpuUnavailableError (no adapter; in
 *   Node also when the `webgpu` package is missing), GpuError (the device lost during the upload), and
 *   whatever `preflight` throws (before any weight is read).
 */
export async function loadModel(source: string | FolderSource | ModelFolder, opts: LoadOptions = {}): Promise<DiffusionModel> {
  const { maxMemory } = checkLoadOptions(opts);
  // an already-aborted signal reads nothing (config.json and every shard header, over HTTP too, come next)
  throwIfAborted(opts.signal, `loadModel(${typeof source === 'string' ? source : source.name}), before reading its folder`);
  const folder: ModelFolder = isModelFolder(source) ? source : await openModelFolder(typeof source === 'string' ? await resolveString(source) : source, opts.variant !== undefined ? { variant: opts.variant } : undefined);
  try {
    throwIfAborted(opts.signal, `loadModel(${folder.name}), after reading its headers`);
    const config = parseConfig(folder.config, configPath(folder));
    checkKeyCount(folder.name, folder.tensors, config);
    const want = expectedKeys(config);
    const unused = checkKeys(folder.name, folder.tensors, want, opts.unexpectedKeys);
    if (unused.length) await warnLine(opts.onWarning, 'loadModel', unexpectedKeysLine(folder.name, unused));
    return await withLoadGpu(loadGpuOf(opts), async (gpu, owned) => {
      // Default f32 for every checkpoint, as diffusers (torch_dtype unset): an F16 file computed in f16
      // storage lands ~1e-3 off diffusers' output (field case variant-fp16), in f32 ~1e-6.
      const dtype: DType = opts.dtype ?? 'f32';
      checkDtypeOnAdapter(gpu, dtype);
      checkWeightsFit(config, dtype, gpu.limits, { maxMemory, f16: gpu.f16 });
      opts.preflight?.(config, gpu, dtype);
      const alloc = new Allocator(gpu);
      try {
        const weights = await uploadWeights(alloc, want, (k) => folder.readF32(k), dtype, opts.onProgress, (k) => tensorPath(folder, k), opts.signal && { signal: opts.signal, where: `loadModel(${folder.name})` });
        const model = new DiffusionModel(folder.name, config, gpu, weights, alloc, owned);
        model.maxMemory = maxMemory;
        return model;
      } catch (e) {
        alloc.destroyAll();
        throw e;
      }
    });
  } finally {
    if (!isModelFolder(source)) await folder.close();
  }
}

function isModelFolder(s: unknown): s is ModelFolder {
  return typeof s === 'object' && s !== null && 'tensors' in s && 'readF32' in s;
}
