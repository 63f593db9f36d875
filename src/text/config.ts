// The text encoder's config.json (transformers UMT5Config) as tessera uses it, and the state-dict
// keys and shapes it implies (UMT5EncoderModel: shared embedding, N blocks of self-attention with
// their own relative position bias + gated-GELU feed-forward, final norm).
import { ConfigError, inConfigFile } from '../model/config.js';

/** A checked UMT5EncoderModel config.json (transformers' names in camelCase). */
export interface Umt5Config {
  /** d_model: width of the residual stream and of the output embeddings. */
  dModel: number;
  /** d_kv: head dim (the inner attention width is heads·d_kv, not necessarily d_model). */
  dKv: number;
  /** num_heads. */
  heads: number;
  /** d_ff: the feed-forward's hidden width. */
  dFf: number;
  /** num_layers: encoder blocks. */
  layers: number;
  /** vocab_size: rows of the token embedding. */
  vocab: number;
  /** relative_attention_num_buckets (both directions together). */
  numBuckets: number;
  /** relative_attention_max_distance: distances at or past it share the last bucket. */
  maxDistance: number;
  /** layer_norm_epsilon. */
  eps: number;
}

type Raw = Record<string, unknown>;

const posInt = (c: Raw, k: string, dflt?: number): number => {
  const v = c[k] ?? dflt;
  if (v === undefined || v === null) throw new ConfigError(`"${k}" is missing (expected a positive integer)`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(`"${k}" must be a positive integer, found ${JSON.stringify(c[k])}`);
  return v;
};

/**
 * Checks and reads a UMT5EncoderModel config.
 * @param file The config's path for messages (loadTextEncoder passes `text_encoder/config.json` under the folder given).
 * @throws ConfigError `<file>: <what>` naming the field and what was expected.
 */
export function parseUmt5Config(c: Raw, file = 'text_encoder/config.json'): Umt5Config {
  return inConfigFile(file, () => parseUmt5Fields(c));
}

function parseUmt5Fields(c: Raw): Umt5Config {
  const arch = Array.isArray(c['architectures']) ? (c['architectures'] as unknown[]) : [];
  const type = c['model_type'];
  if (type !== 'umt5' && !arch.includes('UMT5EncoderModel')) {
    throw new ConfigError(`model_type ${JSON.stringify(type)} / architectures ${JSON.stringify(arch)} is not supported (expected a UMT5EncoderModel, model_type "umt5", as Wan ships it)`);
  }
  const proj = c['feed_forward_proj'] ?? 'gated-gelu';
  const act = c['dense_act_fn'] ?? (proj === 'gated-gelu' ? 'gelu_new' : undefined);
  if (proj !== 'gated-gelu' || !['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'].includes(act as string)) {
    throw new ConfigError(`feed_forward_proj ${JSON.stringify(proj)} with dense_act_fn ${JSON.stringify(act)} is not supported (expected "gated-gelu" with the tanh GELU, "gelu_new")`);
  }
  const dKv = posInt(c, 'd_kv', 64);
  if (dKv % 4 !== 0 || dKv < 8 || dKv > 128) throw new ConfigError(`d_kv ${dKv} cannot run on the attention kernel (need a multiple of 4 from 8 to 128)`);
  const eps = c['layer_norm_epsilon'] ?? 1e-6;
  if (typeof eps !== 'number' || !(eps > 0)) throw new ConfigError(`"layer_norm_epsilon" must be a positive number, found ${JSON.stringify(eps)}`);
  const numBuckets = posInt(c, 'relative_attention_num_buckets', 32);
  if (numBuckets < 4) throw new ConfigError(`relative_attention_num_buckets ${numBuckets} is too small (need ≥ 4: two directions, each with exact and log-spaced buckets)`);
  return {
    dModel: posInt(c, 'd_model'),
    dKv,
    heads: posInt(c, 'num_heads'),
    dFf: posInt(c, 'd_ff'),
    layers: posInt(c, 'num_layers'),
    vocab: posInt(c, 'vocab_size'),
    numBuckets,
    maxDistance: posInt(c, 'relative_attention_max_distance', 128),
    eps,
  };
}

/** State-dict keys of one encoder block and their shapes. */
export function umt5LayerKeys(c: Umt5Config, i: number): Map<string, number[]> {
  const p = `encoder.block.${i}.layer`;
  const W = c.heads * c.dKv;
  return new Map([
    [`${p}.0.layer_norm.weight`, [c.dModel]],
    [`${p}.0.SelfAttention.q.weight`, [W, c.dModel]],
    [`${p}.0.SelfAttention.k.weight`, [W, c.dModel]],
    [`${p}.0.SelfAttention.v.weight`, [W, c.dModel]],
    [`${p}.0.SelfAttention.o.weight`, [c.dModel, W]],
    [`${p}.0.SelfAttention.relative_attention_bias.weight`, [c.numBuckets, c.heads]],
    [`${p}.1.layer_norm.weight`, [c.dModel]],
    [`${p}.1.DenseReluDense.wi_0.weight`, [c.dFf, c.dModel]],
    [`${p}.1.DenseReluDense.wi_1.weight`, [c.dFf, c.dModel]],
    [`${p}.1.DenseReluDense.wo.weight`, [c.dModel, c.dFf]],
  ]);
}

/** The token embedding: `shared.weight`, or `encoder.embed_tokens.weight` (the same tied tensor) when only that is stored. */
export const EMBED_KEYS = ['shared.weight', 'encoder.embed_tokens.weight'] as const;

/** Every key except the embedding (which may be stored under either name). */
export function umt5Keys(c: Umt5Config): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (let i = 0; i < c.layers; i++) for (const [k, s] of umt5LayerKeys(c, i)) m.set(k, s);
  m.set('encoder.final_layer_norm.weight', [c.dModel]);
  return m;
}
