// What a forward pass needs on the GPU, from the config and input shape alone (before any
// allocation): weights, activations (the scratch tensors the model files name) and the largest
// single tensor, which must fit one storage binding.
import { bytesPer, type DType } from '../gpu/tensor.js';
import type { ModelConfig } from './config.js';
import { expectedKeys } from './weights.js';

export interface MemoryEstimate {
  weights: number;
  activations: number;
  largestTensor: number;
  largestName: string;
  total: number;
}

export function estimateMemory(c: ModelConfig, latent: number[], text: number[] | undefined, dtype: DType): MemoryEstimate {
  const bp = bytesPer(dtype);
  let weights = 0;
  for (const s of expectedKeys(c).values()) weights += s.reduce((a, b) => a * b, 1) * bp;
  const B = latent[0]!;
  const [pt, ph, pw] = c.family === 'wan' ? c.patch : [1, c.patch, c.patch];
  const [F, H, W] = latent.length === 5 ? latent.slice(2) : [1, ...latent.slice(2)];
  const N = (F! / pt) * (H! / ph) * (W! / pw);
  const L = text?.[1] ?? 0;
  const D = c.dim;
  const ffn = c.ffnDim;
  // named activations of the model files (src/model/{wan,dit,latte}.ts), in elements
  const acts: [string, number][] = [
    ['latents', latent.reduce((a, b) => a * b, 1) * 2], // input and output
    ['patches', B * N * c.inChannels * pt * ph * pw],
    ['x, n, q, k, v, q_norm, k_norm, attn', 8 * B * N * D],
    ['ffn_hidden', B * N * ffn],
    ['text', B * L * ((c.family === 'wan' ? c.textDim : c.family === 'latte' ? c.captionChannels : 0) + 5 * D)],
    ['proj_out', B * N * c.outChannels * pt * ph * pw],
  ];
  let activations = 0;
  for (const [, n] of acts) activations += n * bp;
  const largest: [string, number] = [
    ['ffn_hidden', B * N * ffn],
    ['activation [B, N, D]', B * N * D],
  ].sort((a, b) => (b[1] as number) - (a[1] as number))[0] as [string, number];
  return { weights, activations, largestTensor: largest[1] * bp, largestName: `${largest[0]}: ${largest[1]} values`, total: weights + activations };
}
