// diffusers pipeline folders (model_index.json + one folder per component) and the pipeline call:
// text embeddings → denoising loop → VAE decode → frames in diffusers' output_type="np" layout.
// Browser-safe: folders come from a FolderSource (Node: the file system; browser: URLs or Files).
//
// Layout read (diffusers DiffusionPipeline.save_pretrained):
//   model_index.json           {"_class_name": "WanPipeline", "transformer": ["diffusers", "WanTransformer3DModel"], ...}
//   transformer/               config.json + diffusion_pytorch_model*.safetensors   (loadModel)
//   vae/                       config.json + weights                                (loadVae, src/vae)
//   scheduler/                 scheduler_config.json                                (src/sampler)
//   text_encoder/, tokenizer/  read by the text encoder (loadTextEncoder; Pipeline.textEncoder)
// A component saved as None is listed as [null, null] and is absent.
import type { Gpu } from '../gpu/device.js';
import { fmtBytes, type DType } from '../gpu/tensor.js';
import { describeOverflow, type Plan } from '../gpu/plan.js';
import { isObject, notValidJson, parsePythonJson, shownValue } from '../io/json.js';
import { folderFile, folderRoot, listedFiles, readTextAs, subFolder, type FolderSource } from '../io/source.js';
import { ModelFolderError, pipelineVariantHint, variantOf as fileVariant } from '../io/model-folder.js';
import { patchDims, type ModelConfig } from '../model/config.js';
import { closestName } from '../closest-name.js';
import { plural, pluralVerb } from '../plural.js';
import { checkDtypeOption, InputError, kindOf, loadModel, RopeLimitError, resolveFolder, shown, withLoadGpu, type DiffusionModel, type TensorData } from '../model/model.js';
import { ropeGrid } from '../model/wan.js';
import { checkDeviceOptions, loadGpuOf } from '../model/device-option.js';
import { componentKindOfText, componentWords, parentFolder } from '../io/component-kind.js';
import { checkSeeds, familyWarning, generateAs, negativeUnusedNote, resolveScheduler, type GenerateOptions } from '../sampler/generate.js';
import type { StepProgram } from '../sampler/program.js';
import { checkOptionNames, checkSignal, checkUnexpectedKeys, throwIfAborted, warnLine } from '../model/options.js';
import type { UnexpectedKeys } from '../model/weights.js';
export { closestOption } from '../model/options.js';
import { beyondAdapter, bindingLimit, estimateMemory, farOverBinding, largerBudget, LimitError, most, mostAsync } from '../model/memory.js';
import { Serial } from '../gpu/serial.js';
import { watchKernels, type KernelEvent } from '../gpu/kernel.js';
import { resolveSchedulerClass, SCHEDULER_CLASSES, SchedulerConfigError, schedulerFromConfig, type SchedulerClass, type SchedulerSpec, swapIgnoredNote } from '../sampler/config.js';
import { loadVae, type Vae } from '../vae/index.js';
import { DEFAULT_VAE_SCALE } from '../vae/config.js';
import { checkMaxSequenceLength, DEFAULT_MAX_SEQUENCE_LENGTH, loadTextEncoder, promptList, type PromptNote, type TextEncoderLoadOptions } from '../text/prompt-encoder.js';
import { parseUmt5Config } from '../text/config.js';
import { DEFAULT_RESIDENT_BYTES, planUmt5 } from '../text/memory.js';
import { TextEncoderError } from '../text/umt5.js';
import { postprocessSample } from '../video/frames.js';
import { randn } from '../random.js';
import { callHook, hookQueue, type Hook } from '../hook.js';

/** A pipeline folder that cannot be used; the message starts with the file at fault. */
export class PipelineError extends Error {
  override name = 'PipelineError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_PIPELINE';
}

/**
 * The pipeline classes tessera runs, with the components each needs and diffusers' `__call__` defaults that
 * Pipeline.generate (and the CLI's help) take from here: guidance_scale and num_inference_steps.
 */
export const PIPELINES = {
  WanPipeline: { family: 'wan', transformer: ['WanTransformer3DModel'], vae: ['AutoencoderKLWan'], guidance_scale: 5.0, num_inference_steps: 50 },
  LattePipeline: { family: 'latte', transformer: ['LatteTransformer3DModel'], vae: ['AutoencoderKL'], guidance_scale: 7.5, num_inference_steps: 50 },
  DiTPipeline: { family: 'dit', transformer: ['DiTTransformer2DModel', 'Transformer2DModel'], vae: ['AutoencoderKL'], guidance_scale: 4.0, num_inference_steps: 50 },
} as const satisfies Record<string, { family: ModelConfig['family']; transformer: readonly string[]; vae: readonly string[]; guidance_scale: number; num_inference_steps: number }>;
export type PipelineClass = keyof typeof PIPELINES;

/** One entry of model_index.json: `[library, class]`, or null for a component saved as None. */
export interface ComponentSpec {
  library: string;
  className: string;
}

/** model_index.json: the pipeline class, its components, and its other (config) keys. */
export interface ModelIndex {
  /** `_class_name`: the pipeline class, e.g. WanPipeline. */
  className: string;
  /** Each component folder (transformer, vae, scheduler, …) → its [library, class], null for one saved as None. */
  components: Map<string, ComponentSpec | null>;
  /** The keys that are not components: `_class_name`, `_diffusers_version` and any pipeline config value. */
  config: Record<string, unknown>;
}


function parseJsonObject(text: string, file: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = parsePythonJson(text); // Python's json writes Infinity/NaN (e.g. DPMSolver's lambda_min_clipped)
  } catch (e) {
    throw new PipelineError(`${file}: ${notValidJson(e)}`);
  }
  if (!isObject(v)) throw new PipelineError(`${file}: must be a JSON object`);
  return v;
}

// The component names of the pipelines tessera runs (and of those it refuses, e.g. Wan2.2's
// transformer_2): their entries must be components even when written otherwise. Other keys may be
// pipeline config of any JSON type (DiTPipeline's id2label object, WanPipeline's boundary_ratio).
const COMPONENT_KEYS = new Set(['transformer', 'transformer_2', 'vae', 'scheduler', 'text_encoder', 'tokenizer', 'image_encoder', 'image_processor']);

/** How many prompt notes (line and prompt) a Pipeline remembers as said: a note older than the last NOTED_KEPT is said again. */
const NOTED_KEPT = 1024;

/**
 * Parses model_index.json. A value that is a 2-element array is a component (`[lib, cls]`, or
 * `[null, null]` when saved as None), as is any value of a component name (transformer, vae,
 * scheduler, text_encoder, tokenizer, ...); other keys are pipeline config (`_diffusers_version`, ...).
 * @throws PipelineError naming `file` for invalid JSON, a non-object, a missing `_class_name`, or a malformed
 *   component entry (not [library, class] strings or [null, null]: diffusers fails unpacking it).
 */
export function parseModelIndex(text: string, file: string): ModelIndex {
  const raw = parseJsonObject(text, file);
  if (typeof raw['_class_name'] !== 'string') throw new PipelineError(`${file}: has no "_class_name" string (expected e.g. "WanPipeline")`);
  const components = new Map<string, ComponentSpec | null>();
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k.startsWith('_') || (!Array.isArray(v) && !COMPONENT_KEYS.has(k))) {
      config[k] = v;
      continue;
    }
    if (!Array.isArray(v) || v.length !== 2) throw new PipelineError(`${file}: ${shownValue(k)} must be [library, class] (or [null, null]), found ${shownValue(v)}`);
    const [lib, cls] = v as [unknown, unknown];
    if (lib === null && cls === null) components.set(k, null);
    else if (typeof lib === 'string' && typeof cls === 'string') components.set(k, { library: lib, className: cls });
    else throw new PipelineError(`${file}: ${shownValue(k)} must be [library, class] strings (or [null, null]), found ${shownValue(v)}`);
  }
  return { className: raw['_class_name'] as string, components, config };
}

export { subFolder };

/**
 * What generate() needs of a text encoder: WanPipeline's `_get_t5_prompt_embeds` for a list of
 * prompts, F32 [prompts, max_sequence_length, d_model]. The text encoder issue fills this slot.
 */
export interface PromptEncoder {
  /** `runPlan`: profiling hook (runs each recorded plan of the encode instead of `plan.run`; the prompts are encoded, not read from a cache). */
  encodePrompt(prompts: string[], opts: { max_sequence_length: number; runPlan?: (plan: Plan, where: string) => Promise<void> }): Promise<TensorData>;
  /** Throws LimitError, before any GPU work, when encoding these prompts cannot fit (the pipeline calls it with its other checks). */
  checkFits?(prompts: readonly string[], max_sequence_length: number): void;
  /** Notes (their lines for onWarning) on prompts taken as given: cut at max_sequence_length, or empty (Umt5TextEncoder.promptNotes). */
  promptNotes?(prompts: readonly string[], max_sequence_length: number, name: (i: number) => string): PromptNote[];
  /** Drops recorded plans and cached embeddings after a kernel's source changed (after the encodes running or queued). */
  resetPlans?(): void | Promise<void>;
  /** Bytes the encoder's host-memory caches (prompts, embedding rows) hold now, where it has them (Umt5TextEncoder). */
  readonly hostCacheBytes?: number;
  /** Frees the encoder (the pipeline's dispose() calls it). */
  dispose(): void;
}

/** Options of loadPipeline. */
export interface PipelineLoadOptions {
  /** A device from acquireGpu(); one is acquired and owned by the pipeline when neither this nor `device` is given. */
  gpu?: Gpu;
  /** A GPUDevice of the caller's own instead of `gpu`, as LoadOptions.device (loadModel's): every component loads onto it. */
  device?: GPUDevice;
  /** Storage dtype of the transformer (and VAE) weights and activations; default as loadModel. */
  dtype?: DType;
  /**
   * true: the dtype is not the caller's user's to choose (the CLI's pipeline demo takes no --dtype), so generate()'s
   * and checkGenerate()'s refusals of a run that does not fit suggest no other dtype. Default false: f32 weights on
   * an adapter with shader-f16 get `loading the pipeline with dtype 'f16' halves …` among the ways out.
   */
  fixedDtype?: boolean;
  /**
   * Load the VAE when the folder has one (default true); false: generate() returns latents only, and the
   * literal `{ vae: false }` types the result so (loadPipeline gives a Pipeline<false>: PipelineLatentOutput).
   */
  vae?: boolean;
  /**
   * GPU memory budget: bytes, or a size such as "2GiB" (as LoadOptions.maxMemory; InputError otherwise).
   * It holds EACH STAGE of generate() on its own, checked before any stage runs (LimitError naming the
   * stage, the figures and what to change): the denoising loop (the transformer's weights + activations +
   * workspace), the VAE decode (the VAE's weights + its peak activations: loadVae's maxMemory) and each
   * encode of the text encoder (its weights — streamed layer by layer unless they fit both this budget
   * and its 2 GiB default — + activations), unless `textEncoder` gives its own maxMemory. It does not
   * bound the whole run: the transformer's and the VAE's weights (and a resident text encoder's) stay on
   * the device through every stage, beside the running stage's memory.
   */
  maxMemory?: number | string;
  /**
   * Called before the transformer's weights are read (LoadOptions.preflight), with the VAE's factors (for pixel sizes:
   * latentShapeFor) and `fit`, what the Pipeline's own fit refusals may suggest: `fit.f16` whether they offer loading in
   * f16 (dtype f32, an adapter with shader-f16, no fixedDtype). A preflight that calls checkRunFits passes it on
   * (`{ ...fit, maxMemory }`), so that its refusal and the Pipeline's offer the same ways out.
   */
  preflight?: (config: ModelConfig, gpu: Gpu, dtype: DType, vaeScale: VaeScale, fit: { f16: boolean }) => void;
  /**
   * Load text_encoder/ + tokenizer/ (UMT5EncoderModel) when the folder lists them (default true),
   * so generate() takes `prompt`; false: give prompt_embeds. A text encoder tessera does not run (LattePipeline's
   * T5EncoderModel) is left unloaded by default, as `tessera generate --pipeline --inputs` does: the pipeline
   * loads, and generate() refuses a `prompt` (InputError asking for prompt_embeds); asking for it (`true`, or
   * its options) is a PipelineError from model_index.json alone. Its memory options: `{ maxMemory, stream }`
   * (the encoder streams layer by layer when its weights exceed maxMemory, default 2 GiB), and its prompt
   * cache's bounds in host memory `{ cacheSize, cacheBytes }` (default 64 prompts, 256 MiB; docs/TEXT.md).
   */
  textEncoder?: boolean | Pick<TextEncoderLoadOptions, 'maxMemory' | 'stream' | 'cacheSize' | 'cacheBytes'>;
  /**
   * Progress per component, `component` 'transformer', then 'vae' (unless `vae: false`), then 'text_encoder':
   * `done` of `total` weight tensors uploaded (a streamed text encoder also reports its layers, `done` of the
   * layer count, as each encode runs them). A promise it returns is awaited before the next tensor; one that
   * throws or rejects fails the load (`loadModel, KEY: onProgress failed: …`, or `loadVae, KEY: …`,
   * `loadTextEncoder, KEY: …`; its error as `cause`), as every tessera callback.
   */
  onProgress?: Hook<[component: string, done: number, total: number]>;
  /**
   * diffusers' weight variant (`variant="fp16"`), for every component: transformer/ and vae/ read
   * `diffusion_pytorch_model.<variant>.safetensors` (or its index), text_encoder/ `model.<variant>.safetensors`
   * (or `model.safetensors.index.<variant>.json`). A component without that variant loads its default
   * weights, as diffusers; none having it is refused (PipelineError naming the folders).
   */
  variant?: string;
  /**
   * Where the pipeline's warning lines go (default console.warn): the scheduler config read as another class
   * at load, a component's unexpected tensors (`unexpectedKeys: 'warn'`), a VAE's ignored shift_factor, and a
   * generate() `scheduler` that ignores keys of the folder's config (once per class); generate()'s notes on a
   * prompt cut at max_sequence_length or empty (once per Pipeline, prompt and line) and on an unused negative
   * prompt (each call that gives one). A promise
   * it returns is awaited (at load, before any weight is read; in generate(), before the call's work); one that
   * throws or rejects fails that call (`loadPipeline: onWarning failed: …`, in generate()
   * `Pipeline.generate: onWarning failed: …`).
   */
  onWarning?: Hook<[line: string]>;
  /**
   * Cancels the load: checked before the folder is read (an aborted signal reads no file), before each
   * component (transformer, VAE, text encoder) and inside each component's load before each weight tensor
   * (LoadOptions.signal, LoadVaeOptions.signal, TextEncoderLoadOptions.signal: a streamed text encoder reads
   * its layers in each encode, not at load). An aborted load rejects with a DOMException named 'AbortError'
   * naming what was being loaded, `loadPipeline(DIR), before the vae: aborted (REASON)` or
   * `loadModel(DIR/transformer), before KEY (I/N): aborted (REASON)` (`loadVae(DIR/vae), …`,
   * `loadTextEncoder(DIR/text_encoder), …`), the signal's reason as `cause`, and frees
   * every component it loaded.
   * Not an AbortSignal: InputError.
   */
  signal?: AbortSignal;
  /**
   * Tensors of a component's checkpoint (transformer, VAE decoder, text encoder) that it has no place for
   * (diffusers' `unexpected_keys`): 'error' (the default) refuses the load (WeightError naming them); 'warn'
   * loads without them and reports one line per component through `onWarning` (`warning: DIR/transformer:
   * N tensors of the checkpoint not used by the model, ignored (unexpectedKeys: 'warn'): KEY, …`), as
   * diffusers warns and goes on. Missing tensors are an error either way (LoadOptions.unexpectedKeys).
   */
  unexpectedKeys?: UnexpectedKeys;
}

