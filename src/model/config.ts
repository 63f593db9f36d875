// diffusers config.json → a checked, typed config per family. Every inconsistency is an error
// that says what was expected and what was found. A key set to null is a value, not an absent key:
// diffusers passes None to the model's __init__, which fails unless the parameter is Optional; only
// those (out_channels, added_kv_proj_dim, image_dim, ...) accept null here.
import { componentKind } from '../io/component-kind.js';
import { shownValue } from '../io/json.js';

/** The transformer families: Wan2.1 (WanTransformer3DModel), DiT (DiTTransformer2DModel), Latte (LatteTransformer3DModel). */
export type Family = 'wan' | 'dit' | 'latte';

/** A config.json tessera cannot run: unsupported class, missing key, a value of the wrong type or range, or values that contradict each other; the message names the key, what was expected and what was found. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_CONFIG';
}

export interface WanConfig {
  family: 'wan';
  patch: [number, number, number];
  heads: number;
  headDim: number;
  dim: number;
  inChannels: number;
  outChannels: number;
  textDim: number;
  freqDim: number;
  ffnDim: number;
  layers: number;
  crossAttnNorm: boolean;
  eps: number;
  /** rope_max_seq_len: positions per axis of the 3-D RoPE tables (diffusers' default 1024); the
   *  grid after patching may be at most this long on each of frames, height and width. */
  ropeMaxSeqLen: number;
}

export interface DitConfig {
  family: 'dit';
  patch: number;
  heads: number;
  headDim: number;
  dim: number;
  inChannels: number;
  outChannels: number;
  layers: number;
  numClasses: number;
  sampleSize: number;
  /** LayerNorm eps of the MLP branch (norm3); the attention branch and the head use 1e-6. */
  normEps: number;
  ffnDim: number;
}

export interface LatteConfig {
  family: 'latte';
  patch: number;
  heads: number;
  headDim: number;
  dim: number;
  inChannels: number;
  outChannels: number;
  layers: number;
  sampleSize: number;
  captionChannels: number;
  crossAttentionDim: number;
  normEps: number;
  videoLength: number;
  ffnDim: number;
  interpolationScale: number;
}

/** A checked transformer config, one per family (`family` tells which). */
export type ModelConfig = WanConfig | DitConfig | LatteConfig;

/**
 * The patch [pt, ph, pw] a transformer cuts its latent into (frames, rows, columns): Wan's
 * patch_size, or one frame by patch_size² for DiT and Latte (Latte patches each frame alone).
 */
export const patchDims = (c: ModelConfig): [number, number, number] => (c.family === 'wan' ? c.patch : [1, c.patch, c.patch]);

/** A latent's size in latent pixels: frames (ignored for a DiT, whose latent is one image), height, width. */
export interface LatentGrid {
  frames: number;
  height: number;
  width: number;
}

/**
 * Tokens per batch item after the patch embedding: ⌈F/pt⌉·⌈H/ph⌉·⌈W/pw⌉ with [pt, ph, pw] = patchDims(c),
 * F = 1 for a DiT. `latent` is a grid or a latent shape ([B, C, F, H, W]; a DiT's [B, C, H, W]).
 * A partial patch counts as one (patchify refuses such a latent; estimates made before that check
 * stay lower bounds). The one count the memory estimate, the demo's CPU note and the benchmarks share.
 */
export function patchTokens(c: ModelConfig, latent: LatentGrid | readonly number[]): number {
  const [pt, ph, pw] = patchDims(c);
  const [F, H, W] = ('height' in latent ? [latent.frames, latent.height, latent.width] : latent.length === 5 ? latent.slice(2) : [1, ...latent.slice(2)]) as [number, number, number];
  return (c.family === 'dit' ? 1 : Math.ceil(F / pt)) * Math.ceil(H / ph) * Math.ceil(W / pw);
}

type Raw = Record<string, unknown>;

/** The value of `key`, or `def` when the key is absent (JSON has no undefined: null stays null). */
const valueOf = (c: Raw, key: string, def?: unknown): unknown => (c[key] === undefined ? def : c[key]);

