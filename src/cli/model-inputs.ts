// Maps a safetensors inputs file onto a model's forward inputs, naming the tensor at fault.
import { FLOATS, readInputs, readInputsHeader, type InputHeader, type InputTensor } from '../io/inputs.js';
import type { ModelConfig } from '../model/config.js';
import { InputError, type TensorData } from '../model/model.js';
import { UsageError, type Parsed } from './args.js';
import { checkCommandFiles } from './outputs.js';

// generate's text embeddings under the transformer's names, or under diffusers' pipeline names
// (WanPipeline's prompt_embeds, what `tessera encode` writes): one pair per file (textNames)
const MODEL_TEXT = ['encoder_hidden_states', 'negative_encoder_hidden_states'] as const;
const PIPELINE_TEXT = ['prompt_embeds', 'negative_prompt_embeds'] as const;
const TEXT_NAMES = [...MODEL_TEXT, ...PIPELINE_TEXT];

/** generate's text tensors, for messages: what --inputs may hold instead of --prompt. */
export const TEXT_EMBEDDING_NAMES = 'encoder_hidden_states [B, L, dim] and, with guidance > 1, negative_encoder_hidden_states (or the pipeline names prompt_embeds and negative_prompt_embeds, as tessera encode writes them)';

export const INPUT_NAMES: Record<ModelConfig['family'], { forward: string[]; generate: string[] }> = {
  wan: { forward: ['hidden_states', 'timestep', 'encoder_hidden_states'], generate: ['latents', ...TEXT_NAMES] },
  latte: { forward: ['hidden_states', 'timestep', 'encoder_hidden_states'], generate: ['latents', ...TEXT_NAMES] },
  dit: { forward: ['hidden_states', 'timestep', 'class_labels'], generate: ['latents', 'class_labels'] },
};

/**
 * Rejects unknown tensor names, listing the expected ones, and missing required ones. `ignored`: names
 * taken beside the required ones and never read (decode's "video"/"images" from generate's --out); a
 * missing tensor's message says they do not stand in for it.
 */
export function checkNames(file: string, inputs: ReadonlyMap<string, InputHeader>, allowed: string[], required: string[], ignored: string[] = []): void {
  for (const name of inputs.keys()) {
    if (!allowed.includes(name)) throw new InputError(`${file}: unexpected tensor "${name}"; expected ${allowed.join(', ')}`);
  }
  for (const name of required) {
    if (inputs.has(name)) continue;
    if (ignored.length) throw new InputError(`${file}: missing tensor "${name}": needs ${required.join(', ')} (${ignored.join('/')} beside it ${ignored.length > 1 ? 'are' : 'is'} ignored)`);
    throw new InputError(`${file}: missing tensor "${name}" (expected ${allowed.join(', ')})`);
  }
}

/** Tensor `name` of an inputs file as a float tensor, from its header (`t`). @throws InputError naming the file, the tensor and its dtype. */
export function checkFloatHeader(file: string, name: string, t: InputHeader): void {
  if (!FLOATS.has(t.dtype)) throw new InputError(`${file}: tensor "${name}" must be a float tensor (F32/F16/BF16/F64), found ${t.dtype}`);
}

/** Tensor `name` of an inputs file as class ids, from its header (`t`): an integer dtype, 1-D [B]. @throws InputError naming the file and the tensor. */
function checkIntHeader(file: string, name: string, t: InputHeader): void {
  if (FLOATS.has(t.dtype)) throw new InputError(`${file}: tensor "${name}" must be an integer tensor (I64), found ${t.dtype}`);
  if (t.shape.length !== 1) throw new InputError(`${file}: tensor "${name}" must be 1-D [B], found [${t.shape.join(',')}]`);
}

export function floatInput(file: string, inputs: Map<string, InputTensor>, name: string): TensorData {
  const t = inputs.get(name)!;
  checkFloatHeader(file, name, t);
  return { data: t.f32!, shape: t.shape };
}

/**
 * A tensor of numbers, float or integer: diffusers' timesteps are often int64. Integers are
 * converted (exact up to 2^24, the f32 the model takes).
 */
export function numberInput(file: string, inputs: Map<string, InputTensor>, name: string): TensorData {
  const t = inputs.get(name)!;
  if (t.f32) return { data: t.f32, shape: t.shape };
  if (t.i64 && t.dtype !== 'BOOL') return { data: Float32Array.from(t.i64, Number), shape: t.shape };
  throw new InputError(`${file}: tensor "${name}" must be a tensor of numbers (F32/F16/BF16 or an integer dtype), found ${t.dtype}`);
}

export function intInput(file: string, inputs: Map<string, InputTensor>, name: string): number[] {
  const t = inputs.get(name)!;
  checkIntHeader(file, name, t);
  return Array.from(t.i64!, (v) => {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw new InputError(`${file}: "${name}" value ${v} is out of range`);
    return Number(v);
  });
}