/**
 * DiTPipeline's label map: each comma-separated name of id2label's entries, trimmed, → the entry's id.
 * @throws PipelineError naming `file` when id2label is missing or not an object of integer ids → strings.
 */
function labelIds(id2label: unknown, file: string): Map<string, number> {
  if (id2label === undefined || id2label === null) throw new PipelineError(`get_label_ids: ${file} has no id2label (the ImageNet class names, as facebook/DiT-XL-2-256's model_index.json holds them); give generate() class_labels as ids instead`);
  if (typeof id2label !== 'object' || Array.isArray(id2label)) throw new PipelineError(`${file}: id2label must be an object of class ids → label names, found ${shown(id2label)}`);
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(id2label)) {
    const id = Number(k);
    if (!/^\d+$/.test(k) || !Number.isSafeInteger(id)) throw new PipelineError(`${file}: id2label key ${JSON.stringify(k)} is not a class id (a whole number)`);
    if (typeof v !== 'string') throw new PipelineError(`${file}: id2label ${JSON.stringify(k)} must be a string of label names, found ${shown(v)}`);
    for (const name of v.split(',')) out.set(name.trim(), id);
  }
  return out;
}

/** Up to three label names near `label`: closestName's pick, then names holding it (or held by it), ignoring case. */
function closestLabels(label: string, names: readonly string[]): string[] {
  const l = label.trim().toLowerCase();
  const near = new Set<string>();
  const best = closestName(label, names);
  if (best) near.add(best);
  for (const n of names) {
    if (near.size >= 3) break;
    const m = n.toLowerCase();
    if (l && (m === l || m.includes(l) || l.includes(m))) near.add(n);
  }
  return [...near].slice(0, 3);
}

/**
 * Whether `folder` holds weights of `variant` (single file or index, as openModelFolder names them).
 * `base`: `diffusion_pytorch_model` (diffusers) or `model` (transformers).
 */
async function hasVariant(folder: FolderSource, base: string, variant: string): Promise<boolean> {
  const names = [`${base}.${variant}.safetensors`, `${base}.safetensors.index.${variant}.json`, `${base}.${variant}.safetensors.index.json`];
  // a listing answers without requests; otherwise the single file is asked first (the common case: no failed request)
  const listed = await listedFiles(folder);
  if (listed) return names.some((n) => listed.includes(n));
  try {
    const src = await folder.open(names[0]!);
    await src.close?.();
    return true;
  } catch {
    // not there: an index, then
  }
  for (const idx of names.slice(1)) {
    if ((await folder.readText(idx).catch(() => null)) !== null) return true;
  }
  return false;
}

/**
 * diffusers' pipeline call arguments (names as diffusers' WanPipeline/LattePipeline/DiTPipeline `__call__`).
 * Any other key is refused (InputError naming the closest option), as are the options of another class
 * (class_labels for Wan/Latte; prompt, prompt_embeds, num_frames... for DiT).
 */
export interface PipelineGenerateOptions {
  /** Text prompt(s): a string, or a non-empty list of strings (one per batch item; InputError otherwise). Needs the pipeline's text encoder (`textEncoder`). Or give `prompt_embeds`. */
  prompt?: string | string[];
  /**
   * Negative prompt(s) for CFG (guidance_scale > 1): one string for every item, or one per prompt; default ""
   * as WanPipeline. Needs the text encoder; not with negative_prompt_embeds (InputError). With guidance_scale ≤ 1
   * it is not read: one note through loadPipeline's onWarning (else console.warn) says so, as for negative_prompt_embeds.
   */
  negative_prompt?: string | string[];
  /** [B, L, dim] text embeddings (Wan: UMT5 `prompt_embeds`, zero-padded), F32. */
  prompt_embeds?: TensorData;
  /** [B, L', dim] (the batch and width of prompt_embeds, any length L'). When guidance_scale > 1 and it is not given, negative_prompt (default "") is encoded, as WanPipeline does; with guidance_scale ≤ 1 it is not read (one note: `note: negative_prompt_embeds unused: guidance_scale 1 ≤ 1 disables classifier-free guidance (as diffusers' do_classifier_free_guidance, guidance_scale > 1); give guidance_scale > 1 to use them`). */
  negative_prompt_embeds?: TensorData;
  /**
   * DiT: [B] ImageNet class ids in 0…num_class_embeds (that value: the null class of guidance), as numbers
   * or bigint: an array or a typed array (a BigInt64Array holds diffusers' int64 labels). InputError otherwise.
   */
  class_labels?: ArrayLike<number | bigint>;
  /**
   * Initial noise [B, C, F, h, w] (Wan/Latte) or [B, C, h, w] (DiT) in latent units, F32; or `seed` + sizes.
   * Not with `seed` (InputError); height / width / num_frames given too must be the sizes these latents
   * decode to (h × VAE factor, ...), else InputError naming both.
   */
  latents?: TensorData;
  /**
   * Seed of tessera's own Gaussian noise (src/random.ts; not torch's generator). A list: one seed per
   * batch item (as diffusers takes a list of generators): item b starts from the noise a run of that
   * prompt alone at seed[b] starts from. One number: the noise of the whole batch at that seed.
   * Each seed is an integer in 0..2^32 − 1 (4294967295; the generator's state is 32 bits); anything else is
   * refused (InputError naming `seed` or `seed[b]`) before any GPU work. Default 0 (without `latents`): every
   * call without a seed starts from the same noise, where diffusers draws fresh noise; the command line's
   * `tessera generate --pipeline DIR` has no default and asks for `--seed N` (or `--inputs` with latents) instead.
   */
  seed?: number | number[];
  /**
   * Output size in PIXELS, as diffusers takes it: the latent is height / spatial factor. Wan and Latte:
   * required with `seed` (no default: diffusers' 480×832 would not suit every checkpoint; the embedded
   * pipeline's are in EMBEDDED_DEFAULTS); with `latents`, optional and checked against them. DiT: default
   * sample_size latents, as DiTPipeline. InputError when missing, not a positive integer or not a
   * multiple of the spatial factor × patch size.
   */
  height?: number;
  /** Output width in pixels: as height. */
  width?: number;
  /**
   * Output frames (Wan: 4k+1, latent frames (num_frames − 1)/4 + 1; Latte: latent frames = num_frames).
   * Required with `seed` for Wan and Latte, as height and width; not an option of DiT.
   */
  num_frames?: number;
  /** Default 50, as diffusers (PIPELINES[class].num_inference_steps). */
  num_inference_steps?: number;
  /** CFG scale, on when > 1; default the pipeline class's, as diffusers (PIPELINES[class].guidance_scale: Wan 5.0, Latte 7.5, DiT 4.0). */
  guidance_scale?: number;
  /** Text length for prompt encoding (WanPipeline default 512). A prompt longer is cut, as diffusers cuts it, with a note through onWarning (once per Pipeline and prompt). */
  max_sequence_length?: number;
  /** "np": decode and return frames (default when there is a VAE); "latent": stop at the latents. */
  output_type?: 'np' | 'latent';
  /**
   * The scheduler to sample with instead of the folder's, as diffusers' `pipe.scheduler =
   * X.from_config(pipe.scheduler.config)`: a class name (FlowMatchEulerDiscreteScheduler, DDIMScheduler,
   * UniPCMultistepScheduler, DPMSolverMultistepScheduler; any case) or a short name (flow-match-euler,
   * ddim, unipc, dpm-solver, dpmpp), the names generate() takes. Built from the folder's
   * scheduler_config.json: the values X defines are kept, the rest of X's arguments keep X's defaults, and
   * the keys X does not define are ignored with one warning line (loadPipeline's onWarning, else console.warn;
   * the first call with X only). Default: the folder's scheduler (`pipe.scheduler`). An unknown name or a non-string is an
   * InputError listing the accepted names; a kept value X cannot take is a SchedulerConfigError naming
   * the file; both before any GPU work.
   */
  scheduler?: string;
  /** tessera's own: flow-match shift overriding the scheduler config. */
  shift?: number;
  /**
   * tessera's own: after each denoising step. Every callback of the call (onStep, onStage, onDecodeProgress,
   * onKernels) may return a promise: the call awaits it before it goes on (the next step, stage or frame;
   * onKernels' before the stage ends), and one that throws or rejects fails the call with an Error naming the
   * callback and where (`Pipeline.generate, step 2/4: onStep failed: …`, its error as `cause`). A call on this
   * pipeline (or its components) awaited inside a callback would wait for this call: it rejects at once with
   * ReentrantCallError (in browsers only when called before the callback's first await); called there without
   * await, it runs after this call.
   */
  onStep?: Hook<[step: number, steps: number, timestep: number]>;
  /**
   * tessera's own: each denoising step's kernels, timed: after each step (before onStep), a ProfileRun of the
   * dispatches the step ran (step 1: the text and cross-attention K/V too), as generate()'s onStepProfile
   * (GenerateOptions.onStepProfile says how they are timed and what it costs). Unset (the default): nothing of
   * it is recorded. Awaited as onStep is; not a function: InputError.
   */
  onStepProfile?: GenerateOptions['onStepProfile'];
  /**
   * tessera's own: progress inside a long denoising step, as generate()'s onBlock (GenerateOptions.onBlock): `block`
   * of `blocks` transformer blocks of step `step` (1-based, the step under way) done on the device, in step 1 and in
   * each step after one that took at least 1 s; those steps are submitted one
   * command buffer per block (the same result). Unset: nothing changes. Awaited as onStep is; not a function: InputError.
   */
  onBlock?: GenerateOptions['onBlock'];
  /** tessera's own: when a stage starts ('text', 'denoise', 'decode'); awaited before the stage's work. */
  onStage?: Hook<[stage: PipelineStage]>;
  /**
   * tessera's own: in the 'decode' stage, after each decoded frame: `done` of `total` (every output frame of
   * every batch item; DiT: images), as Vae.decode's onProgress. Not a function: InputError. A listener that
   * throws fails the call.
   */
  onDecodeProgress?: Hook<[done: number, total: number]>;
  /**
   * tessera's own: progress inside the decode's passes, as Vae.decode's onBlock (DecodeOptions.onBlock: a Wan decode's
   * passes are its latent frames, the first giving 1 output frame and each later one 4; pass `pass` of `passes` begins
   * with `part` 0, then `part` of `parts` done, the last part after its frames were read back and given to
   * onDecodeProgress). Not a function:
   * InputError. A listener that throws fails the call.
   */
  onDecodeBlock?: Hook<[pass: number, passes: number, part: number, parts: number]>;
  /**
   * tessera's own: the kernel work of this call, as it happens: compute pipelines compiling (`compile`, done /
   * total) and autotuning timing candidate kernels (`tune`: the op family, shape bucket and candidates, done /
   * total buckets), each with the `stage` it belongs to (PipelineKernelEvent; KernelEvent says when each
   * fires). Only a call that meets new shapes (the first on a loaded pipeline, or a new size or batch) has such
   * work: on a CPU adapter tens of seconds, inside 'text', before the first onStep of 'denoise', and in
   * 'decode', during which no other hook fires. A call whose kernels are compiled and whose shapes are in the
   * tuning cache (or with tuning off: TESSERA_TUNE=off) gets no event. Events of the pipeline's device while
   * the call runs: work that another object (a second pipeline or model on the same device) does meanwhile is
   * reported too. Not a function: InputError. A listener that throws fails the call.
   */
  onKernels?: Hook<[event: PipelineKernelEvent]>;
  /**
   * tessera's own: cancels the call. Checked before each stage and after its onStage hook, between the text encoder's prompt and
   * negative prompt, between denoising steps, and inside the VAE decode before each of its pieces (per
   * latent frame: mid block, each up block and upsampler, conv_out; DecodeOptions.signal), so an abort
   * waits for the step, encode or decode piece under way, not for the whole stage.
   * An aborted call rejects with a DOMException named 'AbortError' whose message names where it stopped,
   * `Pipeline.generate, before step I/N: aborted (REASON)` (or another stage, `…, before the text encoder: …`; in the
   * decode, `Pipeline.generate, in the VAE decode (after frame I/N): …` or `(before its first frame)`),
   * the signal's reason as `cause` (`controller.abort()`'s own AbortError, REASON 'This operation was aborted'); the call's GPU buffers are freed, the
   * pipeline stays usable and the next call gives what it would have given. Aborted before it starts
   * (queued behind another call, too): rejects at once, without waiting for the calls ahead, and never runs.
   */
  signal?: AbortSignal;
}

/** A stage of Pipeline.generate (onStage): the text encoder, the denoising loop, the VAE decode. */
export type PipelineStage = 'text' | 'denoise' | 'decode';

/** What Pipeline.generate's `onKernels` gets: a KernelEvent (kernel compilation or autotuning) and the stage it happened in. */
export type PipelineKernelEvent = KernelEvent & { stage: PipelineStage };

// Every option of Pipeline.generate and loadPipeline (a Record over the interface's keys, so a new option must be
// listed here): any other key is refused, as a misspelt or camelCase name would otherwise be ignored silently.
const GENERATE_OPTIONS: Record<keyof PipelineGenerateOptions, true> = {
  prompt: true, negative_prompt: true, prompt_embeds: true, negative_prompt_embeds: true, class_labels: true, latents: true, seed: true,
  height: true, width: true, num_frames: true, num_inference_steps: true, guidance_scale: true, max_sequence_length: true,
  output_type: true, scheduler: true, shift: true, onStep: true, onStepProfile: true, onBlock: true, onStage: true, onDecodeProgress: true, onDecodeBlock: true, onKernels: true, signal: true,
};
/** loadPipeline's options people pass to generate() instead. */
const LOAD_ONLY = { dtype: 'loadPipeline', maxMemory: 'loadPipeline', variant: 'loadPipeline', gpu: 'loadPipeline', device: 'loadPipeline' };

