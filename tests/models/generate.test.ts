// The denoising loop itself, independent of the golden cases:
//  - one batched CFG forward ([x; x] with [cond; uncond]) equals two separate forwards;
//  - one DDIM step of `generate` on Latte equals scheduler.step(forward(...)[:C], x) by hand
//    (learned-sigma channels dropped), so Latte's pipeline path is covered too.
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../helpers/golden.js';
import { join } from 'node:path';
import { loadModel } from '../../src/model/model.js';
import { generate } from '../../src/sampler/generate.js';
import { cfgCombine } from '../../src/sampler/scheduler.js';
import { makeScheduler } from '../../src/sampler/config.js';
import { randn } from '../../src/random.js';

describe.skipIf(!hasGpu)('generate', () => {
  it("options are diffusers' names: an old camelCase name says its new one, an unknown one lists the options; nothing runs", async () => {
    const m = await loadModel(join(FIXTURES, 'dit_small', 'model'), { gpu: gpu! });
    try {
      const base = { scheduler: 'ddim', num_inference_steps: 1, seed: 0, shape: [1, 4, 8, 8], class_labels: [1] };
      const bytes = m.gpuBytes;
      await expect(generate(m, { ...base, guidance: 3 } as never)).rejects.toThrow('guidance: not an option of generate; did you mean guidance_scale? (options: scheduler, scheduler_config, num_inference_steps, guidance_scale, shift, latents, seed, shape, encoder_hidden_states, negative_encoder_hidden_states, prompt_embeds, negative_prompt_embeds, class_labels, onStep, signal, onWarning, onStepProfile, onBlock)');
      await expect(generate(m, { ...base, encoderHiddenStates: undefined } as never)).rejects.toThrow('encoderHiddenStates: not an option of generate; did you mean encoder_hidden_states? (options: ');
      await expect(generate(m, { ...base, num_frames: 4 } as never)).rejects.toThrow(/^num_frames: not an option of generate \(options: scheduler, scheduler_config, num_inference_steps, guidance_scale, /);
      expect(m.gpuBytes).toBe(bytes); // refused before any plan or buffer
    } finally {
      m.destroy();
    }
  });

  it('batched [cond; uncond] forward equals two separate forwards (Wan)', async () => {
    const m = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: gpu! });
    try {
      const shape = [1, 4, 2, 6, 8];
      const n = 4 * 2 * 6 * 8;
      const x = randn(n, 1);
      const cond = randn(6 * 24, 2);
      const neg = randn(6 * 24, 3);
      const both = await m.forward({ hidden_states: { data: Float32Array.from([...x, ...x]), shape: [2, ...shape.slice(1)] }, timestep: [500, 500], encoder_hidden_states: { data: Float32Array.from([...cond, ...neg]), shape: [2, 6, 24] } });
      const c = await m.forward({ hidden_states: { data: x, shape }, timestep: [500], encoder_hidden_states: { data: cond, shape: [1, 6, 24] } });
      const u = await m.forward({ hidden_states: { data: x, shape }, timestep: [500], encoder_hidden_states: { data: neg, shape: [1, 6, 24] } });
      const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((mx, v, i) => Math.max(mx, Math.abs(v - b[i]!)), 0);
      expect(maxDiff(both.data.subarray(0, n), c.data)).toBeLessThan(1e-5);
      expect(maxDiff(both.data.subarray(n), u.data)).toBeLessThan(1e-5);
      expect(maxDiff(c.data, u.data)).toBeGreaterThan(1e-3); // the text matters
    } finally {
      m.destroy();
    }
  });

  it('Latte: one DDIM step with CFG equals the hand-written pipeline step', async () => {
    const m = await loadModel(join(FIXTURES, 'latte_small', 'model'), { gpu: gpu! });
    try {
      const shape = [1, 4, 2, 6, 6];
      const n = 4 * 2 * 6 * 6;
      const x = randn(n, 4);
      const text = { data: randn(4 * 16, 5), shape: [1, 4, 16] };
      const neg = { data: randn(4 * 16, 6), shape: [1, 4, 16] };
      const cfgSched = { clip_sample: false, beta_schedule: 'linear', timestep_spacing: 'leading' };
      const out = await generate(m, { scheduler: 'ddim', num_inference_steps: 1, guidance_scale: 3, scheduler_config: cfgSched, latents: { data: x, shape }, encoder_hidden_states: text, negative_encoder_hidden_states: neg });
      const sched = makeScheduler('ddim', 1, cfgSched);
      const t = sched.timesteps[0]!;
      const c = await m.forward({ hidden_states: { data: x, shape }, timestep: [t], encoder_hidden_states: text });
      const u = await m.forward({ hidden_states: { data: x, shape }, timestep: [t], encoder_hidden_states: neg });
      // out_channels 8 = eps (4) ‖ learned sigma (4): channels [:4] are guided, the rest dropped
      const eps = cfgCombine(c.data.subarray(0, n), u.data.subarray(0, n), 3);
      const want = sched.step(0, eps, x);
      const maxDiff = out.latents.data.reduce((mx, v, i) => Math.max(mx, Math.abs(v - want[i]!)), 0);
      expect(maxDiff).toBeLessThan(1e-4 * Math.max(1, ...Array.from(want, Math.abs)));
      expect(out.timesteps).toEqual(sched.timesteps);
    } finally {
      m.destroy();
    }
  });
});