/**
 * The names under which an inputs file holds generate's text embeddings, [positive, negative (the
 * unconditional half of guidance)]: one family per file, the transformer's (encoder_hidden_states) or
 * diffusers' pipeline names (prompt_embeds, what tessera encode writes); the transformer's when the file
 * has neither. So a file of prompt_embeds alone is missing "negative_prompt_embeds", in its own terms.
 * @throws InputError naming the file when it holds names of both families (encoder_hidden_states beside
 *   prompt_embeds or negative_prompt_embeds …): which pair belongs together is not for tessera to guess.
 */
export function textNames(file: string | undefined, inputs: ReadonlyMap<string, unknown>): readonly [string, string] {
  const model = MODEL_TEXT.filter((n) => inputs.has(n));
  const pipe = PIPELINE_TEXT.filter((n) => inputs.has(n));
  if (model.length && pipe.length) {
    throw new InputError(`${file}: holds ${[...model, ...pipe].map((n) => `"${n}"`).join(' and ')}: text embeddings under the transformer's names (encoder_hidden_states, negative_encoder_hidden_states) or the pipeline's (prompt_embeds, negative_prompt_embeds), one pair, not both`);
  }
  return pipe.length ? PIPELINE_TEXT : MODEL_TEXT;
}

/**
 * generate's --inputs, first as its header: --out and the path flags checked (as commandInputs),
 * then the dtype and shape of each tensor, no data read, so the flag and memory checks run on the
 * shapes (a header claiming huge latents is refused before gigabytes are read); an empty map
 * without --inputs. generateInputs reads the tensors once those checks have passed.
 * @throws UsageError naming the flag; FileAccessError / SafetensorsError for an unreadable inputs file.
 */
export async function generateInputHeader(p: Parsed): Promise<Map<string, InputHeader>> {
  checkCommandFiles(p, { outChecked: true });
  if (!p.inputs) return new Map();
  const header = await readInputsHeader(p.inputs as string);
  // the text under both names is refused here, before any weight is read
  textNames(p.inputs as string, header);
  return header;
}

/** The tensors of generate's --inputs (after generateInputHeader's checks; `header` its answer, not parsed again); an empty map without it. */
export async function generateInputs(p: Parsed, header: ReadonlyMap<string, InputHeader>): Promise<Map<string, InputTensor>> {
  return p.inputs ? noteF64(p.inputs as string, await readInputs(p.inputs as string, header)) : new Map();
}

/**
 * The tensors read (`inputs`), after one stderr line naming those stored F64 (numpy's default float), which the
 * model takes as f32 (a float64 file's extra precision is dropped): `note: FILE: F64 hidden_states read as f32`.
 */
export function noteF64(file: string, inputs: Map<string, InputTensor>): Map<string, InputTensor> {
  const f64 = [...inputs].filter(([, t]) => t.dtype === 'F64').map(([name]) => name);
  if (f64.length) console.error(`note: ${file}: F64 ${f64.join(', ')} read as f32`);
  return inputs;
}

/** What `generate` conditions on, from its inputs file or flags (diffusers' tensor names in the file). */
export interface GenerateConditioning {
  /** Initial noise (absent with --seed). */
  latents?: TensorData;
  /** DiT: [B] class ids (inputs class_labels, or --class-label × --batch). */
  class_labels?: number[];
  /** Wan/Latte: encoder_hidden_states [B, L, dim] and, for CFG, negative_encoder_hidden_states. */
  encoder_hidden_states?: TensorData;
  negative_encoder_hidden_states?: TensorData;
}

/**
 * `--seed` makes the initial noise, so an inputs file that also holds `latents` is two answers to
 * one question: refused (before any weight is read) rather than one silently ignored.
 * @throws UsageError naming the flag, the file and the tensor.
 */
export function checkSeedVsLatents(p: Parsed, inputs: ReadonlyMap<string, InputHeader>): void {
  if (p.seed !== undefined && p.inputs && inputs.has('latents')) {
    throw new UsageError(`--seed ${p.seed} and the tensor "latents" in ${p.inputs as string} both give the initial noise: drop --seed to start from the file's latents, or remove "latents" from the file to start from seeded noise`);
  }
}

/**
 * The inputs file's latents (`shape`, from its header or its tensor) of the rank a `family` model takes: generate's
 * check when it reads the file, and generate --pipeline's from the header before the pipeline loads.
 * @throws InputError naming the file, the tensor, its shape and the layout expected.
 */
export function checkLatentsRank(file: string, family: ModelConfig['family'], shape: readonly number[]): void {
  const rank = family === 'dit' ? 4 : 5;
  if (shape.length !== rank) throw new InputError(`${file}: tensor "latents" must be ${rank === 5 ? '[B, C, F, H, W]' : '[B, C, H, W]'} (${rank} dims) for a ${family} model, found [${shape.join(',')}]`);
}

/**
 * Everything generateConditioning checks that the inputs file's header answers (`inputs`: readInputsHeader's map, or the
 * tensors): --prompt beside text in the file, --seed beside latents, unknown and missing tensor names, the dtypes (float
 * latents and text, integer class_labels of one dimension) and the latents' rank; without a file, the flags a family
 * needs instead (--class-label, text). Called by generateConditioning, and by generate before the model or pipeline
 * loads, so that a file that names the wrong tensors is refused before any weight is read, in the same lines.
 * `family`, `cfg` and `textFromPrompt` as generateConditioning's. @throws InputError / UsageError naming the file, tensor or flag.
 */