/** Whether a fit refusal suggests loading in f16: weights in f32, an adapter that stores f16, and a caller who may choose (not fixedDtype). The Pipeline's refusals and loadPipeline's preflight `fit` read it. */
const canHalve = (dtype: DType, gpu: Pick<Gpu, 'f16'>, fixedDtype: boolean): boolean => dtype === 'f32' && gpu.f16 && !fixedDtype;

const LOAD_OPTIONS: Record<keyof PipelineLoadOptions, true> = { gpu: true, device: true, dtype: true, vae: true, maxMemory: true, preflight: true, textEncoder: true, onProgress: true, variant: true, onWarning: true, signal: true, unexpectedKeys: true, fixedDtype: true };

/** What the size errors of latentShapeFor call each size: diffusers' argument names by default; the CLI passes its flags. */
export interface SizeNames {
  height: string;
  width: string;
  num_frames: string;
}

/** How the caller gave a run's size: `latents` (a tensor) or pixel sizes, and what its batch items are (prompts, class labels). */
export interface SizeAsked {
  latents: boolean;
  items: string;
}

/**
 * How the fit refusals speak of a run over latents `shape`: its dims and patch, output frames of F latent
 * frames, pixel sizes, the size as the caller asked for it (pixels, or latents), and `scaled(n)`: latent
 * [h, w] of the same aspect ratio with n patches along the longer side. `asked.items`: what the batch counts.
 */
function sizeTerms(c: ModelConfig, vaeScale: VaeScale, shape: number[], asked: SizeAsked) {
  const video = shape.length === 5;
  const { spatial } = vaeScale;
  const [pt, ph, pw] = patchDims(c);
  const [B, C] = shape as [number, number];
  const [F, H, W] = (video ? shape.slice(2) : [1, ...shape.slice(2)]) as [number, number, number];
  const frames = (f: number) => decodedFrames(c.family, vaeScale, f);
  const hw = (h: number, w: number) => `height×width ${h * spatial}×${w * spatial}`;
  const size = asked.latents ? `latents [${shape.join(',')}]` : `${B > 1 ? `${B} ${asked.items} at ` : ''}${hw(H, W)}${video ? ` × ${plural(frames(F), 'frame')}` : ''} (latents [${shape.join(',')}])`;
  const [rows, cols] = [H / ph, W / pw];
  const scaled = (n: number): [number, number] => (rows >= cols ? [n * ph, Math.max(1, Math.round((n * cols) / rows)) * pw] : [Math.max(1, Math.round((n * rows) / cols)) * ph, n * pw]);
  return { c, video, pt, ph, pw, B, C, F, H, W, frames, hw, size, scaled };
}

/**
 * Refuses (RopeLimitError, an InputError), before any stage, a Wan run whose latents `shape` give a grid after patching longer
 * than transformer/config.json's rope_max_seq_len R on an axis (diffusers' WanRotaryPosEmbed has R positions
 * per axis), naming the size as the caller gave it and what fits in those terms: the most frames (latent
 * frames ≤ R × patch) or height/width in pixels, or the largest latents. Pipeline.generate's check, exported so
 * that a caller may refuse a size before loading the pipeline (the CLI's demo, from config.json and the VAE factors).
 */
export function checkRopeSize(c: ModelConfig, vaeScale: VaeScale, shape: number[], asked: SizeAsked): void {
  if (c.family !== 'wan' || shape.length !== 5) return;
  const { grid, over } = ropeGrid(c, shape.slice(2));
  if (!over.length) return;
  const { pt, ph, pw, frames, size } = sizeTerms(c, vaeScale, shape, asked);
  const R = c.ropeMaxSeqLen;
  const { spatial, temporal } = vaeScale;
  const most = {
    frames: `at most ${frames(R * pt)} frames (latent frames (frames − 1)/${temporal} + 1 ≤ ${R * pt})`,
    height: `a height of at most ${R * ph * spatial} pixels`,
    width: `a width of at most ${R * pw * spatial} pixels`,
  };
  const way = asked.latents ? `latents of at most ${R * pt}×${R * ph}×${R * pw} latent frames×height×width` : over.map((a) => most[a]).join(' and ');
  throw new RopeLimitError(
    `${size} gives a grid of ${grid.join('×')} (latent frames×height×width after patch_size ${c.patch.join('×')}), beyond transformer/config.json's ` +
      `rope_max_seq_len ${R} in ${over.join(' and ')}: the 3-D RoPE has ${R} positions per axis (diffusers' WanRotaryPosEmbed); ` +
      `use ${way}, or raise rope_max_seq_len in transformer/config.json`,
    over,
    asked.latents ? 'latents' : over[0] === 'frames' ? 'num_frames' : over[0],
  );
}

/**
 * The latent shape [B, C, F, h, w] (DiT [B, C, h, w]) of a seeded run of `batch` items at output sizes in
 * pixels and frames (diffusers' prepare_latents), for a transformer config and its pipeline's VAE factors.
 * @throws InputError naming the size (`names`) and what it must be: a positive integer, height and width each a
 *   multiple of VAE factor × patch, num_frames temporal·k + 1 (diffusers rounds down silently; tessera refuses).
 */
export function latentShapeFor(c: ModelConfig, scale: VaeScale, batch: number, o: { height?: number; width?: number; num_frames?: number }, names: SizeNames = { height: 'height', width: 'width', num_frames: 'num_frames' }): number[] {
  const { spatial, temporal } = scale;
  const [ph, pw] = c.family === 'wan' ? [c.patch[1], c.patch[2]] : [c.patch, c.patch];
  const need = (k: keyof SizeNames, v: number | undefined) => {
    if (v === undefined) throw new InputError(`${names[k]}: needed with seed (output size in pixels), or give latents`, { option: k });
    if (!Number.isInteger(v) || v < 1) throw new InputError(`${names[k]}: must be a positive integer, got ${shown(v)}`, { option: k });
    return v;
  };
  // DiTPipeline takes no size: its latents are transformer.config.sample_size square
  if (c.family === 'dit' && o.height === undefined && o.width === undefined) return [batch, c.inChannels, c.sampleSize, c.sampleSize];
  const h = need('height', o.height);
  const w = need('width', o.width);
  for (const [k, v, p] of [['height', h, ph], ['width', w, pw]] as const) {
    const m = spatial * p;
    if (v % m !== 0) {
      const lo = Math.floor(v / m) * m;
      throw new InputError(`${names[k]} ${v}: must be a multiple of ${m} (VAE factor ${spatial} × patch ${p}), such as ${lo + m}${lo > 0 ? ` or ${lo}` : ''}`, { option: k });
    }
  }
  const hw = [h / spatial, w / spatial];
  if (c.family === 'dit') return [batch, c.inChannels, ...hw];
  const f = need('num_frames', o.num_frames);
  if ((f - 1) % temporal !== 0) {
    // the two nearest valid counts, nearer first
    const lo = Math.floor((f - 1) / temporal) * temporal + 1;
    const hi = lo + temporal;
    const [a, b] = hi - f <= f - lo ? [hi, lo] : [lo, hi];
    throw new InputError(`${names.num_frames} ${f}: must be ${temporal}k + 1 (VAE temporal factor ${temporal}), such as ${a} or ${b}`, { option: 'num_frames' });
  }
  // Latte's temporal position embedding has video_length frames (the transformer refuses others, naming its hidden_states)
  if (c.family === 'latte' && f > 1 && f !== c.videoLength) throw new InputError(`${names.num_frames} ${f}: the Latte transformer's temporal position embedding has video_length ${c.videoLength} frames; use ${c.videoLength} or 1`, { option: 'num_frames' });
  return [batch, c.inChannels, (f - 1) / temporal + 1, ...hw];
}

/** What checkLatentsForTransformer's refusals name (InputError.option). */
const LATENTS = { option: 'latents' };

/**
 * Latents of `shape` (positive integer dims) against a transformer config alone, no weight read and no GPU: the
 * family's rank, in_channels, the batch when `batch` is given (its size and what it counts, e.g. 'prompts'),
 * frames×height×width multiples of the patch, and Latte's video_length. Pipeline.generate's check of the latents it
 * is given, and the CLI's for an inputs file's latents (from its header) before the pipeline loads.
 * @throws InputError naming `latents`, its shape and what the config expects.
 */
export function checkLatentsForTransformer(c: ModelConfig, shape: number[], batch?: { size: number; items: string }): void {
  const rank = c.family === 'dit' ? 4 : 5;
  if (shape.length !== rank) throw new InputError(`latents: expected ${rank === 5 ? '[B, C, F, H, W]' : '[B, C, H, W]'} (${rank} dims) for a ${c.family} model, found [${shape.join(',')}]`, LATENTS);
  if (shape[1] !== c.inChannels) throw new InputError(`latents: expected ${c.inChannels} channels (transformer config in_channels), found ${shape[1]} in [${shape.join(',')}]`, LATENTS);
  if (batch && shape[0] !== batch.size) throw new InputError(`latents: a batch of ${shape[0]} in [${shape.join(',')}] for ${batch.size} ${batch.size === 1 ? batch.items.replace(/s$/, '') : batch.items}`, LATENTS);
  const [pt, ph, pw] = patchDims(c);
  const [F, H, W] = (rank === 5 ? shape.slice(2) : [1, ...shape.slice(2)]) as [number, number, number];
  if (F % pt || H % ph || W % pw) {
    throw new InputError(rank === 5
      ? `latents [${shape.join(',')}]: frames×height×width ${F}×${H}×${W} must be multiples of the transformer's patch ${pt}×${ph}×${pw}`
      : `latents [${shape.join(',')}]: height×width ${H}×${W} must be multiples of the transformer's patch ${ph}×${pw}`, LATENTS);
  }
  if (c.family === 'latte' && F > 1 && F !== c.videoLength) throw new InputError(`latents [${shape.join(',')}]: ${F} frames; the Latte transformer's temporal position embedding has video_length ${c.videoLength} (use ${c.videoLength} or 1)`, LATENTS);
}

/**
 * Text embeddings' shapes against a Wan or Latte transformer config (Pipeline.generate's check, exported so that a
 * caller may refuse them before loading the pipeline: the CLI, from an inputs file's header): `pos` prompt_embeds
 * [B, L, text_dim / caption_channels]; with `neg`, negative_prompt_embeds of the same batch and width, any length (WanPipeline
 * runs cond and uncond as separate transformer calls). `batchOf`: what gives the batch when prompts do (`2 prompt(s)`;
 * `pos` is then [prompts, L, width] and not checked). @throws InputError naming the tensor, its shape and the one expected.
 */
export function checkTextEmbedsForTransformer(c: ModelConfig, pos: number[], neg?: number[], batchOf?: string): void {
  const [width, key] = c.family === 'wan' ? [c.textDim, 'text_dim'] : [(c as { captionChannels: number }).captionChannels, 'caption_channels'];
  if (batchOf === undefined && (pos.length !== 3 || pos[2] !== width)) throw new InputError(`prompt_embeds: expected [B, L, ${width}] (B prompts, L tokens, the transformer's ${key} ${width}), found [${pos.join(',')}]`, { option: 'prompt_embeds' });
  if (neg && (neg.length !== 3 || neg[0] !== pos[0] || neg[2] !== width)) {
    throw new InputError(`negative_prompt_embeds: expected [${pos[0]}, L', ${width}] (the batch and width of ${batchOf ?? `prompt_embeds [${pos.join(',')}]`}; any length L'), found [${neg.join(',')}]`, { option: 'negative_prompt_embeds' });
  }
}

/** What generate() returns, as diffusers' pipelines with output_type="np". */
export interface PipelineOutput {
  /** Final latents, before the VAE's scaling (what output_type="latent" returns). */
  latents: TensorData;
  /** Wan/Latte: F32 [B, F, H, W, 3] in [0, 1] (VideoProcessor.postprocess_video). */
  video?: TensorData;
  /** DiT: F32 [B, H, W, 3] in [0, 1] (DiTPipeline). */
  images?: TensorData;
  /** The timestep of each denoising step, in order, on the training scale (GenerateResult.timesteps). */
  timesteps: number[];
}

/**
 * What generate() returns for a Wan/Latte call that decodes (output_type "np", or none): `video` is set. The
 * type assumes the VAE is loaded (loadPipeline's default). loadPipeline(…, { vae: false }) gives a Pipeline<false>,
 * whose calls are typed PipelineLatentOutput (it refuses output_type "np": InputError); a folder without a VAE
 * component returns latents only for a call without output_type, which the type cannot tell (check `pipe.vae`).
 */
export type PipelineVideoOutput = PipelineOutput & { video: TensorData };

/** What generate() returns for a DiT call (class_labels) that decodes: `images` is set, no video. */
export type PipelineImageOutput = Omit<PipelineOutput, 'video' | 'images'> & { images: TensorData; video?: undefined };

/** What generate() returns with output_type "latent": the latents and timesteps, no frames. */
export type PipelineLatentOutput = Omit<PipelineOutput, 'video' | 'images'> & { video?: undefined; images?: undefined };

/** The VAE's frame/pixel factors, from vae/config.json (WanPipeline, LattePipeline's vae_scale_factor). */
export interface VaeScale {
  spatial: number;
  temporal: number;
}

/**
 * The frames a pipeline's VAE decodes `latentFrames` latent frames into: Wan's causal VAE (F − 1)·temporal + 1 (the
 * first latent frame makes one frame, each later one `temporal`), Latte's one each (F).
 */
export function decodedFrames(family: ModelConfig['family'], scale: VaeScale, latentFrames: number): number {
  return family === 'wan' ? (latentFrames - 1) * scale.temporal + 1 : latentFrames;
}

/** A size latents decode to, and how (`why`): the words a refusal of a size that disagrees with them gives. */
export interface DecodedSize {
  value: number;
  why: string;
}

/**
 * What latents of `shape` ([B, C, F, H, W]; a DiT's [B, C, H, W]) decode to through a pipeline's VAE, each size with
 * its arithmetic: height and width (latent rows / columns × the spatial factor), and for video latents frames
 * (decodedFrames; Wan `3 latent frames: (3 − 1) × VAE temporal factor 4 + 1`). Pipeline.generate's check of
 * height/width/num_frames against latents and the CLI's of --height/--width/--frames share it.
 */
export function decodedSizes(family: ModelConfig['family'], scale: VaeScale, shape: readonly number[]): { height: DecodedSize; width: DecodedSize; frames?: DecodedSize } {
  const { spatial, temporal } = scale;
  const [H, W] = shape.slice(-2) as [number, number];
  const F = shape.length === 5 ? shape[2]! : undefined;
  return {
    height: { value: H * spatial, why: `${H} latent rows × VAE factor ${spatial}` },
    width: { value: W * spatial, why: `${W} latent columns × VAE factor ${spatial}` },
    ...(F === undefined ? {} : { frames: { value: decodedFrames(family, scale, F), why: family === 'wan' ? `${plural(F, 'latent frame')}: (${F} − 1) × VAE temporal factor ${temporal} + 1` : plural(F, 'latent frame') } }),
  };
}

