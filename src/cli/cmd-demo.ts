// `tessera demo` (npm run demo): the main job — generate a short clip with a preset
// architecture (random weights, said plainly), profile one denoising step per kernel, and write
// out/clip.gif, out/trace.json and out/profile.json.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { acquireGpu, describeAdapter } from '../gpu/device.js';
import type { DType } from '../gpu/tensor.js';
import { writeFileAtomic } from '../io/node-write.js';
import { getPreset, loadRandomModel, presetNames } from '../model/presets.js';
import { encodeGif, latentsToFrames } from '../preview/preview.js';
import { randn } from '../random.js';
import { generate } from '../sampler/generate.js';
import { deviceCeiling } from '../profile/ceiling.js';
import { profilePlan } from '../profile/profiler.js';
import { chromeTrace, formatReport, profileJson } from '../profile/report.js';
import { intInRange, UsageError } from './args.js';
import type { Command } from './main.js';
import { progressBar } from './progress.js';

export const demoCommand: Command = {
  spec: {
    name: 'demo',
    summary: 'generate a short clip on a preset (random weights), profile every kernel, write out/clip.gif, trace.json, profile.json',
    flags: {
      preset: { type: 'choice', choices: presetNames(), help: 'architecture (random weights)', default: 'wan-tiny' },
      steps: { type: 'int', help: 'denoising steps', default: 8 },
      guidance: { type: 'number', help: 'classifier-free guidance scale', default: 5 },
      shift: { type: 'number', help: 'flow-match shift (Wan)', default: 3 },
      seed: { type: 'int', help: 'noise and weight seed', default: 0 },
      dtype: { type: 'choice', choices: ['f32', 'f16'], help: 'storage dtype', default: 'f32' },
      out: { type: 'string', arg: 'DIR', help: 'output folder', default: 'out' },
      repeats: { type: 'int', help: 'profiled repeats of one step', default: 3 },
    },
  },
  async run(p) {
    intInRange(p, 'steps', 1, 200);
    intInRange(p, 'repeats', 1, 100);
    const preset = getPreset(p.preset as string);
    const gpu = await acquireGpu();
    try {
      console.log(`tessera demo — ${p.preset}: ${preset.about}`);
      console.log('NOTE: the weights are RANDOM (seeded), not a trained checkpoint: the clip shows what the engine computes, not a meaningful video.');
      console.log(`device: ${describeAdapter(gpu)}`);
      const model = await loadRandomModel(preset.config, { gpu, dtype: p.dtype as DType, seed: p.seed as number, name: p.preset as string });
      try {
        const c = model.config;
        const { frames, height, width } = preset.latent;
        const B = 1;
        const shape = c.family === 'dit' ? [B, c.inChannels, height, width] : [B, c.inChannels, frames, height, width];
        const textDim = c.family === 'wan' ? c.textDim : c.family === 'latte' ? c.captionChannels : 0;
        const L = preset.textLen ?? 8;
        const text = textDim ? { data: randn(B * L * textDim, 11), shape: [B, L, textDim] } : undefined;
        const neg = textDim ? { data: randn(B * L * textDim, 12), shape: [B, L, textDim] } : undefined;
        const scheduler = c.family === 'wan' ? 'FlowMatchEulerDiscreteScheduler' : 'DDIMScheduler';
        const bar = progressBar('denoising');
        const t0 = performance.now();
        const result = await generate(model, {
          scheduler,
          num_inference_steps: p.steps as number,
          guidance_scale: p.guidance as number,
          shift: c.family === 'wan' ? (p.shift as number) : undefined,
          scheduler_config: c.family === 'wan' ? undefined : { clip_sample: false },
          seed: p.seed as number,
          shape,
          encoder_hidden_states: text,
          negative_encoder_hidden_states: neg,
          class_labels: c.family === 'dit' ? [1] : undefined,
          onStep: (s, n) => bar.update(s, n),
        });
        bar.done();
        const genS = (performance.now() - t0) / 1000;
        console.log(`generated latents [${result.latents.shape.join(',')}] in ${p.steps} steps: ${genS.toFixed(2)} s (${(genS / (p.steps as number)).toFixed(2)} s/step, CFG batch ${(p.guidance as number) > 1 ? 2 : 1})`);

        // profile one denoising step: the same recorded plan the loop replayed
        const cfgB = (p.guidance as number) > 1 ? 2 : 1;
        const steps = { data: new Float32Array(cfgB * result.latents.data.length).fill(0.5), shape: [cfgB, ...shape.slice(1)] };
        const plan = model.planFor({
          hidden_states: steps,
          timestep: new Array(cfgB).fill(500),
          encoder_hidden_states: text && neg ? { data: Float32Array.from([...text.data, ...(cfgB === 2 ? neg.data : [])]), shape: [cfgB, L, textDim] } : undefined,
          class_labels: c.family === 'dit' ? new Array(cfgB).fill(1) : undefined,
        });
        const ceiling = await deviceCeiling(gpu);
        const run = await profilePlan(plan, { repeats: p.repeats as number, warmup: 1, residentBytes: model.weights.bytes });
        console.log('');
        console.log(formatReport(run, ceiling, { layerDepth: 1 }));

        const dir = p.out as string;
        if (!dir) throw new UsageError('--out must name a folder');
        mkdirSync(dir, { recursive: true });
        const per = result.latents.data.length / B;
        const fr = latentsToFrames(result.latents.data.subarray(0, per), shape.slice(1), c.family, { upscale: 8 });
        await Promise.all([
          writeFileAtomic(join(dir, 'clip.gif'), encodeGif(fr.frames, fr.width, fr.height, { fps: 8 })),
          writeFileAtomic(join(dir, 'trace.json'), new TextEncoder().encode(JSON.stringify(chromeTrace(run)))),
          writeFileAtomic(join(dir, 'profile.json'), new TextEncoder().encode(JSON.stringify({ preset: p.preset, random_weights: true, generate_s: genS, steps: p.steps, ...profileJson(run, ceiling, { layerDepth: 1 }) }, null, 1))),
        ]);
        console.log('');
        console.log(`wrote ${join(dir, 'clip.gif')} (${fr.frames.length} frames ${fr.width}×${fr.height}, latent→RGB preview map "${fr.map}"), ${join(dir, 'trace.json')}, ${join(dir, 'profile.json')}`);
        console.log(`open the trace: https://ui.perfetto.dev → "Open trace file" → ${join(dir, 'trace.json')} (or chrome://tracing → Load)`);
        return 0;
      } finally {
        model.destroy();
      }
    } finally {
      gpu.destroy();
    }
  },
};
