// VAE configs as diffusers' config.json spells them (AutoencoderKLWan, AutoencoderKL), checked
// and reduced to what the decoders need.
import { ConfigError, inConfigFile } from '../model/config.js';

/** AutoencoderKLWan (diffusers models/autoencoders/autoencoder_kl_wan.py), decoder side. */
export interface WanVaeConfig {
  /** AutoencoderKLWan. */
  kind: 'wan';
  /** Decoder base channels (`decoder_base_dim`, else `base_dim`). */
  baseDim: number;
  /** `z_dim`: latent channels (default 16). */
  zDim: number;
  /** `dim_mult`: channel multipliers of baseDim per level (default [1, 2, 4, 4]). */
  dimMult: number[];
  /** `num_res_blocks` (default 2; each decoder up block has one more). */
  numResBlocks: number;
  /** Per decoder up block: does its upsampler double time (`temperal_downsample` reversed). */
  temperalUpsample: boolean[];
  /** `out_channels` of the decoded sample (3: RGB). */
  outChannels: number;
  /** WanPipeline's denormalisation: latents / (1 / latents_std) + latents_mean, per channel. */
  latentsMean: number[];
  /** `latents_std`, z_dim values (see latentsMean). */
  latentsStd: number[];
  /** Latent frame 0 → 1 frame, each later latent frame → this many (2^number of temporal upsamplers). */
  scaleFactorTemporal: number;
  /** Pixels per latent pixel (2^number of spatial upsamplers). */
  scaleFactorSpatial: number;
  /** config.json as read. */
  raw: Record<string, unknown>;
}

/** AutoencoderKL (diffusers models/autoencoders/autoencoder_kl.py + vae.py Decoder), decoder side. */
export interface KlVaeConfig {
  /** AutoencoderKL. */
  kind: 'kl';
  /** `latent_channels` (default 4). */
  latentChannels: number;
  /** `out_channels` of the decoded sample (default 3). */
  outChannels: number;
  /** `block_out_channels`, each a multiple of normNumGroups. */
  blockOutChannels: number[];
  /** `layers_per_block` (default 1; each decoder up block has one more resnet). */
  layersPerBlock: number;
  /** `norm_num_groups` of the GroupNorms (default 32). */
  normNumGroups: number;
  /** `scaling_factor` (default 0.18215, SD's): the decode takes latents / scaling_factor, as DiTPipeline and LattePipeline do. */
  scalingFactor: number;
  /**
   * The config's shift_factor (null when absent or null). Read, not applied: DiTPipeline and LattePipeline
   * decode latents / scaling_factor only (SD3/Flux pipelines add it); loadVae warns when it is non-zero.
   */
  shiftFactor: number | null;
  /** `use_post_quant_conv` (default true): a 1×1 conv before the decoder. */
  usePostQuantConv: boolean;
  /** `mid_block_add_attention` (default true): the mid block's self-attention. */
  midBlockAddAttention: boolean;
  /** diffusers pipelines run such a VAE in float32 even when the rest runs in float16. */
  forceUpcast: boolean;
  /** Pixels per latent pixel: 2^(len(block_out_channels) − 1). */
  scaleFactorSpatial: number;
  /** config.json as read. */
  raw: Record<string, unknown>;
}

/** A checked VAE config, AutoencoderKLWan (`kind` 'wan') or AutoencoderKL (`kind` 'kl'). */
export type VaeConfig = WanVaeConfig | KlVaeConfig;

/**
 * The VAE's factors as the pipelines assume them without a VAE config (diffusers' vae_scale_factor defaults):
 * AutoencoderKLWan's 8 pixels and 4 frames per latent one (its scale_factor_spatial/_temporal defaults too), the
 * SD AutoencoderKL of DiT and Latte 8 pixels (four block_out_channels) and no temporal packing.
 */
export const DEFAULT_VAE_SCALE: Readonly<Record<VaeConfig['kind'], Readonly<{ spatial: number; temporal: number }>>> = { wan: { spatial: 8, temporal: 4 }, kl: { spatial: 8, temporal: 1 } };