/**
 * The VAE's factors of a pipeline folder from its JSON files alone, model_index.json and vae/config.json (no
 * weight read, no GPU acquired): what loadPipeline passes to `preflight`, for a caller that checks a run's pixel
 * sizes (latentShapeFor, checkRopeSize) before it loads the pipeline. The pipeline class's defaults when
 * model_index.json lists no vae. `source` as loadPipeline's.
 * @throws PipelineError naming the file, as loadPipeline words it: model_index.json or vae/config.json missing
 *   or malformed, a pipeline class or VAE class tessera does not run, scale factors that are not positive integers.
 */
export async function pipelineVaeScale(source: string | FolderSource): Promise<VaeScale> {
  const folder = typeof source === 'string' ? await resolveFolder(source) : source;
  const { index, cls, file } = await readModelIndex(folder);
  const cfg = await readVaeConfig(folder, index, cls, file);
  return vaeScale(cfg, PIPELINES[cls].family === 'wan' ? 'wan' : 'kl', `${folderRoot(folder)}/vae/config.json`);
}

/** model_index.json of a pipeline folder, parsed, and its class (one tessera runs); `file`: its path. @throws PipelineError naming it. */
async function readModelIndex(folder: FolderSource): Promise<{ index: ModelIndex; cls: PipelineClass; file: string }> {
  const root = folderRoot(folder);
  const file = `${root}/model_index.json`;
  const what = 'a diffusers pipeline folder names its components there';
  // model_index.json is read directly in the folder: ENOTDIR there means the path given is a file (a .safetensors, the index itself)
  const indexText = await readTextAs(folder, 'model_index.json', (f, e) =>
    e.errno === 'ENOTDIR' ? new PipelineError(`${root}: is a file (ENOTDIR: it, or a folder on its path); loadPipeline expects a pipeline folder (with model_index.json)`, { cause: e }) : new PipelineError(`${f}: ${e.reason} (${what})`, { cause: e }),
  );
  // names the library call, not the CLI's --model: a page or a script has no flags
  if (indexText === null) {
    // a component folder (config.json of a transformer, a VAE, a text encoder) given for its pipeline's: what it is, and the folder above
    const kind = componentKindOfText(await folder.readText('config.json').catch(() => null));
    if (kind) throw new PipelineError(`${file}: missing: ${componentWords(root, kind)}; give the pipeline folder that holds it, ${parentFolder(root)} (or load this component alone with ${kind.loader})`);
    throw new PipelineError(`${file}: missing (a diffusers pipeline folder names its components there; for a single transformer folder use loadModel)`);
  }
  const index = parseModelIndex(indexText, file);
  if (!Object.hasOwn(PIPELINES, index.className)) throw new PipelineError(`${file}: _class_name ${JSON.stringify(index.className)} is not supported (expected ${Object.keys(PIPELINES).join(', ')})`);
  return { index, cls: index.className as PipelineClass, file };
}

/** vae/config.json when model_index.json (`index`, read from `file`) lists a vae of a class `cls` takes, naming the same class; undefined when it lists none. @throws PipelineError naming the file at fault. */
async function readVaeConfig(folder: FolderSource, index: ModelIndex, cls: PipelineClass, file: string): Promise<Record<string, unknown> | undefined> {
  const va = index.components.get('vae');
  if (!va) return undefined;
  const spec = PIPELINES[cls];
  if (!(spec.vae as readonly string[]).includes(va.className)) throw new PipelineError(`${file}: "vae" is ${va.className}; ${cls} needs ${spec.vae.join(' or ')}`);
  const cfg = await readJson(folder, 'vae/config.json', `model_index.json lists vae ${va.className}`);
  if (cfg['_class_name'] !== va.className) throw new PipelineError(`${folderRoot(folder)}/vae/config.json: _class_name ${JSON.stringify(cfg['_class_name'])} does not match model_index.json's ${va.className}`);
  return cfg;
}

function vaeScale(cfg: Record<string, unknown> | undefined, kind: 'wan' | 'kl', file: string): VaeScale {
  if (!cfg) return { ...DEFAULT_VAE_SCALE[kind] };
  if (kind === 'wan') {
    const s = cfg['scale_factor_spatial'] ?? DEFAULT_VAE_SCALE.wan.spatial;
    const t = cfg['scale_factor_temporal'] ?? DEFAULT_VAE_SCALE.wan.temporal;
    if (!Number.isInteger(s) || !Number.isInteger(t) || (s as number) < 1 || (t as number) < 1) throw new PipelineError(`${file}: scale_factor_spatial/scale_factor_temporal must be positive integers, found ${JSON.stringify(s)}, ${JSON.stringify(t)}`);
    return { spatial: s as number, temporal: t as number };
  }
  const boc = cfg['block_out_channels'];
  if (!Array.isArray(boc) || boc.length < 1) throw new PipelineError(`${file}: "block_out_channels" must be a non-empty list (the spatial factor is 2^(len - 1))`);
  return { spatial: 2 ** (boc.length - 1), temporal: 1 };
}

/**
 * The text encoder's memory options under loadPipeline's `budget` (PipelineLoadOptions.maxMemory), unless
 * the caller's own options give maxMemory: its encodes held to the budget, and resident only where the
 * encoder's own default (weights within 2 GiB) would be too, since resident weights stay on the device
 * through the denoising loop and the decode.
 */
async function textEncoderBudget(folder: FolderSource, given: Pick<TextEncoderLoadOptions, 'maxMemory' | 'stream'>, budget: number | undefined, gpu: Gpu): Promise<Pick<TextEncoderLoadOptions, 'maxMemory' | 'stream'>> {
  if (budget === undefined || 'maxMemory' in given) return {};
  if (given.stream !== undefined) return { maxMemory: budget };
  const file = folderFile(folder, 'text_encoder/config.json');
  const config = parseUmt5Config(await readJson(folder, 'text_encoder/config.json', 'model_index.json lists text_encoder UMT5EncoderModel'), file);
  const plan = planUmt5(config, 2, DEFAULT_MAX_SEQUENCE_LENGTH, gpu.limits, { maxMemory: Math.min(budget, DEFAULT_RESIDENT_BYTES) });
  return { maxMemory: budget, stream: plan.mode === 'stream' };
}

async function readJson(folder: FolderSource, rel: string, what: string): Promise<Record<string, unknown>> {
  const file = folderFile(folder, rel);
  const text = await readPipelineText(folder, rel, what);
  if (text === null) throw new PipelineError(`${file}: missing (${what})`);
  return parseJsonObject(text, file);
}

/**
 * A pipeline folder's own file as text, or null when it is missing; one that is there but cannot be read (a
 * folder in its place, no permission) is a PipelineError as a missing one is: `FILE: is a folder, not a file (what)`.
 */
function readPipelineText(folder: FolderSource, rel: string, what: string): Promise<string | null> {
  return readTextAs(folder, rel, (file, e) => new PipelineError(`${file}: ${e.reason} (${what})`, { cause: e }));
}

/** The text embeddings' shapes of a call ([B, L, dim]), as given or as the text encoder will return them; `neg` when guided. */
interface TextShapes {
  pos: number[];
  neg?: number[];
}

/** A Pipeline.generate call after its checks: what the sampler gets, and what is left to do on the GPU. */
interface Call {
  /** For generate(); the text embeddings are added after encoding. */
  opts: GenerateOptions;
  outputType: 'np' | 'latent';
  /** max_sequence_length of the prompts to encode. */
  L: number;
  /** Prompts to encode, and negative prompts to encode (guided, without negative_prompt_embeds). */
  prompts?: string[];
  negs?: string[];
  /** What the text encoder's messages call prompts[i] / negs[i]: the option as the caller gave it. */
  promptName?: (i: number) => string;
  negName?: (i: number) => string;
  /** One seed per batch item (the noise is made after every check). */
  seeds?: number[];
  /** The latents' shape and how the caller asked for it, for the decode's memory check (checkDecodeFits). */
  shape: number[];
  asked: { latents: boolean; items: string };
  onStage?: PipelineGenerateOptions['onStage'];
  onDecodeProgress?: PipelineGenerateOptions['onDecodeProgress'];
  onDecodeBlock?: PipelineGenerateOptions['onDecodeBlock'];
  onKernels?: PipelineGenerateOptions['onKernels'];
  /** onStepProfile's runs without per-dispatch timestamps (profilePipeline's forceWallClock, through exclusive's generate). */
  stepWallClock?: boolean;
  /** The onWarning calls the checks made, awaited before the call's work. */
  warnings?: { settle: () => Promise<void> };
}

/** How long a LimitError may spend finding what fits (its suggestions), in ms. */
const SEARCH_MS = 5000;
const TIME_UP = Symbol('time up');

/**
 * A tensor option as the caller gave it: `{ data: Float32Array, shape }` with positive integer dims,
 * as many values as the shape holds, all finite. Returns its shape. @throws InputError naming `name`.
 */
function checkTensor(t: unknown, name: string): number[] {
  const v = t as Partial<TensorData> | null;
  if (typeof v !== 'object' || v === null || !(v.data instanceof Float32Array) || !Array.isArray(v.shape)) throw new InputError(`${name}: expected { data: Float32Array, shape: number[] }`, { option: name });
  const shape = v.shape;
  if (shape.some((d) => !Number.isInteger(d) || d < 1)) throw new InputError(`${name}: every dim must be a positive integer, found [${shape.join(',')}]`, { option: name });
  const n = shape.reduce((a, b) => a * b, 1);
  if (v.data.length !== n) throw new InputError(`${name}: ${v.data.length} values for shape [${shape.join(',')}], which needs ${n}`, { option: name });
  const i = v.data.findIndex((x) => !Number.isFinite(x));
  if (i >= 0) throw new InputError(`${name}: value at flat index ${i} is not finite (${v.data[i]})`, { option: name });
  return shape;
}

/**
 * @internal What a Pipeline is made of (loadPipeline's components and choices; stand-ins in tests): createPipeline's argument.
 */
export interface PipelineParts {
  name: string;
  className: PipelineClass;
  modelIndex: ModelIndex;
  folder: FolderSource;
  gpu: Gpu;
  transformer: DiffusionModel;
  vae: Vae | undefined;
  schedulerConfig: Record<string, unknown>;
  scheduler: SchedulerSpec;
  vaeScale: VaeScale;
  /** dispose() destroys the device. */
  ownsGpu: boolean;
  textEncoder?: PromptEncoder | undefined;
  unrunTextEncoder?: string | undefined;
  onWarning?: PipelineLoadOptions['onWarning'];
  fixedDtype?: boolean;
}

/**
 * @internal A Pipeline's plumbing, for tessera's own code behind the public surface (profilePipeline) and tests:
 * `exclusive` runs `f` with the pipeline to itself (after every call queued before it; later calls wait until it
 * settles), `f` generating through `p.generate` (checked and run as Pipeline.generate, without queueing; never through
 * the pipeline's own async methods, which would wait for `f`; `profile.stepWallClock`: onStepProfile's runs without
 * per-dispatch times, profilePipeline's forceWallClock). `checkOpen` throws DisposedError after dispose(). `checkGenerate`:
 * every check generate(o) makes before its first stage (the decode's dry run included) without running it or waiting
 * for earlier calls; returns the latent shape ([B, C, F, H, W], DiT [B, C, H, W]); throws what generate() throws before
 * its first stage. `textEncoder`, `fixedDtype`: the slots loadPipeline fills, settable for tests.
 */
export interface PipelineInternals {
  exclusive<T>(f: (p: { generate(o: PipelineGenerateOptions, profile?: { stepWallClock?: boolean }): Promise<PipelineOutput> }) => Promise<T>): Promise<T>;
  checkOpen(): void;
  checkGenerate(o: PipelineGenerateOptions): Promise<number[]>;
  textEncoder: PromptEncoder | undefined;
  fixedDtype: boolean;
}

/** Set by Pipeline's static block: its private constructor and #private members, reached from this module only. */
let internals: { create(parts: PipelineParts): Pipeline; of(p: Pipeline): PipelineInternals };

/** @internal A Pipeline of `parts` (loadPipeline's; stand-ins in tests). Users load one: loadPipeline. */
export function createPipeline(parts: PipelineParts): Pipeline {
  return internals.create(parts);
}

/** @internal `p`'s plumbing (PipelineInternals). */
export function pipelineInternals(p: Pipeline<boolean>): PipelineInternals {
  return internals.of(p);
}

/**
 * A loaded diffusers pipeline (from loadPipeline): the transformer, VAE and text encoder on one device, and the
 * scheduler config.
 *
 * `HasVae` (types only): `false` for a pipeline loaded with `{ vae: false }` (loadPipeline's overload gives
 * `Pipeline<false>`), whose `vae` is undefined and whose generate() is typed PipelineLatentOutput; the default
 * otherwise (`boolean`: as loaded), typed as decoding (video/images). A folder without a VAE component also returns
 * latents only, which the type cannot know: check `pipe.vae` there. A `Pipeline<false>` passes where a `Pipeline`
 * is taken.
 *
 * @example
 * const pipe = await loadPipeline('Wan2.1-T2V-1.3B-Diffusers');
 * const { video, latents } = await pipe.generate({ prompt_embeds, negative_prompt_embeds, seed: 0,
 *   height: 480, width: 832, num_frames: 81, num_inference_steps: 30 });   // video: [1, 81, 480, 832, 3] in [0, 1]
 * pipe.dispose();
 */
