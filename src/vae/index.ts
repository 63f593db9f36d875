// The VAE decoders (issue 10): loadVae(dir) → vae.decode(latents).
export { loadVae, type Vae, type LoadVaeOptions, type DecodeOptions, type DecodeStats } from './vae.js';
export { parseVaeConfig, vaeDecoderKeys, type VaeConfig, type WanVaeConfig, type KlVaeConfig } from './config.js';
export { planDecode, type DecodePlanSummary } from './decoder.js';