/** An absent (or null) key: "missing", not "got undefined". */
const missing = (k: string, what: string) => new ConfigError(`"${k}" is missing (expected ${what})`);
const posInt = (c: Record<string, unknown>, k: string, def?: number): number => {
  const v = c[k] ?? def;
  if (v === undefined || v === null) throw missing(k, 'a positive integer');
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(`"${k}" must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
};
const intList = (c: Record<string, unknown>, k: string, def?: number[]): number[] => {
  const v = c[k] ?? def;
  if (v === undefined || v === null) throw missing(k, 'a non-empty list of positive integers');
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 1)) {
    throw new ConfigError(`"${k}" must be a non-empty list of positive integers, got ${JSON.stringify(v)}`);
  }
  return v as number[];
};
const numList = (c: Record<string, unknown>, k: string, n: number): number[] => {
  const v = c[k];
  if (v === undefined || v === null) throw missing(k, `a list of ${n} numbers, one per latent channel`);
  if (!Array.isArray(v) || v.length !== n || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    throw new ConfigError(`"${k}" must be a list of ${n} numbers (one per latent channel), got ${JSON.stringify(v)}`);
  }
  return v as number[];
};
const bool = (c: Record<string, unknown>, k: string, def: boolean): boolean => {
  const v = c[k] ?? def;
  if (typeof v !== 'boolean') throw new ConfigError(`"${k}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
};

/**
 * Parses a VAE config.json (`_class_name` AutoencoderKLWan or AutoencoderKL).
 * @param file The config's path for messages (loadVae passes `folder/config.json`).
 * @throws ConfigError `<file>: <what>` naming the field and what was expected.
 */
export function parseVaeConfig(c: Record<string, unknown>, file = 'vae config.json'): VaeConfig {
  return inConfigFile(file, () => parseVaeFields(c));
}

function parseVaeFields(c: Record<string, unknown>): VaeConfig {
  const cls = c['_class_name'];
  if (cls === 'AutoencoderKLWan') {
    if (c['is_residual'] === true) throw new ConfigError('is_residual=true (the Wan2.2 VAE) is not supported; only the Wan2.1 AutoencoderKLWan decoder is');
    if (c['patch_size'] !== undefined && c['patch_size'] !== null && c['patch_size'] !== 1) throw new ConfigError(`patch_size=${JSON.stringify(c['patch_size'])} (the Wan2.2 VAE) is not supported`);
    const zDim = posInt(c, 'z_dim', 16);
    const dimMult = intList(c, 'dim_mult', [1, 2, 4, 4]);
    const td = c['temperal_downsample'] ?? [false, true, true];
    if (!Array.isArray(td) || td.length !== dimMult.length - 1 || td.some((x) => typeof x !== 'boolean')) {
      throw new ConfigError(`"temperal_downsample" must be ${dimMult.length - 1} booleans (one per down block but the last), got ${JSON.stringify(td)}`);
    }
    const base = c['decoder_base_dim'] === null || c['decoder_base_dim'] === undefined ? posInt(c, 'base_dim', 96) : posInt(c, 'decoder_base_dim');
    const temperalUpsample = [...(td as boolean[])].reverse();
    return {
      kind: 'wan',
      baseDim: base,
      zDim,
      dimMult,
      numResBlocks: posInt(c, 'num_res_blocks', 2),
      temperalUpsample,
      outChannels: posInt(c, 'out_channels', 3),
      latentsMean: numList(c, 'latents_mean', zDim),
      latentsStd: numList(c, 'latents_std', zDim),
      scaleFactorTemporal: 2 ** temperalUpsample.filter(Boolean).length,
      scaleFactorSpatial: 2 ** (dimMult.length - 1),
      raw: c,
    };
  }
  if (cls === 'AutoencoderKL') {
    const blockOutChannels = intList(c, 'block_out_channels', [64]);
    const ups = c['up_block_types'] ?? blockOutChannels.map(() => 'UpDecoderBlock2D');
    if (!Array.isArray(ups) || ups.length !== blockOutChannels.length || ups.some((u) => u !== 'UpDecoderBlock2D')) {
      throw new ConfigError(`"up_block_types" must be ${blockOutChannels.length}× "UpDecoderBlock2D", got ${JSON.stringify(ups)}`);
    }
    const act = c['act_fn'] ?? 'silu';
    if (act !== 'silu') throw new ConfigError(`act_fn "${String(act)}" is not supported (only "silu")`);
    const groups = posInt(c, 'norm_num_groups', 32);
    for (const ch of blockOutChannels) if (ch % groups !== 0) throw new ConfigError(`block_out_channels ${ch} is not a multiple of norm_num_groups ${groups}`);
    const sf = c['scaling_factor'] ?? 0.18215;
    if (typeof sf !== 'number' || !Number.isFinite(sf) || sf === 0) throw new ConfigError(`"scaling_factor" must be a non-zero number, got ${JSON.stringify(sf)}`);
    const shift = c['shift_factor'];
    if (shift !== undefined && shift !== null && (typeof shift !== 'number' || !Number.isFinite(shift))) throw new ConfigError(`"shift_factor" must be a number or null, got ${JSON.stringify(shift)}`);
    return {
      kind: 'kl',
      latentChannels: posInt(c, 'latent_channels', 4),
      outChannels: posInt(c, 'out_channels', 3),
      blockOutChannels,
      layersPerBlock: posInt(c, 'layers_per_block', 1),
      normNumGroups: groups,
      scalingFactor: sf,
      shiftFactor: typeof shift === 'number' ? shift : null,
      usePostQuantConv: bool(c, 'use_post_quant_conv', true),
      midBlockAddAttention: bool(c, 'mid_block_add_attention', true),
      forceUpcast: bool(c, 'force_upcast', true),
      scaleFactorSpatial: 2 ** (blockOutChannels.length - 1),
      raw: c,
    };
  }
  throw new ConfigError(`_class_name ${JSON.stringify(cls)} is not a supported VAE (AutoencoderKLWan, AutoencoderKL)`);
}

/** The decoder's state-dict keys and shapes (diffusers' names), including post_quant_conv. Encoder keys are not needed. */
export function vaeDecoderKeys(c: VaeConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  if (c.kind === 'wan') {
    const conv3 = (n: string, o: number, i: number, k: [number, number, number]) => {
      m.set(`${n}.weight`, [o, i, ...k]);
      m.set(`${n}.bias`, [o]);
    };
    const res = (n: string, i: number, o: number) => {
      m.set(`${n}.norm1.gamma`, [i, 1, 1, 1]);
      conv3(`${n}.conv1`, o, i, [3, 3, 3]);
      m.set(`${n}.norm2.gamma`, [o, 1, 1, 1]);
      conv3(`${n}.conv2`, o, o, [3, 3, 3]);
      if (i !== o) conv3(`${n}.conv_shortcut`, o, i, [1, 1, 1]);
    };
    conv3('post_quant_conv', c.zDim, c.zDim, [1, 1, 1]);
    const dims = [c.dimMult[c.dimMult.length - 1]!, ...[...c.dimMult].reverse()].map((u) => u * c.baseDim);
    conv3('decoder.conv_in', dims[0]!, c.zDim, [3, 3, 3]);
    res('decoder.mid_block.resnets.0', dims[0]!, dims[0]!);
    m.set('decoder.mid_block.attentions.0.norm.gamma', [dims[0]!, 1, 1]);
    m.set('decoder.mid_block.attentions.0.to_qkv.weight', [3 * dims[0]!, dims[0]!, 1, 1]);
    m.set('decoder.mid_block.attentions.0.to_qkv.bias', [3 * dims[0]!]);
    m.set('decoder.mid_block.attentions.0.proj.weight', [dims[0]!, dims[0]!, 1, 1]);
    m.set('decoder.mid_block.attentions.0.proj.bias', [dims[0]!]);
    res('decoder.mid_block.resnets.1', dims[0]!, dims[0]!);
    for (let i = 0; i < c.dimMult.length; i++) {
      let inDim = dims[i]!;
      const outDim = dims[i + 1]!;
      if (i > 0) inDim = inDim / 2;
      for (let j = 0; j <= c.numResBlocks; j++) {
        res(`decoder.up_blocks.${i}.resnets.${j}`, j === 0 ? inDim : outDim, outDim);
      }
      if (i !== c.dimMult.length - 1) {
        const u = `decoder.up_blocks.${i}.upsamplers.0`;
        m.set(`${u}.resample.1.weight`, [outDim / 2, outDim, 3, 3]);
        m.set(`${u}.resample.1.bias`, [outDim / 2]);
        if (c.temperalUpsample[i]) conv3(`${u}.time_conv`, 2 * outDim, outDim, [3, 1, 1]);
      }
    }
    m.set('decoder.norm_out.gamma', [dims[dims.length - 1]!, 1, 1, 1]);
    conv3('decoder.conv_out', c.outChannels, dims[dims.length - 1]!, [3, 3, 3]);
    return m;
  }
  const conv2 = (n: string, o: number, i: number, k: number) => {
    m.set(`${n}.weight`, [o, i, k, k]);
    m.set(`${n}.bias`, [o]);
  };
  const gn = (n: string, ch: number) => {
    m.set(`${n}.weight`, [ch]);
    m.set(`${n}.bias`, [ch]);
  };
  const res = (n: string, i: number, o: number) => {
    gn(`${n}.norm1`, i);
    conv2(`${n}.conv1`, o, i, 3);
    gn(`${n}.norm2`, o);
    conv2(`${n}.conv2`, o, o, 3);
    if (i !== o) conv2(`${n}.conv_shortcut`, o, i, 1);
  };
  const L = c.latentChannels;
  if (c.usePostQuantConv) conv2('post_quant_conv', L, L, 1);
  const rev = [...c.blockOutChannels].reverse();
  const top = rev[0]!;
  conv2('decoder.conv_in', top, L, 3);
  res('decoder.mid_block.resnets.0', top, top);
  if (c.midBlockAddAttention) {
    const a = 'decoder.mid_block.attentions.0';
    gn(`${a}.group_norm`, top);
    for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) {
      m.set(`${a}.${p}.weight`, [top, top]);
      m.set(`${a}.${p}.bias`, [top]);
    }
  }
  res('decoder.mid_block.resnets.1', top, top);
  let prev = top;
  for (let i = 0; i < rev.length; i++) {
    const out = rev[i]!;
    for (let j = 0; j <= c.layersPerBlock; j++) res(`decoder.up_blocks.${i}.resnets.${j}`, j === 0 ? prev : out, out);
    if (i !== rev.length - 1) conv2(`decoder.up_blocks.${i}.upsamplers.0.conv`, out, out, 3);
    prev = out;
  }
  gn('decoder.conv_norm_out', c.blockOutChannels[0]!);
  conv2('decoder.conv_out', c.outChannels, c.blockOutChannels[0]!, 3);
  return m;
}