export class Pipeline<out HasVae extends boolean = boolean> {
  /** The folder's name (path or URL). */
  readonly name: string;
  /** model_index.json's `_class_name`: WanPipeline, LattePipeline or DiTPipeline. */
  readonly className: PipelineClass;
  /** model_index.json, parsed. */
  readonly modelIndex: ModelIndex;
  /** The pipeline folder itself (its files: model_index.json, the components' folders). */
  readonly folder: FolderSource;
  /** The device every component runs on (acquireGpu()'s object, or the loader's own). */
  readonly gpu: Gpu;
  /** The transformer (transformer/). */
  readonly transformer: DiffusionModel;
  /**
   * The VAE (vae/), undefined when the folder has none or loadPipeline was given `{ vae: false }` (typed
   * `undefined` then: Pipeline<false>).
   */
  readonly vae: HasVae extends false ? undefined : Vae | undefined;
  /** scheduler/scheduler_config.json contents. */
  readonly schedulerConfig: Record<string, unknown>;
  /** The scheduler built from it (schedulerFromConfig: class, config as the class reads it). */
  readonly scheduler: SchedulerSpec;
  /** The VAE's factors (vae/config.json): pixels per latent row/column (`spatial`) and frames per latent frame (`temporal`). */
  readonly vaeScale: VaeScale;
  /** One call at a time: the components' recorded plans hold one call's inputs. Closed by dispose(). */
  readonly #serial: Serial;
  /** `vae` as the methods use it (the declared type depends on HasVae). */
  readonly #decoder: Vae | undefined;
  /** Whether dispose() destroys the device (the loader acquired it). */
  readonly #ownsGpu: boolean;
  /** The text encoder (text_encoder/ + tokenizer/), when loaded. */
  #textEncoder: PromptEncoder | undefined;
  /** The folder's text encoder class when tessera does not run it (T5EncoderModel): left unloaded, named when a prompt is refused. */
  readonly #unrunTextEncoder: string | undefined;
  /** loadPipeline's onWarning: where generate()'s warning lines go (console.warn when unset). */
  readonly #onWarning: PipelineLoadOptions['onWarning'];
  /** loadPipeline's fixedDtype: true, a fit refusal suggests no other dtype. */
  #fixedDtype: boolean;
  /** generate()'s `scheduler` classes built from the folder's config (from_config), each once. */
  readonly #schedulers = new Map<SchedulerClass, { spec: SchedulerSpec; line: string | undefined }>();
  /** The classes whose ignored-keys warning was given (the folder's own at load). */
  readonly #warned = new Set<string>();
  /** The prompt notes given (line and prompt): each once per Pipeline; the last NOTED_KEPT of them, so a server of many distinct prompts does not grow it without bound. */
  readonly #noted = new Set<string>();

  /** Not for users: a Pipeline comes from loadPipeline. */
  private constructor(parts: PipelineParts) {
    ({ name: this.name, className: this.className, modelIndex: this.modelIndex, folder: this.folder, gpu: this.gpu, transformer: this.transformer, schedulerConfig: this.schedulerConfig, scheduler: this.scheduler, vaeScale: this.vaeScale } = parts);
    this.#serial = new Serial(`pipeline ${parts.name}`);
    this.#warned.add(parts.scheduler.className);
    this.#decoder = parts.vae;
    this.vae = parts.vae as this['vae'];
    this.#ownsGpu = parts.ownsGpu;
    this.#textEncoder = parts.textEncoder;
    this.#unrunTextEncoder = parts.unrunTextEncoder;
    this.#onWarning = parts.onWarning;
    this.#fixedDtype = parts.fixedDtype ?? false;
  }

  static {
    internals = {
      create: (parts) => new Pipeline(parts),
      of: (p) => ({
        exclusive: (f) => p.#exclusive(f),
        checkOpen: () => p.#serial.check(),
        checkGenerate: (o) => p.#checkGenerate(o),
        get textEncoder() {
          return p.#textEncoder;
        },
        set textEncoder(te) {
          p.#textEncoder = te;
        },
        get fixedDtype() {
          return p.#fixedDtype;
        },
        set fixedDtype(v) {
          p.#fixedDtype = v;
        },
      }),
    };
  }

  /** The text encoder (text_encoder/ + tokenizer/) generate() encodes `prompt` with; undefined when none was loaded (give prompt_embeds). */
  get textEncoder(): PromptEncoder | undefined {
    return this.#textEncoder;
  }

  /** The transformer's family: 'wan', 'latte' or 'dit'. */
  get family(): ModelConfig['family'] {
    return this.transformer.family;
  }

  /** get_label_ids' label name → class id map, built from model_index.json's id2label at its first call. */
  #labels?: Map<string, number>;