function int(c: Raw, key: string, def?: number, min = 1): number {
  const v = valueOf(c, key, def);
  if (v === undefined) throw new ConfigError(`missing "${key}"`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new ConfigError(`"${key}" must be an integer ≥ ${min}, found ${shownValue(v)}`);
  return v;
}

// A layer count far beyond any released model (Wan2.1-14B 40, DiT-XL 28, Latte 28) is a damaged
// config.json, not a model: refused here, before planning or listing millions of layers' tensors.
const MAX_LAYERS = 4096;

function layers(c: Raw, def: number): number {
  const n = int(c, 'num_layers', def);
  if (n > MAX_LAYERS) throw new ConfigError(`"num_layers" ${n} is beyond what tessera plans (at most ${MAX_LAYERS}; released models have at most 40): the config is damaged or not a transformer's`);
  return n;
}

function num(c: Raw, key: string, def: number): number {
  const v = valueOf(c, key, def);
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ConfigError(`"${key}" must be a positive number, found ${shownValue(v)}`);
  return v;
}

/** A boolean key: only JSON true/false ("true" or 1 would be read by Python as truthy, whatever they meant). */
function bool(c: Raw, key: string, def: boolean): boolean {
  const v = valueOf(c, key, def);
  if (typeof v !== 'boolean') throw new ConfigError(`"${key}" must be true or false, found ${shownValue(v)}`);
  return v;
}

/** DiT/Latte add a 2-D sin-cos position embedding over the width: it needs a multiple of 4. */
function checkPosEmbedDim(heads: number, headDim: number): void {
  const dim = heads * headDim;
  if (dim % 4 !== 0) {
    throw new ConfigError(`num_attention_heads × attention_head_dim = ${heads} × ${headDim} = ${dim} must be a multiple of 4 (2-D sin-cos position embedding), found ${dim} (remainder ${dim % 4})`);
  }
}

/** The attention kernel's head dims (kernels/attention.wgsl): checked here so a config it cannot run
 *  is refused before any weight is read, not when the plan is recorded. */
function checkHeadDim(headDim: number): void {
  if (headDim < 8 || headDim > 128 || headDim % 4 !== 0) {
    throw new ConfigError(`attention_head_dim ${headDim} is not supported by the attention kernel (expected a multiple of 4 from 8 to 128)`);
  }
}

function expectValue(c: Raw, key: string, allowed: unknown[], def?: unknown): void {
  const v = valueOf(c, key, def);
  if (v === undefined) return;
  if (allowed.every((a) => typeof a === 'boolean') && typeof v !== 'boolean') throw new ConfigError(`"${key}" must be true or false, found ${shownValue(v)}`);
  if (!allowed.some((a) => a === v)) {
    throw new ConfigError(`"${key}" = ${shownValue(v)} is not supported (expected ${allowed.map((a) => shownValue(a)).join(' or ')})`);
  }
}

/**
 * Runs a config parser whose ConfigErrors say only the key, prefixing each message with `file`
 * (the config.json path the user gave, so a wrong folder is named), keeping the error kind.
 */
export function inConfigFile<T>(file: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`${file}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Which family a config belongs to (diffusers maps Transformer2DModel + ada_norm_zero to DiT). */
function familyOf(c: Raw): Family {
  const cls = c._class_name;
  if (cls === 'WanTransformer3DModel') return 'wan';
  if (cls === 'DiTTransformer2DModel') return 'dit';
  if (cls === 'Transformer2DModel' && c.norm_type === 'ada_norm_zero') return 'dit';
  if (cls === 'LatteTransformer3DModel') return 'latte';
  // another component's folder (a VAE's, a text encoder's) given for the transformer's: what it is and where it goes
  const other = componentKind(c);
  if (other && other.sub !== 'transformer') {
    throw new ConfigError(`${other.cls}: ${other.what} folder's config.json, not a transformer's: load that folder with ${other.loader}, and give loadModel the pipeline's transformer/ folder`);
  }
  throw new ConfigError(
    `_class_name ${shownValue(cls)} is not supported (expected WanTransformer3DModel, DiTTransformer2DModel, ` +
      `Transformer2DModel with norm_type "ada_norm_zero", or LatteTransformer3DModel)`,
  );
}

/**
 * Checks and types a diffusers transformer config.json: the family from `_class_name`
 * (WanTransformer3DModel, DiTTransformer2DModel or Transformer2DModel with norm_type
 * "ada_norm_zero", LatteTransformer3DModel), diffusers' defaults for absent keys.
 * @param file The config's path for messages (loaders pass `folder/config.json`).
 * @throws ConfigError `<file>: <what>` naming the key for an unsupported class or a bad or inconsistent value.
 */
export function parseConfig(c: Raw, file = 'config.json'): ModelConfig {
  return inConfigFile(file, () => {
    const family = familyOf(c);
    const cfg = family === 'wan' ? parseWan(c) : family === 'dit' ? parseDit(c) : parseLatte(c);
    checkHeadDim(cfg.headDim); // after the family's own, more specific checks
    return cfg;
  });
}

