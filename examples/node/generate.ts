// Library use from Node: load a diffusers transformer folder, run one forward pass, then a short
// sampling loop with classifier-free guidance, and write a preview GIF.
//
//   npx tsx examples/node/generate.ts [MODEL_DIR]
//
// Without an argument it uses the tiny Wan test model in tests/fixtures (real diffusers layout,
// random weights), so it runs anywhere.
import { writeFileSync } from 'node:fs';
import { encodeGif, generate, latentsToFrames, loadModel } from '../../src/index.js'; // from 'tessera' in your project

const dir = process.argv[2] ?? 'tests/fixtures/wan_small/model';

// 1. Load: config.json + (sharded) safetensors, F32/F16/BF16, checked key by key, uploaded once.
const model = await loadModel(dir, { dtype: 'f32' });
console.log(model.describe());
const c = model.config;
if (c.family !== 'wan') throw new Error('this example drives a Wan model; see the README for DiT');

// 2. One forward pass, named like diffusers' forward(): latents [B, C, F, H, W], timestep [B],
//    text embeddings [B, L, text_dim] (here random stand-ins for UMT5 outputs).
const [B, F, H, W, L] = [1, 2, 8, 8, 6];
const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const text = { data: rand(B * L * c.textDim), shape: [B, L, c.textDim] };
const out = await model.forward({ hidden_states: { data: rand(B * c.inChannels * F * H * W), shape: [B, c.inChannels, F, H, W] }, timestep: [500], encoder_hidden_states: text });
console.log(`forward: sample [${out.shape.join(',')}]`);

// 3. Sampling: flow-matching Euler with shift, CFG batched as [cond; uncond] in one forward.
const result = await generate(model, {
  scheduler: 'FlowMatchEulerDiscreteScheduler',
  num_inference_steps: 10,
  guidance_scale: 5,
  shift: 3,
  seed: 42,
  shape: [B, c.inChannels, F, H, W],
  encoder_hidden_states: text,
  negative_encoder_hidden_states: { data: rand(B * L * c.textDim), shape: [B, L, c.textDim] },
  onStep: (i, n, t) => console.log(`step ${i}/${n} t=${t.toFixed(1)}`),
});

// 4. Preview: a fixed latent→RGB map (no VAE), upscaled ×8, as an animated GIF.
const frames = latentsToFrames(result.latents.data, result.latents.shape.slice(1), 'wan', { upscale: 8 });
writeFileSync('example.gif', encodeGif(frames.frames, frames.width, frames.height));
console.log('wrote example.gif');
model.dispose();