  /**
   * diffusers' DiTPipeline.get_label_ids: ImageNet label names → class ids, for generate()'s `class_labels`.
   * Read from model_index.json's `id2label` (`{"207": "golden retriever", "1": "goldfish, Carassius auratus", …}`,
   * as facebook/DiT-XL-2-256 ships it): each comma-separated name of an entry, trimmed, maps to its id; a name
   * is matched exactly (case and spaces included), as diffusers matches it. `label`: one name or a list (a
   * string is one name: diffusers' `list(label)` would split it into characters). Returns one integer id per
   * name, in order (e.g. `pipe.generate({ class_labels: pipe.get_label_ids(['golden retriever']) })`).
   * @throws PipelineError when the pipeline is not a DiTPipeline, or its model_index.json has no id2label (or one
   *   that is not an object of integer ids → name strings); InputError naming an unknown label and the closest
   *   label names, or a `label` that is neither a string nor a list of strings.
   */
  get_label_ids(label: string | readonly string[]): number[] {
    const file = folderFile(this.folder, 'model_index.json');
    if (this.className !== 'DiTPipeline') throw new PipelineError(`get_label_ids: ${this.name} is a ${this.className}; label names map to class ids in DiTPipeline only`);
    this.#labels ??= labelIds(this.modelIndex.config['id2label'], file);
    const names = typeof label === 'string' ? [label] : label;
    if (!Array.isArray(names) || names.length === 0) throw new InputError(`get_label_ids: a label name or a non-empty list of them, got ${shown(label)}`);
    const all = [...this.#labels.keys()];
    return names.map((l, i) => {
      if (typeof l !== 'string') throw new InputError(`get_label_ids: label[${i}] is not a string: ${shown(l)}`);
      const id = this.#labels!.get(l);
      if (id !== undefined) return id;
      const near = closestLabels(l, all);
      throw new InputError(`get_label_ids: ${JSON.stringify(l)} is not a label of ${file}'s id2label (${all.length} names)${near.length ? `; closest: ${near.map((n) => JSON.stringify(n)).join(', ')}` : ''}`);
    });
  }

  /**
   * Prompt embeddings from the text encoder slot: F32 [prompts, max_sequence_length, d_model]. The
   * options as Umt5TextEncoder.encodePrompt takes them (`{ max_sequence_length }`, default 512), or
   * the length alone.
   * @throws InputError when the pipeline has none or for a bad option; DisposedError after dispose().
   */
  encodePrompt(prompts: string | string[], opts: number | { max_sequence_length?: number } = {}): Promise<TensorData> {
    let max_sequence_length: number;
    try {
      this.#serial.check();
      max_sequence_length = typeof opts === 'number' ? opts : (checkOptionNames(opts, ['max_sequence_length'], 'encodePrompt', '{ max_sequence_length: 512 }'), opts.max_sequence_length ?? 512);
    } catch (e) {
      return Promise.reject(e);
    }
    const list = typeof prompts === 'string' ? [prompts] : prompts;
    // the queue's promise as it is (not async): see generate
    return this.#serial.run(() => this.#encode(list, max_sequence_length), { call: 'Pipeline.encodePrompt' });
  }

  /** Why a prompt is refused: no text encoder loaded, or one tessera does not run (named). */
  #noTextEncoder(): string {
    if (this.#unrunTextEncoder) return `prompt: the text encoder of ${this.name} is ${this.#unrunTextEncoder} (model_index.json), which tessera does not run (it encodes prompts with UMT5EncoderModel, WanPipeline's): give prompt_embeds [B, L, dim] (and, with guidance_scale > 1, negative_prompt_embeds) instead`;
    return `prompt: ${this.name} has no text encoder loaded; give prompt_embeds (and negative_prompt_embeds) instead`;
  }

  /** `name`: what the encoder's messages call prompt i (default `prompts[i]`, encodePrompt's argument). */
  async #encode(prompts: string[], max_sequence_length: number, name?: (i: number) => string): Promise<TensorData> {
    if (!this.#textEncoder) throw new InputError(this.#noTextEncoder(), { option: 'prompt' });
    return this.#textEncoder.encodePrompt(prompts, { max_sequence_length }).catch((e: unknown) => {
      if (!name || !(e instanceof TextEncoderError)) throw e;
      throw new TextEncoderError(e.message.replace(/^encode: prompts\[(\d+)\]/, (_, i: string) => `encode: ${name(Number(i))}`));
    });
  }

  /**
   * The latent shape for a seeded run of `batch` items at pixel sizes (diffusers' prepare_latents).
   * @throws InputError naming `batch` (not a positive integer: e.g. the sizes given as the only argument) or the
   *   sizes' object (not an object), or the size at fault (latentShapeFor).
   */
  latentShape(batch: number, o: { height?: number; width?: number; num_frames?: number }): number[] {
    if (!Number.isSafeInteger(batch) || batch < 1) {
      const sizes = typeof batch === 'object' && batch !== null && o === undefined ? ' (the sizes are the second argument: latentShape(1, { height, width, num_frames }))' : '';
      throw new InputError(`latentShape: batch: the number of items, a positive integer, got ${kindOf(batch)}${sizes}`, { option: 'batch' });
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new InputError(`latentShape: sizes: an object { height, width, num_frames }, got ${kindOf(o)}`, { option: 'sizes' });
    return latentShapeFor(this.transformer.config, this.vaeScale, batch, o);
  }

  /**
   * The pipeline call: prompt embeddings (or prompts through the text encoder), the denoising loop
   * with the folder's scheduler, then (output_type "np") the VAE decode and diffusers' postprocessing.
   * Returns `{ latents, timesteps }` plus, when it decodes, `video` (Wan/Latte) or `images` (DiT); the
   * declared type follows output_type: "latent" → PipelineLatentOutput; "np" or none → PipelineImageOutput
   * for a class_labels (DiT) call, else PipelineVideoOutput. On a Pipeline<false> (loaded with `{ vae: false }`)
   * every call is typed PipelineLatentOutput (it never decodes; output_type "np" is an InputError).
   * Calls on one pipeline run one at a time, in call order (concurrent calls wait for the earlier ones).
   * @throws before any GPU work (the text encoder included): InputError naming the option for an unknown
   *   option (with the closest name), an option of another pipeline class, missing, malformed or
   *   conflicting inputs (latents whose size disagrees with height / width / num_frames, seed with
   *   latents, prompt with prompt_embeds; a Wan size past rope_max_seq_len: RopeLimitError, an InputError naming the
   *   axes); SchedulerConfigError for a `scheduler` tessera does not support
   *   (listing the supported ones); StepCountError (a SchedulerConfigError; `maxSteps`: the most that work,
   *   where known) for a num_inference_steps the scheduler config cannot run (above num_train_timesteps, or
   *   so many that the timesteps repeat); LimitError when the sampler state, a transformer pass or the
   *   VAE decode cannot fit the adapter, or a stage exceeds loadPipeline's maxMemory (each stage on its own:
   *   PipelineLoadOptions.maxMemory), naming the stage, the size asked for and what fits.
   *   Later: TextEncoderError (a prompt the encoder cannot take, named as `prompt[i]`), NumericsError, GpuError; TuneEnvError when the stages record their kernels and TESSERA_TUNE or
   *   TESSERA_TUNE_MIN_FLOPS holds a value tessera cannot read. DisposedError after dispose(). An Error named
   *   'AbortError' when `signal` aborts.
   */
  generate(this: Pipeline<false>, o: PipelineGenerateOptions): Promise<PipelineLatentOutput>;
  generate(o: PipelineGenerateOptions & { output_type: 'latent' }): Promise<PipelineLatentOutput>;
  generate(o: PipelineGenerateOptions & { class_labels: ArrayLike<number | bigint>; output_type?: 'np' }): Promise<PipelineImageOutput>;
  generate(o: PipelineGenerateOptions & { output_type?: 'np' }): Promise<PipelineVideoOutput>;
  generate(o: PipelineGenerateOptions): Promise<PipelineOutput>;
  generate(o: PipelineGenerateOptions): Promise<PipelineOutput> {
    // not async, and the queue's promise returned as it is: an async method's return would chain on it, which
    // Serial.run takes for an await when called inside a callback of this pipeline's running call
    let call: Call;
    try {
      this.#serial.check();
      call = this.#check(o);
      throwIfAborted(o.signal, 'Pipeline.generate');
    } catch (e) {
      return Promise.reject(e);
    }
    // the decode's memory comes from a dry run of its recording (async): started now and awaited before any
    // stage runs, and a refusal rejects the call at once (`first`), not after the calls queued before this one
    const fits = this.#checkDecodeFits(call);
    // aborted while it waits for the calls ahead: rejected at once, and it leaves the queue
    return this.#serial.run(
      async () => {
        await fits;
        await call.warnings?.settle();
        return this.#run(call);
      },
      { signal: o.signal, aborted: () => throwIfAborted(o.signal, 'Pipeline.generate, before it started'), call: 'Pipeline.generate', first: fits },
    );
  }

  /**
   * Runs `f` with the pipeline to itself (profilePipeline drives the components directly): after every
   * call queued before it, with later calls (generate, encodePrompt, another exclusive) waiting until it
   * settles. `f` generates through `p.generate` (checked and run as Pipeline.generate, without queueing),
   * never through the pipeline's own async methods: they would wait for `f`, a deadlock. `p.generate`'s
   * `profile.stepWallClock`: the onStepProfile runs without per-dispatch times even where the adapter has
   * timestamp-query (profilePipeline's forceWallClock).
   * @throws DisposedError when the pipeline was disposed before the call; calls made before dispose() still run.
   */
  #exclusive<T>(f: (p: { generate(o: PipelineGenerateOptions, profile?: { stepWallClock?: boolean }): Promise<PipelineOutput> }) => Promise<T>): Promise<T> {
    return this.#serial.run(() =>
      f({
        generate: async (o, profile) => {
          const call = { ...this.#check(o), stepWallClock: profile?.stepWallClock };
          await this.#checkDecodeFits(call);
          return this.#run(call);
        },
      }),
      { call: 'Pipeline.exclusive' },
    );
  }

  /**
   * Every check `generate(o)` makes before its first stage, without running it or waiting for earlier calls: the
   * call's own checks (names, values, the scheduler's state, the sampler state and transformer passes against the
   * adapter and the budgets), then the VAE decode's dry run against the VAE's maxMemory (when `o` decodes).
   * Nothing is compiled, encoded or allocated. For profilePipeline, which drives the stages itself (its
   * `p.generate` re-checks only the loop's own call, which does not decode); a caller of generate() needs it not.
   * Returns the latent shape the call runs at ([B, C, F, H, W], or [B, C, H, W] for DiT).
   * @throws what generate() throws before its first stage (InputError, RopeLimitError, SchedulerConfigError,
   *   StepCountError, LimitError naming the stage and the size asked for, DisposedError after dispose(), and a
   *   failing onWarning's error).
   */
  async #checkGenerate(o: PipelineGenerateOptions): Promise<number[]> {
    this.#serial.check();
    const call = this.#check(o);
    await this.#checkDecodeFits(call);
    await call.warnings?.settle();
    return call.shape;
  }

  /** The folder's scheduler, or `cls` built from its config (X.from_config(pipe.scheduler.config)), once per class; its ignored-keys line (if any) to `warn` on every call. */
  #schedulerFor(cls: SchedulerClass, warn: (line: string) => void): SchedulerSpec {
    if (cls === this.scheduler.className) return this.scheduler;
    let got = this.#schedulers.get(cls);
    if (!got) {
      let line: string | undefined;
      const spec = schedulerFromConfig(this.#fromConfigSource(cls), { override: cls, overrideName: 'scheduler', file: this.scheduler.file, warn: (l) => void (line = l) });
      got = { spec, line };
      this.#schedulers.set(cls, got);
    }
    if (got.line !== undefined) warn(got.line);
    return got.spec;
  }

  /** The config `cls` is built from (schedulerConfigFor: the folder's, with its class's timestep_spacing default). */
  #fromConfigSource(cls: SchedulerClass): Record<string, unknown> {
    return schedulerConfigFor(this.schedulerConfig, this.scheduler.className, cls);
  }

  /** Every check of a generate call: names, values, shapes, conflicts and memory; nothing touches the GPU. */
  #check(o: PipelineGenerateOptions): Call {
    checkOptionNames(o, Object.keys(GENERATE_OPTIONS), 'Pipeline.generate', '{ prompt, height, width, num_frames }', LOAD_ONLY);
    const c = this.transformer.config;
    const cls = this.className;
    const dit = this.family === 'dit';
    // the other pipeline classes' options are refused, not ignored
    for (const k of dit ? (['prompt', 'negative_prompt', 'prompt_embeds', 'negative_prompt_embeds', 'max_sequence_length'] as const) : []) {
      if (o[k] !== undefined) throw new InputError(`${k}: ${cls} is class-conditional; give class_labels (ImageNet class ids) instead`, { option: k });
    }
    if (dit && o.num_frames !== undefined) throw new InputError(`num_frames: ${cls} makes images; leave num_frames out`, { option: 'num_frames' });
    if (!dit && o.class_labels !== undefined) throw new InputError(`class_labels: ${cls} is text-conditional; give prompt or prompt_embeds (class_labels are DiTPipeline's)`, { option: 'class_labels' });

    const outputType = o.output_type ?? (this.#decoder ? 'np' : 'latent');
    if (outputType !== 'np' && outputType !== 'latent') throw new InputError(`output_type: "np" or "latent", got ${shown(outputType)}`, { option: 'output_type' });
    if (outputType === 'np' && !this.#decoder) throw new InputError(`output_type "np" needs a VAE and ${this.name} has none loaded: use output_type "latent"`, { option: 'output_type' });
    const steps = o.num_inference_steps ?? PIPELINES[cls].num_inference_steps;
    if (!Number.isInteger(steps) || steps < 1) throw new InputError(`num_inference_steps: a positive integer, got ${shown(steps)}`, { option: 'num_inference_steps' });
    checkSeeds(o.seed);
    const guidance = o.guidance_scale ?? PIPELINES[cls].guidance_scale;
    if (typeof guidance !== 'number' || !Number.isFinite(guidance)) throw new InputError(`guidance_scale: a finite number, got ${shown(guidance)}`, { option: 'guidance_scale' });
    for (const k of ['onStep', 'onStepProfile', 'onBlock', 'onStage', 'onDecodeProgress', 'onDecodeBlock', 'onKernels'] as const) if (o[k] !== undefined && typeof o[k] !== 'function') throw new InputError(`${k}: a function, got ${shown(o[k])}`, { option: k });
    const cfg = guidance > 1;
    const L = checkMaxSequenceLength(o.max_sequence_length);
    checkSignal(o.signal);
    const opts: GenerateOptions = { num_inference_steps: steps, guidance_scale: guidance, onStep: o.onStep, onStepProfile: o.onStepProfile, onBlock: o.onBlock, signal: o.signal };
    const schedCls = o.scheduler === undefined ? this.scheduler.className : schedulerOption(o.scheduler);
    // onWarning is called here, in the checks; a promise it returns is awaited before the call's work (run)
    const onWarning = this.#onWarning;
    const warnings = onWarning ? hookQueue('onWarning', 'Pipeline.generate', onWarning) : undefined;
    const warn = (line: string) => {
      if (!this.#warned.has(schedCls)) (warnings ? warnings.call : console.warn)(line);
      this.#warned.add(schedCls);
    };
    // the ignored-keys line is said once the scheduler has taken the config and the step count: not for a refused call
    let ignoredLine: string | undefined;
    const keep = (line: string) => void (ignoredLine = line);
    const spec = o.shift === undefined ? this.#schedulerFor(schedCls, keep)
      : resolveScheduler({ scheduler: schedCls, scheduler_config: this.#fromConfigSource(schedCls), shift: o.shift, onWarning: keep }, this.scheduler.file);
    opts.scheduler = spec;
    const program = spec.setTimesteps(steps); // its state's size, for the memory check
    if (ignoredLine !== undefined) warn(ignoredLine);
    // a swapped class whose default settings cannot sample this transformer (scheduler 'unipc' from a Wan flow-match Euler
    // config, which sets no prediction_type): one warning line, once per transformer, as generate() says it (the CLI refuses)
    const wrongKind = familyWarning(this.transformer, spec);
    if (wrongKind) (warnings ? warnings.call : console.warn)(wrongKind);

    // the batch and the text, as the caller gave them
    const call: Call = { opts, outputType, L, warnings, onStage: o.onStage, onDecodeProgress: o.onDecodeProgress, onDecodeBlock: o.onDecodeBlock, onKernels: o.onKernels, shape: [], asked: { latents: o.latents !== undefined, items: '' } };
    let batch: number;
    let text: TextShapes | undefined;
    const prompts = o.prompt === undefined ? undefined : promptList(o.prompt, 'prompt');
    if (dit) {
      const labels = o.class_labels;
      if (labels === undefined) throw new InputError('class_labels: DiT pipelines are class-conditional; give [B] class ids', { option: 'class_labels' });
      // a list or typed array, as generate() takes (its values are checked there); shown() prints bigint as 1n where JSON.stringify threw
      const list = Array.isArray(labels) || (ArrayBuffer.isView(labels) && !(labels instanceof DataView));
      if (!list || (labels as ArrayLike<unknown>).length === 0) throw new InputError(`class_labels: a non-empty list or typed array of class ids (one per batch item), got ${list && !Array.isArray(labels) ? `an empty ${labels.constructor.name}` : shown(labels)}`, { option: 'class_labels' });
      opts.class_labels = labels;
      batch = labels.length;
    } else {
      const width = c.family === 'wan' ? c.textDim : (c as { captionChannels: number }).captionChannels;
      if (prompts && o.prompt_embeds) throw new InputError('give prompt or prompt_embeds, not both', { option: 'prompt_embeds' });
      if (o.negative_prompt !== undefined && o.negative_prompt_embeds) throw new InputError('give negative_prompt or negative_prompt_embeds, not both', { option: 'negative_prompt_embeds' });
      if (!prompts && !o.prompt_embeds) throw new InputError('prompt_embeds: missing; give prompt (with a text encoder) or prompt_embeds [B, L, dim]', { option: 'prompt_embeds' });
      if (prompts && !this.#textEncoder) throw new InputError(this.#noTextEncoder(), { option: 'prompt' });
      const negList = o.negative_prompt === undefined ? undefined : promptList(o.negative_prompt, 'negative_prompt');
      let pos: number[];
      if (prompts) {
        pos = [prompts.length, L, width];
        call.prompts = prompts;
        call.promptName = typeof o.prompt === 'string' ? () => 'prompt' : (i) => `prompt[${i}]`;
      } else {
        pos = checkTensor(o.prompt_embeds, 'prompt_embeds');
        checkTextEmbedsForTransformer(c, pos);
      }
      batch = pos[0]!;
      let neg: number[] | undefined;
      if (o.negative_prompt_embeds) {
        neg = checkTensor(o.negative_prompt_embeds, 'negative_prompt_embeds');
        checkTextEmbedsForTransformer(c, pos, neg, prompts ? `${batch} prompt(s)` : undefined);
      } else if (cfg) {
        // as WanPipeline.encode_prompt: the negative prompt (default "") is encoded, with prompt as with prompt_embeds
        if (!this.#textEncoder) throw new InputError(`negative_prompt_embeds: missing; guidance_scale ${guidance} > 1 needs them and ${this.name} has no text encoder to encode negative_prompt: give negative_prompt_embeds [${batch}, L', ${width}], or guidance_scale 1`, { option: 'negative_prompt_embeds' });
        const n = negList ?? [''];
        const negs = typeof o.negative_prompt === 'string' || o.negative_prompt === undefined ? new Array<string>(batch).fill(n[0]!) : n;
        if (negs.length !== batch) throw new InputError(`negative_prompt: ${plural(negs.length, 'negative prompt')} for a batch of ${batch} (one per prompt, or one string for all)`, { option: 'negative_prompt' });
        call.negs = negs;
        call.negName = o.negative_prompt === undefined ? () => 'negative_prompt (default "")' : typeof o.negative_prompt === 'string' ? () => 'negative_prompt' : (i) => `negative_prompt[${i}]`;
        neg = [batch, L, width];
      }
      text = { pos, neg: cfg ? neg : undefined };
      // embeddings given are used as given; the encoder's are added in run()
      if (o.prompt_embeds) opts.prompt_embeds = o.prompt_embeds;
      if (cfg && o.negative_prompt_embeds) opts.negative_prompt_embeds = o.negative_prompt_embeds;
    }
    const items = dit ? 'class labels' : prompts ? 'prompts' : 'prompt_embeds items';
    call.asked.items = items;

    // the initial noise: latents as given, or seeded at pixel sizes
    let shape: number[];
    if (o.latents !== undefined) {
      if (o.seed !== undefined) throw new InputError('seed: give seed (with the output size) or latents, not both: latents are the initial noise a seed would make', { option: 'seed' });
      shape = this.#checkLatents(o.latents, batch, items, o);
      opts.latents = o.latents;
    } else {
      if (Array.isArray(o.seed) && o.seed.length !== batch) throw new InputError(`seed: ${plural(o.seed.length, 'seed')} for a batch of ${batch} (one per prompt, or one number)`, { option: 'seed' });
      shape = this.latentShape(batch, o);
      if (Array.isArray(o.seed)) call.seeds = o.seed;
      else opts.seed = o.seed ?? 0;
      opts.shape = shape;
    }
    call.shape = shape;
    // the model's own limit first: the fit searches below probe only within the request, so within it
    this.#checkRope(shape, call.asked);
    this.#checkFits(shape, text, cfg, program, outputType === 'np', call.asked);
    // the text encoder's own memory, before the 'text' stage starts (prompts and negative prompts are separate encodes)
    for (const list of [call.prompts, call.negs]) if (list) this.#textEncoder?.checkFits?.(list, L);
    // a prompt cut at max_sequence_length, or empty: encoded as diffusers does, with a note (an empty negative prompt is the default)
    const notes = [...(call.prompts ? (this.#textEncoder?.promptNotes?.(call.prompts, L, call.promptName!) ?? []) : []), ...(call.negs ? (this.#textEncoder?.promptNotes?.(call.negs, L, call.negName!) ?? []).filter((n) => n.kind !== 'empty') : [])];
    // each once per Pipeline, prompt and line: a server repeating a long prompt is told once
    for (const { line, prompt } of notes) {
      const key = `${line}\u0000${prompt}`;
      if (this.#noted.has(key)) continue;
      this.#noted.add(key);
      if (this.#noted.size > NOTED_KEPT) this.#noted.delete(this.#noted.values().next().value!);
      (warnings ? warnings.call : console.warn)(line);
    }
    // a negative given to an unguided call is not read (as diffusers, which says nothing): one note, after the checks
    const negGiven = o.negative_prompt_embeds ? 'negative_prompt_embeds' : o.negative_prompt !== undefined ? 'negative_prompt' : undefined;
    if (negGiven && !cfg) (warnings ? warnings.call : console.warn)(negativeUnusedNote(negGiven, guidance));
    return call;
  }

  /** `latents` as the caller gave them: their shape, after every check the transformer would make (named `latents`), and their agreement with the sizes given. */
  #checkLatents(latents: unknown, batch: number, items: string, sizes: { height?: number; width?: number; num_frames?: number }): number[] {
    const c = this.transformer.config;
    const shape = checkTensor(latents, 'latents');
    checkLatentsForTransformer(c, shape, { size: batch, items });
    // the sizes these latents decode to: a size given as well must be the same
    const made = decodedSizes(c.family, this.vaeScale, shape);
    for (const [k, m] of [['height', made.height], ['width', made.width], ['num_frames', made.frames]] as const) {
      const asked = sizes[k];
      if (asked !== undefined && m && asked !== m.value) throw new InputError(`${k} ${asked} disagrees with latents [${shape.join(',')}], which make ${k} ${m.value} (${m.why}): leave ${k} out or give ${m.value}`, { option: k });
    }
    return shape;
  }

  /** sizeTerms (module level) for this pipeline's transformer and VAE. */
  #sizeTerms(shape: number[], asked: SizeAsked) {
    return sizeTerms(this.transformer.config, this.vaeScale, shape, asked);
  }

  /** checkRopeSize (module level) for this pipeline's transformer and VAE. */
  #checkRope(shape: number[], asked: SizeAsked): void {
    checkRopeSize(this.transformer.config, this.vaeScale, shape, asked);
  }

  /**
   * Refuses (LimitError), before any GPU work, a run whose sampler state, transformer pass(es) or VAE
   * decode cannot fit the adapter's bindings (or the transformer's maxMemory), naming the size as the
   * caller gave it (pixels, or latents) and the most frames, the largest height×width and the largest
   * batch that would fit.
   */
  #checkFits(shape: number[], text: TextShapes | undefined, cfg: boolean, program: StepProgram, decode: boolean, asked: { latents: boolean; items: string }): void {
    const reason = this.#refusal(shape, text, cfg, program, decode);
    if (!reason) return;
    const { c, video, pt, ph, pw, B, C, F, H, W, frames, hw, size, scaled } = this.#sizeTerms(shape, asked);
    const at = (b: number, f: number, h: number, w: number) => [b, C, ...(video ? [f] : []), h, w];
    // Each probe is a dry run of the transformer's recording: milliseconds at small batches, seconds at
    // thousands of items. The searches stop at a deadline; one cut short suggests nothing.
    const deadline = performance.now() + SEARCH_MS;
    const fits = (s: number[]) => {
      if (performance.now() > deadline) throw TIME_UP;
      // probes stay within the request on every axis, so within the rope_max_seq_len that checkRope passed
      return !this.#refusal(s, text, cfg, program, decode);
    };
    const search = (hi: number, ok: (n: number) => boolean): number | undefined => {
      try {
        return most(hi, ok);
      } catch (e) {
        if (e === TIME_UP) return undefined;
        throw e;
      }
    };
    // The sampler state grows linearly, so it bounds each search without a probe.
    const perBinding = bindingLimit(this.gpu.limits).bytes;
    const stateFits = (values: number) => Math.floor(perBinding / (program.slots * 4 * values));
    const ways: string[] = [];
    let b = 1; // the batch the size searches run at
    if (B > 1) {
      // fewer items is the way out when one fits; the sizes are searched for one item otherwise
      const n = search(Math.min(B - 1, stateFits(shape.slice(1).reduce((x, y) => x * y, 1))), (k) => fits(at(k, F, H, W)));
      if (n) ways.push(`at most ${n} ${asked.items} fit at this size`);
      else if (n === 0) ways.push(`not even one of the ${asked.items} fits at this size`);
      b = n === 0 ? 1 : 0;
    } else b = B;
    const one = B > 1 ? ' for one item' : '';
    // Latte's frame count is its video_length or 1, not a free choice
    if (b && video && c.family === 'wan' && F > pt) {
      const found = search(Math.min(F / pt - 1, Math.floor(stateFits(b * C * H * W) / pt)), (n) => fits(at(b, n * pt, H, W)));
      const f = (found ?? 0) * pt;
      if (found !== undefined && asked.latents) ways.push(f ? `at most ${pluralVerb(f, 'latent frame', 'fit')} at this height×width${one}` : `no frame count fits at this height×width${one}`);
      else if (found !== undefined) ways.push(f ? `at most ${pluralVerb(frames(f), 'frame', 'fit')} at ${hw(H, W)}${one}` : `no frame count fits at ${hw(H, W)}${one}`);
    }
    if (b && (H > ph || W > pw)) {
      const n = search(Math.max(H / ph, W / pw) - 1, (k) => fits(at(b, F, ...scaled(k))));
      const where = video ? ` at ${asked.latents ? plural(F, 'latent frame') : plural(frames(F), 'frame')}` : '';
      if (n === 0) ways.push(`no height×width fits${where}${one}`);
      else if (n && asked.latents) ways.push(`at most latents [${at(b, F, ...scaled(n)).join(',')}] fit${where}`);
      else if (n) ways.push(`at most ${hw(...scaled(n))} fits${where}${one}`);
    }
    if (!reason.startsWith('the sampler') && this.#canHalve(this.transformer.dtype)) ways.push(`loading the pipeline with dtype 'f16' halves the transformer's and the VAE's bytes`);
    throw new LimitError(`${size} does not fit: ${reason}${ways.length ? `; ${ways.join('; ')}` : ''}`);
  }

  /**
   * Refuses (LimitError), before any stage runs, a decode whose VAE weights + peak activations (a dry run of
   * its recording: Vae.decodeMemory) exceed the VAE's maxMemory (loadPipeline's), naming the stage, the size
   * as the caller gave it, both figures, the largest height×width and frame count that fit, and the budget
   * that would do. The decode's peak grows with height×width; frames and batch items are decoded one at a time.
   */
  async #checkDecodeFits(call: Call): Promise<void> {
    const vae = this.#decoder;
    const budget = vae?.maxMemory;
    if (call.outputType !== 'np' || !vae || budget === undefined) return;
    const shape = call.shape;
    const need = async (s: number[]) => {
      const m = await vae.decodeMemory(s);
      return { ...m, total: m.weights + m.activations };
    };
    const m = await need(shape);
    if (m.total <= budget) return;
    const { c, video, pt, ph, pw, B, C, F, H, W, frames, hw, size, scaled } = this.#sizeTerms(shape, call.asked);
    const at = (f: number, h: number, w: number) => [B, C, ...(video ? [f] : []), h, w];
    const latents = call.asked.latents;
    const ways: string[] = [];
    if (m.weights < budget) {
      // each probe is a dry run (milliseconds per latent frame); the searches stop at a deadline
      const deadline = performance.now() + SEARCH_MS;
      const fits = async (s: number[]) => {
        if (performance.now() > deadline) throw TIME_UP;
        return (await need(s)).total <= budget;
      };
      const search = async (hi: number, ok: (n: number) => Promise<boolean>): Promise<number | undefined> => {
        try {
          return await mostAsync(hi, ok);
        } catch (e) {
          if (e === TIME_UP) return undefined;
          throw e;
        }
      };
      if (H > ph || W > pw) {
        const n = await search(Math.max(H / ph, W / pw) - 1, (k) => fits(at(F, ...scaled(k))));
        const where = video ? ` at ${latents ? plural(F, 'latent frame') : plural(frames(F), 'frame')}` : '';
        if (n === 0) ways.push(`no height×width fits${where}`);
        else if (n && latents) ways.push(`at most latents [${at(F, ...scaled(n)).join(',')}] fit`);
        else if (n) ways.push(`at most ${hw(...scaled(n))} fits${where}`);
      }
      // Latte's frame count is its video_length or 1, not a free choice
      if (video && c.family === 'wan' && F > pt) {
        const found = await search(F / pt - 1, (n) => fits(at(n * pt, H, W)));
        const f = (found ?? 0) * pt;
        if (found !== undefined && latents) ways.push(f ? `at most ${pluralVerb(f, 'latent frame', 'fit')} at this height×width` : `no frame count fits at this height×width`);
        else if (found !== undefined) ways.push(f ? `at most ${pluralVerb(frames(f), 'frame', 'fit')} at ${hw(H, W)}` : `no frame count fits at ${hw(H, W)}`);
      }
    } else ways.push(`the VAE's weights alone exceed it`);
    const upcast = vae.config.kind === 'kl' && vae.config.forceUpcast;
    if (this.#canHalve(vae.dtype) && !upcast) ways.push(`loading the pipeline with dtype 'f16' halves the VAE's bytes`);
    ways.push(`or ${largerBudget(m.total)}`);
    throw new LimitError(
      `${size} does not fit: the VAE decode (stage 'decode', after the denoising loop) needs ${fmtBytes(m.total)} on the GPU (VAE weights ${fmtBytes(m.weights)}, frames, caches and scratch ${fmtBytes(m.activations)}), above the maxMemory budget of ${fmtBytes(budget)}; ${ways.join('; ')}`,
    );
  }

  /** Whether a fit refusal suggests loading the pipeline in f16: a component in `dtype` f32, an adapter that stores f16, and a caller who may choose (fixedDtype). */
  #canHalve(dtype: DType): boolean {
    return canHalve(dtype, this.gpu, this.#fixedDtype);
  }

  /** Why a run over latents `s` (batch s[0]) cannot fit, or undefined: the cheapest check first. */
  #refusal(s: number[], text: TextShapes | undefined, cfg: boolean, program: StepProgram, decode: boolean): string | undefined {
    const lim = this.gpu.limits;
    const { bytes: perBinding, name: limitName } = bindingLimit(lim);
    const B = s[0]!;
    // the sampler (src/sampler/generate.ts) keeps its state in one f32 binding of `slots` latent-sized slots
    const state = program.slots * s.reduce((a, b) => a * b, 1) * 4;
    if (state > perBinding) return `the sampler state (${program.className}: ${program.slots} f32 copies of the latents) needs ${fmtBytes(state)} in one binding, above the adapter's ${limitName} of ${fmtBytes(perBinding)}`;
    if (decode) {
      try {
        this.#decoder!.plan(s);
      } catch (e) {
        // the VAE's own suggestion speaks of latents and CLI flags: the caller's way out follows
        if (e instanceof LimitError) return `the VAE decode: ${e.message.replace(/: use [^:]*$/, '')}`;
        throw e;
      }
    }
    // the transformer passes generate() runs: [cond; uncond] as one batch of 2B, or two passes of B when the text lengths differ
    const c = this.transformer.config;
    const rest = s.slice(1);
    const withB = (t: number[], b: number) => [b, ...t.slice(1)];
    const passes: [number[], number[] | undefined][] = !text
      ? [[[cfg ? 2 * B : B, ...rest], undefined]]
      : !cfg
        ? [[[B, ...rest], withB(text.pos, B)]]
        : text.neg![1] === text.pos[1]
          ? [[[2 * B, ...rest], withB(text.pos, 2 * B)]]
          : [[[B, ...rest], withB(text.pos, B)], [[B, ...rest], withB(text.neg!, B)]];
    let total = this.transformer.weights.bytes;
    for (const [latent, t] of passes) {
      // far over the binding, the shapes say so (estimateMemory refuses such a run without its dry run)
      const far = farOverBinding(c, latent, this.transformer.dtype, lim);
      if (far) return `the transformer's ${far}`;
      const est = estimateMemory(c, latent, t, this.transformer.dtype, lim);
      const over = beyondAdapter(est, lim);
      if (over.tooBig) return `the transformer's largest tensor, ${est.largestName}, is ${fmtBytes(est.largestTensor)}, above the adapter's ${limitName} of ${fmtBytes(perBinding)}`;
      if (over.overflow) return `the transformer cannot be recorded at this size: ${describeOverflow(over.overflow)}`;
      total += est.activations + est.workspace;
    }
    const budget = this.transformer.maxMemory;
    if (budget !== undefined && total > budget) return `the transformer needs ${fmtBytes(total)} (weights, activations and workspace), above its maxMemory budget of ${fmtBytes(budget)}`;
    return undefined;
  }

  /** The checked call, reporting its kernel work to `onKernels` while it runs. */
  async #run(call: Call): Promise<PipelineOutput> {
    const { onKernels } = call;
    const onStage = (s: PipelineStage) => callHook('onStage', `Pipeline.generate, stage ${s}`, call.onStage, s);
    if (!onKernels) return this.#runStages(call, onStage);
    let stage: PipelineStage | undefined;
    // fired inside the GPU code, which cannot wait: a promise it returns is awaited when its stage ends
    const q = hookQueue('onKernels', 'Pipeline.generate', onKernels);
    // the device's events while this call runs (the pipeline runs one call at a time), tagged with its stage
    const unwatch = watchKernels(this.gpu, (e) => stage && q.call({ ...e, stage }));
    try {
      const out = await this.#runStages(call, async (s) => {
        await q.settle();
        stage = s;
        await onStage(s);
      });
      await q.settle();
      return out;
    } finally {
      unwatch();
    }
  }

  /** Text through the encoder, the denoising loop, the decode. */
  async #runStages(call: Call, onStage: (stage: PipelineStage) => Promise<void>): Promise<PipelineOutput> {
    const { opts } = call;
    const stop = (where: string) => throwIfAborted(opts.signal, `Pipeline.generate, ${where}`);
    stop('before it started');
    // the signal is checked at every stage boundary, after the stage's hook too (an abort inside onStage runs nothing of the stage)
    if (call.prompts || call.negs) {
      await onStage('text');
      stop('before the text encoder');
      if (call.prompts) opts.prompt_embeds = await this.#encode(call.prompts, call.L, call.promptName);
      if (call.negs) {
        if (call.prompts) stop('after encoding the prompt');
        opts.negative_prompt_embeds = await this.#encode(call.negs, call.L, call.negName);
      }
      stop('after the text encoder');
    }
    if (call.seeds) {
      // [B, ...]: item b = randn of one item at seed[b] (a list of seeds, as diffusers takes a list of generators)
      const shape = opts.shape!;
      const per = shape.slice(1).reduce((a, b) => a * b, 1);
      const data = new Float32Array(shape[0]! * per);
      call.seeds.forEach((s, b) => data.set(randn(per, s), b * per));
      opts.latents = { data, shape };
      delete opts.shape;
    }
    await onStage('denoise');
    // its abort messages start with Pipeline.generate, as PipelineGenerateOptions.signal says
    const res = await generateAs(this.transformer, opts, { who: 'Pipeline.generate', start: 'Pipeline.generate, before the denoising loop', stepWallClock: call.stepWallClock });
    const out: PipelineOutput = { latents: res.latents, timesteps: res.timesteps };
    if (call.outputType === 'np') {
      stop('before the VAE decode');
      await onStage('decode');
      stop('before the VAE decode');
      const { onDecodeProgress, onDecodeBlock } = call;
      let decoded = '(before its first frame)';
      const onProgress = async (d: number, t: number) => {
        decoded = `(after frame ${d}/${t})`;
        if (onDecodeProgress) await callHook('onDecodeProgress', `Pipeline.generate, decode ${d}/${t}`, onDecodeProgress, d, t);
      };
      const onBlock = onDecodeBlock && ((pass: number, passes: number, part: number, parts: number) => callHook('onDecodeBlock', `Pipeline.generate, decode pass ${pass}/${passes} part ${part}/${parts}`, onDecodeBlock, pass, passes, part, parts));
      // the decode's own abort (`Vae.decode: aborted`) named as the steps' are: the call, and where in the decode it stopped
      // checkDecodeFits measured this decode before the loop: the Vae remembers it (no second dry run)
      const decoding = this.#decoder!.decode(res.latents, { signal: opts.signal, onProgress, ...(onBlock ? { onBlock } : {}) }).catch((e: unknown) => {
        if (e instanceof Error && e.name === 'AbortError' && opts.signal?.aborted) stop(`in the VAE decode ${decoded}`);
        throw e;
      });
      const pixels = postprocessSample(await decoding);
      if (this.family === 'dit') out.images = pixels;
      else out.video = pixels;
    }
    return out;
  }

  /**
   * After a kernel's WGSL changed (invalidateKernel): drops every component's recorded plans (and the
   * text encoder's cached embeddings), so the next generate() records them with the new pipelines.
   * The VAE records its plans per decode and needs nothing. Like every call, it runs after the calls
   * running or queued on the pipeline (at once when there are none), so a running generate keeps its
   * plans; calls made after it record afresh. The promise resolves once the plans are dropped. Inside a
   * callback of a generate() running on the pipeline (onStep, onStage) call it without await: it runs after
   * that call; awaited there it rejects with ReentrantCallError (it would wait for the call, which waits for it).
   * @throws DisposedError after dispose() (thrown at once).
   */
  resetPlans(): Promise<void> {
    return this.#serial.whenIdle(() => Promise.all([this.transformer.resetPlans(), this.#textEncoder?.resetPlans?.()]), 'Pipeline.resetPlans');
  }

  /**
   * Frees the GPU memory of every component (and the device, when the pipeline acquired it). Later
   * calls throw DisposedError; calls made before it (running or queued) finish first.
   */
  dispose(): void {
    this.#serial.dispose(() => {
      this.#textEncoder?.dispose();
      this.#decoder?.dispose();
      this.transformer.dispose();
      if (this.#ownsGpu) this.gpu.destroy();
    });
  }
}