export function checkConditioningHeader(p: Parsed, family: ModelConfig['family'], inputs: ReadonlyMap<string, InputHeader>, cfg: boolean, textFromPrompt = false): void {
  const file = p.inputs as string | undefined;
  const [pos, neg] = family === 'dit' ? ['encoder_hidden_states', 'negative_encoder_hidden_states'] : textNames(file, inputs);
  if (textFromPrompt) {
    for (const name of TEXT_NAMES) {
      if (inputs.has(name)) throw new UsageError(`--prompt and the tensor "${name}" in ${file} both give the text: drop --prompt to use the file's embeddings, or remove "${name}" from the file`);
    }
  }
  if (file) {
    checkSeedVsLatents(p, inputs);
    const required = family === 'dit' ? ['class_labels'] : textFromPrompt ? [] : [pos];
    if (p.seed === undefined) required.push('latents');
    if (family !== 'dit' && cfg && !textFromPrompt) required.push(neg);
    checkNames(file, inputs, INPUT_NAMES[family].generate, required);
    const latents = inputs.get('latents');
    if (latents) {
      checkFloatHeader(file, 'latents', latents);
      checkLatentsRank(file, family, latents.shape);
    }
    if (family === 'dit') checkIntHeader(file, 'class_labels', inputs.get('class_labels')!);
    else if (!textFromPrompt) {
      checkFloatHeader(file, pos, inputs.get(pos)!);
      if (inputs.has(neg)) checkFloatHeader(file, neg, inputs.get(neg)!);
    }
  } else if (family === 'dit') {
    if (p['class-label'] === undefined) throw new UsageError('DiT needs class ids: --inputs with class_labels, or --class-label N');
  } else if (!textFromPrompt) {
    throw new UsageError(`${family} needs text: give --prompt (with --pipeline), or --inputs with ${cfg ? TEXT_EMBEDDING_NAMES : 'encoder_hidden_states [B, L, dim] (or prompt_embeds)'}`);
  }
}

/**
 * The note for a negative text tensor in --inputs that an unguided run (`cfg` false: guidance ≤ 1) does not read, or
 * undefined: `guidance` how the scale came, in the flags' words (`--guidance 1`, `--guidance is 1 (the default with
 * --model)`). As generate() and Pipeline.generate say it, in flag words; the CLI then leaves the tensor out.
 */
export function negativeInputNote(p: Parsed, header: ReadonlyMap<string, unknown>, cfg: boolean, guidance: string): string | undefined {
  const file = p.inputs as string | undefined;
  if (cfg || file === undefined) return undefined;
  const neg = textNames(file, header)[1];
  if (!header.has(neg)) return undefined;
  return `note: ${file}: ${neg} unused: ${guidance}, so classifier-free guidance is off; give --guidance G > 1 to use it`;
}

/**
 * The line for a --guidance below 1 (user24 #5: `--guidance -1` / `0.5` ran unguided without a word). Accepted, as
 * diffusers accepts it (do_classifier_free_guidance = guidance_scale > 1, e.g. pipeline_wan.py), and then not applied
 * at all: the run is the one --guidance 1 gives. 1 itself is the usual way to turn guidance off and gets no line.
 */
export function guidanceBelowOneNote(p: Parsed): string | undefined {
  const g = p.guidance as number | undefined;
  if (g === undefined || !(g < 1)) return undefined;
  return `note: --guidance ${g} is below 1: classifier-free guidance is off at ≤ 1 (as diffusers, guidance_scale > 1 guides), so this runs exactly as --guidance 1; give G > 1 to guide`;
}

/**
 * Reads the conditioning of a `generate` run: the inputs file's tensors (unknown names refused,
 * required ones named: checkConditioningHeader) or, for seeded DiT runs, --class-label. `cfg`: guidance > 1 (the
 * negative text is required). `textFromPrompt`: the text comes from --prompt (the pipeline's text encoder),
 * so the file holds no text embeddings. @throws InputError / UsageError naming the file, tensor or flag.
 */
export function generateConditioning(p: Parsed, family: ModelConfig['family'], inputs: Map<string, InputTensor>, cfg: boolean, textFromPrompt = false): GenerateConditioning {
  checkConditioningHeader(p, family, inputs, cfg, textFromPrompt);
  const out: GenerateConditioning = {};
  const file = p.inputs as string | undefined;
  if (file) {
    if (inputs.has('latents')) out.latents = floatInput(file, inputs, 'latents');
    if (family === 'dit') out.class_labels = intInput(file, inputs, 'class_labels');
    else if (!textFromPrompt) {
      const [pos, neg] = textNames(file, inputs);
      out.encoder_hidden_states = floatInput(file, inputs, pos);
      if (inputs.has(neg)) out.negative_encoder_hidden_states = floatInput(file, inputs, neg);
    }
  } else if (family === 'dit') out.class_labels = new Array(p.batch as number).fill(p['class-label']);
  return out;
}