function parseWan(c: Raw): WanConfig {
  const patchRaw = valueOf(c, 'patch_size', [1, 2, 2]);
  if (!Array.isArray(patchRaw) || patchRaw.length !== 3 || !patchRaw.every((p) => Number.isInteger(p) && p >= 1)) {
    throw new ConfigError(`"patch_size" must be 3 positive integers [pt, ph, pw], found ${shownValue(patchRaw)}`);
  }
  const heads = int(c, 'num_attention_heads', 40);
  const headDim = int(c, 'attention_head_dim', 128);
  expectValue(c, 'qk_norm', ['rms_norm_across_heads'], 'rms_norm_across_heads');
  expectValue(c, 'added_kv_proj_dim', [null], null);
  expectValue(c, 'image_dim', [null], null);
  expectValue(c, 'pos_embed_seq_len', [null], null);
  if (headDim % 2 !== 0) throw new ConfigError(`attention_head_dim must be even for the 3-D RoPE (pairs of channels rotate), found ${headDim}`);
  // Wan's split: h = w = 2·(d//6), t = d − 2h (transformer_wan.py, WanRotaryPosEmbed).
  const hw = 2 * Math.floor(headDim / 6);
  const t = headDim - 2 * hw;
  if (hw === 0 || t <= 0 || t % 2 !== 0) throw new ConfigError(`attention_head_dim ${headDim} gives an invalid RoPE split over (frames, rows, columns): t ${t}, h ${hw}, w ${hw} (h = w = 2·⌊d/6⌋, t = d − 2h); expected three even parts ≥ 2, i.e. a head dim ≥ 6`);
  const inChannels = int(c, 'in_channels', 16);
  return {
    family: 'wan',
    patch: patchRaw as [number, number, number],
    heads,
    headDim,
    dim: heads * headDim,
    inChannels,
    // diffusers: out_channels = out_channels or in_channels (Optional in effect)
    outChannels: c.out_channels === null ? inChannels : int(c, 'out_channels', 16),
    textDim: int(c, 'text_dim', 4096),
    freqDim: int(c, 'freq_dim', 256, 2),
    ffnDim: int(c, 'ffn_dim', 13824),
    layers: layers(c, 40),
    crossAttnNorm: bool(c, 'cross_attn_norm', true),
    eps: num(c, 'eps', 1e-6),
    ropeMaxSeqLen: int(c, 'rope_max_seq_len', 1024),
  };
}

function parseDit(c: Raw): DitConfig {
  const heads = int(c, 'num_attention_heads', 16);
  const headDim = int(c, 'attention_head_dim', 72);
  expectValue(c, 'activation_fn', ['gelu-approximate'], 'gelu-approximate');
  expectValue(c, 'norm_type', ['ada_norm_zero'], 'ada_norm_zero');
  expectValue(c, 'norm_elementwise_affine', [false], false);
  expectValue(c, 'attention_bias', [true], true);
  expectValue(c, 'upcast_attention', [false], false);
  if (c.cross_attention_dim !== undefined && c.cross_attention_dim !== null) throw new ConfigError('"cross_attention_dim" must be null for DiT (class-conditional, no text)');
  const inChannels = int(c, 'in_channels', 4);
  const outChannels = c.out_channels === null || c.out_channels === undefined ? inChannels : int(c, 'out_channels');
  const numClasses = int(c, 'num_embeds_ada_norm', 1000);
  checkPosEmbedDim(heads, headDim);
  const dim = heads * headDim;
  return {
    family: 'dit',
    patch: int(c, 'patch_size', 2),
    heads,
    headDim,
    dim,
    inChannels,
    outChannels,
    layers: layers(c, 28),
    numClasses,
    sampleSize: int(c, 'sample_size', 32),
    normEps: num(c, 'norm_eps', 1e-5),
    ffnDim: 4 * dim,
  };
}

function parseLatte(c: Raw): LatteConfig {
  const heads = int(c, 'num_attention_heads', 16);
  const headDim = int(c, 'attention_head_dim', 88);
  expectValue(c, 'activation_fn', ['gelu-approximate'], 'geglu');
  expectValue(c, 'norm_type', ['ada_norm_single'], 'layer_norm');
  expectValue(c, 'norm_elementwise_affine', [false], true);
  expectValue(c, 'attention_bias', [true], false);
  expectValue(c, 'upcast_attention', [false], false);
  checkPosEmbedDim(heads, headDim);
  const dim = heads * headDim;
  const inChannels = int(c, 'in_channels');
  const sampleSize = int(c, 'sample_size', 64);
  const cross = int(c, 'cross_attention_dim');
  if (cross !== dim) throw new ConfigError(`cross_attention_dim ${cross} must equal num_attention_heads × attention_head_dim = ${heads} × ${headDim} = ${dim} (the caption is projected to the inner dim), found ${cross}`);
  return {
    family: 'latte',
    patch: int(c, 'patch_size', 2),
    heads,
    headDim,
    dim,
    inChannels,
    outChannels: c.out_channels === null || c.out_channels === undefined ? inChannels : int(c, 'out_channels'),
    layers: layers(c, 1),
    sampleSize,
    captionChannels: int(c, 'caption_channels'),
    crossAttentionDim: cross,
    normEps: num(c, 'norm_eps', 1e-5),
    videoLength: int(c, 'video_length', 16),
    ffnDim: 4 * dim,
    interpolationScale: Math.max(Math.floor(sampleSize / 64), 1),
  };
}