/**
 * The config Pipeline.generate builds scheduler class `cls` from (X.from_config(pipe.scheduler.config)), for a
 * folder whose scheduler_config.json is `config` and whose model_index.json lists class `own`: the file holds every
 * argument of `own` it sets. The one default the classes share under different values is timestep_spacing (DDIM
 * "leading", the multistep ones "linspace"): a file without it passes `own`'s default on. Exported so that a caller
 * may build the scheduler a call will run from the folder's files alone (the CLI's --steps check, before loading).
 */
export function schedulerConfigFor(config: Record<string, unknown>, own: string, cls: SchedulerClass): Record<string, unknown> {
  const spacing = own === 'DDIMScheduler' ? 'leading' : own === 'FlowMatchEulerDiscreteScheduler' ? undefined : 'linspace';
  if (cls === own || cls === 'FlowMatchEulerDiscreteScheduler' || spacing === undefined || config['timestep_spacing'] != null) return config;
  return { ...config, timestep_spacing: spacing };
}

/** Pipeline.generate's `scheduler`: a class or short name. @throws InputError listing the accepted names. */
function schedulerOption(name: unknown): SchedulerClass {
  try {
    return resolveSchedulerClass(name as string, 'scheduler'); // a number is refused as one, not as a name "5"
  } catch (e) {
    if (e instanceof SchedulerConfigError) throw new InputError(e.message, { option: 'scheduler', cause: e });
    throw e;
  }
}

/**
 * The pipeline's scheduler as DiffusionPipeline.from_pretrained builds it: model_index.json's class
 * (`cls`), from scheduler_config.json (`config`, read from `file`). A config whose `_class_name` names
 * another class is read as `cls.from_config(config)`: the values `cls` defines are kept, the rest
 * ignored, and one warning line (`warn`: loadPipeline's onWarning, else console.warn) names both classes and the ignored keys.
 * @throws PipelineError when the classes differ and `cls` is not one tessera runs, or `_class_name` is not a
 *   string; SchedulerConfigError naming `file` for an unsupported class or value.
 */
function pipelineScheduler(config: Record<string, unknown>, cls: string, file: string, warn: (line: string) => void): SchedulerSpec {
  const named = config['_class_name'] ?? cls;
  if (typeof named !== 'string') throw new PipelineError(`${file}: _class_name must be a string naming the scheduler class (model_index.json lists ${cls}), got ${JSON.stringify(named)}`);
  // the sampler's reading of it: unsupported classes/values refused here, naming the file
  if (named === cls) return schedulerFromConfig({ ...config, _class_name: cls }, { file, overrideName: null });
  if (!(SCHEDULER_CLASSES as string[]).includes(cls)) {
    throw new PipelineError(`${file}: _class_name ${JSON.stringify(named)} does not match model_index.json's ${cls}, the class diffusers builds, which tessera does not run (supported: ${SCHEDULER_CLASSES.join(', ')})`);
  }
  // one line, after the values were accepted: from_config's own ignored-keys line is folded into it
  const spec = schedulerFromConfig(config, { override: cls, overrideName: null, file, warn: () => {} });
  // a dropped flow_shift with an effect said first, as generate()'s own swap says it (the call's shift is not known yet)
  const ignored = spec.ignoredKeys.length ? `; ${swapIgnoredNote(config, cls, spec.ignoredKeys, { runs: 'a call without a shift samples' })}` : '';
  warn(`warning: ${file}: _class_name ${JSON.stringify(named)} is not model_index.json's ${cls}: using ${cls} with the values it defines (as diffusers' from_pretrained does)${ignored}`);
  return spec;
}

/**
 * Loads a diffusers pipeline folder: checks model_index.json and each component's config before
 * any weight is read, then the transformer and (unless `vae: false`) the VAE onto one device.
 * `source`: a path or an http(s):// URL (Node), a URL (browser), or a FolderSource over the pipeline folder.
 * @throws InputError (before anything is read) for an option loadPipeline does not have (naming the closest one), a dtype other than
 *   'f32' / 'f16', a `gpu` that is not acquireGpu()'s object (a GPUDevice, …: that goes in `device`), a `device` that is not a GPUDevice or is given with `gpu`, and for a maxMemory that is not a size (before
 *   any weight is read); PipelineError naming the file and what was expected (model_index.json or a
 *   component's config missing, a folder in its place, malformed; a `variant` no component has); ModelFolderError/ConfigError/WeightError/SafetensorsError
 *   from the components; TokenizerError; DtypeUnsupportedError (an InputError) for dtype 'f16' on an adapter without shader-f16;
 *   LimitError; GpuUnavailableError when no `gpu` is given and there is no adapter; whatever `preflight` throws.
 */
export function loadPipeline(source: string | FolderSource, opts: PipelineLoadOptions & { vae: false }): Promise<Pipeline<false>>;
export function loadPipeline(source: string | FolderSource, opts?: PipelineLoadOptions): Promise<Pipeline>;
export async function loadPipeline(source: string | FolderSource, opts: PipelineLoadOptions = {}): Promise<Pipeline> {
  checkOptionNames(opts, Object.keys(LOAD_OPTIONS), 'loadPipeline', "{ dtype: 'f16' }");
  checkDtypeOption(opts.dtype);
  checkDeviceOptions(opts);
  checkSignal(opts.signal);
  checkUnexpectedKeys(opts.unexpectedKeys);
  for (const k of ['onProgress', 'onWarning'] as const) if (opts[k] !== undefined && typeof opts[k] !== 'function') throw new InputError(`${k}: a function, got ${shown(opts[k])}`, { option: k });
  const { onWarning, signal } = opts;
  // an already-aborted signal reads nothing (model_index.json and the component configs come next)
  throwIfAborted(signal, `loadPipeline(${typeof source === 'string' ? source : source.name}), before reading its folder`);
  const folder = typeof source === 'string' ? await resolveFolder(source) : source;
  const root = folderRoot(folder);
  const { index, cls, file } = await readModelIndex(folder);
  const spec = PIPELINES[cls];
  const component = (name: string) => index.components.get(name) ?? null;
  // a second transformer is used by diffusers (WanPipeline's Wan2.2 experts): refused, not ignored
  const second = component('transformer_2');
  if (second) {
    const wan22 = cls === 'WanPipeline' ? ' (WanPipeline with transformer_2: Wan2.2 A14B\'s two experts, switched at boundary_ratio)' : '';
    throw new PipelineError(`${file}: component "transformer_2" (${second.className}) is not supported: tessera runs pipelines of one transformer${wan22}`);
  }
  // image inputs none of these pipeline classes take: diffusers' from_pretrained ignores them with a warning, so does tessera
  const notes: string[] = [];
  for (const extra of ['image_encoder', 'image_processor']) {
    const c = component(extra);
    if (c) notes.push(`note: ${file}: component "${extra}" (${c.className}) ignored: ${cls} takes none (diffusers' from_pretrained ignores it too); tessera runs no image conditioning`);
  }

  // the transformer: listed, and its folder's config names the same class
  const tr = component('transformer');
  if (!tr) throw new PipelineError(`${file}: no "transformer" component (expected ["diffusers", "${spec.transformer[0]}"])`);
  if (!(spec.transformer as readonly string[]).includes(tr.className)) throw new PipelineError(`${file}: "transformer" is ${tr.className}; ${cls} needs ${spec.transformer.join(' or ')}`);
  const trCfg = await readJson(folder, 'transformer/config.json', `model_index.json lists transformer ${tr.className}`);
  if (trCfg['_class_name'] !== tr.className) throw new PipelineError(`${root}/transformer/config.json: _class_name ${JSON.stringify(trCfg['_class_name'])} does not match model_index.json's ${tr.className}`);

  // the scheduler: a config the sampler implements
  const sc = component('scheduler');
  if (!sc) throw new PipelineError(`${file}: no "scheduler" component (expected e.g. ["diffusers", "FlowMatchEulerDiscreteScheduler"])`);
  const schedulerConfig = await readJson(folder, 'scheduler/scheduler_config.json', `model_index.json lists scheduler ${sc.className}`);
  const warnings: string[] = [];
  const scheduler = pipelineScheduler(schedulerConfig, sc.className, `${root}/scheduler/scheduler_config.json`, (line) => warnings.push(line));
  for (const line of [...notes, ...warnings]) await warnLine(onWarning, 'loadPipeline', line);

  // the VAE (optional): its class and config, for the pixel sizes
  const va = component('vae');
  const vaeCfg = await readVaeConfig(folder, index, cls, file);
  const scale = vaeScale(vaeCfg, spec.family === 'wan' ? 'wan' : 'kl', `${root}/vae/config.json`);

  // the text encoder: a class tessera runs, checked from model_index.json alone, before any weight reaches the GPU
  const te = component('text_encoder');
  // one it does not run is left unloaded unless asked for (generate() then refuses a prompt, naming the class)
  const unrun = te && te.className !== 'UMT5EncoderModel' ? te.className : undefined;
  if (unrun && opts.textEncoder !== undefined && opts.textEncoder !== false) throw new PipelineError(`${file}: "text_encoder" is ${unrun}; tessera's text encoder is UMT5EncoderModel (WanPipeline); pass textEncoder: false (or leave it out) and give prompt_embeds`);
  const loadTe = !!te && !unrun && opts.textEncoder !== false;
  if (loadTe && !component('tokenizer')) throw new PipelineError(`${file}: "text_encoder" is listed without a "tokenizer"`);

  // the weight variant: per component, refused when no component has it (diffusers' DiffusionPipeline.from_pretrained)
  const withVariant = new Set<string>();
  if (opts.variant !== undefined) {
    if (!/^[A-Za-z0-9_-]+$/.test(opts.variant)) throw new PipelineError(`variant ${JSON.stringify(opts.variant)} must be a plain name such as fp16 or bf16`);
    const cands: [string, string][] = [['transformer', 'diffusion_pytorch_model']];
    if (va && opts.vae !== false) cands.push(['vae', 'diffusion_pytorch_model']);
    if (loadTe) cands.push(['text_encoder', 'model']);
    for (const [sub, base] of cands) if (await hasVariant(subFolder(folder, sub), base, opts.variant)) withVariant.add(sub);
    if (!withVariant.size) {
      // the variants the components do have (folders that list their files), in words that read for the option and the flag alike
      const there = new Map<string, string[]>();
      // components whose listing shows no default weights (no variant in the name): loading without a variant fails there
      const noDefault: string[] = [];
      let listed = true;
      for (const [sub, base] of cands) {
        const files = await listedFiles(subFolder(folder, sub));
        if (files === null) listed = false;
        else if (!files.some((f) => f === `${base}.safetensors` || f === `${base}.safetensors.index.json`)) noDefault.push(`${sub}/${base}.safetensors`);
        for (const f of files ?? []) {
          const v = fileVariant(f, base);
          if (v !== null) there.set(v, [...(there.get(v) ?? []), `${sub}/${f}`]);
        }
      }
      const have = there.size ? `the weight variant${there.size > 1 ? 's' : ''} there: ${[...there].map(([v, fs]) => `${v} (${fs.sort().join(', ')})`).join(', ')}; ` : '';
      const ask = there.size === 1 ? `ask for the variant ${[...there.keys()][0]}` : there.size ? 'ask for one of those variants' : 'the folder holds no weights for them';
      const without =
        !listed || !noDefault.length ? 'without a variant the default weights load'
        : noDefault.length === cands.length ? `there are no default weights either (no ${noDefault.join(', ')} or index): ${ask}`
        : `without a variant ${noDefault.join(', ')} (or its index) is missing: ${ask}`;
      throw new PipelineError(`${root}: no component has the weight variant ${opts.variant} (looked in ${cands.map(([sub, base]) => `${sub}/${base}.${opts.variant}.safetensors`).join(', ')} and their indexes); ${have}${without}`);
    }
  }
  const variantOf = (sub: string) => (withVariant.has(sub) ? { variant: opts.variant } : {});

  return withLoadGpu(loadGpuOf(opts), async (gpu, owned) => {
    let transformer: DiffusionModel | undefined;
    let vae: Vae | undefined;
    let textEncoder: PromptEncoder | undefined;
    const stop = (where: string) => throwIfAborted(signal, `loadPipeline(${root}), ${where}`);
    // what every component's loader takes alike: the signal, what to do with unexpected tensors, where warnings go
    const shared = { ...(signal ? { signal } : {}), ...(opts.unexpectedKeys ? { unexpectedKeys: opts.unexpectedKeys } : {}), ...(onWarning ? { onWarning } : {}) };
    try {
      stop('before the transformer');
      transformer = await loadModel(subFolder(folder, 'transformer'), {
        ...shared,
        gpu,
        dtype: opts.dtype,
        maxMemory: opts.maxMemory,
        preflight: opts.preflight && ((config, g, dtype) => opts.preflight!(config, g, dtype, scale, { f16: canHalve(dtype, g, opts.fixedDtype === true) })),
        ...variantOf('transformer'),
        onProgress: opts.onProgress && ((d, t) => opts.onProgress!('transformer', d, t)),
      });
      if (transformer.family !== spec.family) throw new PipelineError(`${root}/transformer/config.json: a ${transformer.family} transformer in a ${cls}`);
      const budget = transformer.maxMemory; // opts.maxMemory in bytes, parsed by loadModel
      if (va && opts.vae !== false) stop('before the vae');
      if (va && opts.vae !== false) vae = await loadVae(subFolder(folder, 'vae'), { gpu, dtype: opts.dtype, maxMemory: budget, ...variantOf('vae'), ...shared, onProgress: opts.onProgress && ((d, t) => opts.onProgress!('vae', d, t)) });
      if (loadTe) {
        stop('before the text_encoder');
        const teOpts = typeof opts.textEncoder === 'object' ? opts.textEncoder : {};
        textEncoder = await loadTextEncoder(
          { tokenizer: subFolder(folder, 'tokenizer'), textEncoder: subFolder(folder, 'text_encoder') },
          { ...(await textEncoderBudget(folder, teOpts, budget, gpu)), ...teOpts, ...variantOf('text_encoder'), ...shared, gpu, onProgress: opts.onProgress && ((d, t) => opts.onProgress!('text_encoder', d, t)) },
        );
      }
      const pipe = createPipeline({
        name: root, className: cls, modelIndex: index, folder, gpu, transformer, vae, schedulerConfig, scheduler, vaeScale: scale, ownsGpu: owned,
        textEncoder, unrunTextEncoder: unrun, onWarning, fixedDtype: opts.fixedDtype === true,
      });
      stop('after loading every component');
      return pipe;
    } catch (e) {
      textEncoder?.dispose();
      vae?.dispose();
      transformer?.dispose();
      // a variant-only component: the option that loads it is loadPipeline's own
      if (e instanceof ModelFolderError && pipelineVariantHint(e.detail) !== e.detail) throw new ModelFolderError(pipelineVariantHint(e.detail), e.file, e.tensor, { cause: e });
      throw e;
    }
  });
}
