// Audit 12S defect 3: generate()'s maxMemory check counted the model and the forward pass but not
// the sampler state (UniPC's latent slots, the flag, the steps' uniforms, the final latents), so a
// budget between the forward's estimate and the true peak ran over it. Now the state is counted
// (samplerStateBytes, a dry run of the sampler's recording) and itemised in the LimitError, both
// when the forward plan is recorded for the run and when it was recorded before (a forward()).
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { fmtBytes } from '../../src/gpu/tensor.js';
import { parseConfig } from '../../src/model/config.js';
import { estimateMemory, LimitError } from '../../src/model/memory.js';
import { getPreset, loadRandomModel } from '../../src/model/presets.js';
import { generate, resolveScheduler, samplerStateBytes } from '../../src/sampler/generate.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const config = getPreset('wan-tiny').config;
const shape = [1, 16, 3, 6, 10];
const L = 7;
const emb = (seed: number) => ({ data: Float32Array.from({ length: L * 64 }, (_, i) => Math.sin(i * 0.3 + seed)), shape: [1, L, 64] });
const opts = { scheduler: 'unipc', seed: 3, shape, num_inference_steps: 2, guidance_scale: 5, prompt_embeds: emb(1), negative_prompt_embeds: emb(2) } as const;

describe.skipIf(!hasGpu)('generate(): the sampler state counts against maxMemory', () => {
  it('a budget above the forward pass but below forward + sampler state is refused, the state itemised; above both it runs', async () => {
    const g = gpu!;
    // CFG in one batch: the forward runs at batch 2
    const fwd = estimateMemory(parseConfig(config), [2, ...shape.slice(1)], [2, L, 64], 'f32', g.limits);
    const model = await loadRandomModel(config, { gpu: g, dtype: 'f32', seed: 1, maxMemory: fwd.total + 1024 });
    try {
      const held = model.gpuBytes;
      expect(held).toBe(fwd.weights);
      const program = resolveScheduler({ scheduler: 'unipc' }).setTimesteps(2);
      const state = samplerStateBytes(model, program, shape, true, 1);
      // 6 f32 latent slots of 2880 values, the final latents (2880), two flag words and one uniform per update
      expect(state).toBeGreaterThan(7 * 2880 * 4);
      expect(state).toBeLessThan(7 * 2880 * 4 + 2048);
      const act = fmtBytes(fwd.activations).replace('.', '\\.');
      const e = await generate(model, opts).catch((x) => x);
      expect(e).toBeInstanceOf(LimitError);
      expect(e.message).toMatch(new RegExp(`^this run \\(latents \\[2,16,3,6,10\\], text \\[2,7,64\\], f32\\) needs ${fmtBytes(fwd.total + state).replace('.', '\\.')} on the GPU \\(held ${fmtBytes(held).replace('.', '\\.')} \\+ sampler state ${fmtBytes(state).replace('.', '\\.')} \\+ activations ${act} \\+ workspace [\\d.]+ KiB\\); above the budget of ${fmtBytes(fwd.total + 1024).replace('.', '\\.')} \\(maxMemory\\)`));
      expect(model.gpuBytes).toBe(held); // refused before allocating

      // the forward plan recorded before (a forward() at batch 2): the state alone is checked
      model.maxMemory = undefined;
      await model.forward({ hidden_states: { data: new Float32Array(2 * 2880).fill(0.1), shape: [2, ...shape.slice(1)] }, timestep: [500, 500], encoder_hidden_states: { data: new Float32Array(2 * L * 64).fill(0.1), shape: [2, L, 64] } });
      const recorded = model.gpuBytes;
      model.maxMemory = recorded + state - 1;
      const e2 = await generate(model, opts).catch((x) => x);
      expect(e2).toBeInstanceOf(LimitError);
      expect(e2.message).toBe(`this run (latents [2,16,3,6,10], text [2,7,64], f32) needs ${fmtBytes(recorded + state)} on the GPU (held ${fmtBytes(recorded)} + sampler state ${fmtBytes(state)}); above the budget of ${fmtBytes(recorded + state - 1)} (maxMemory): use fewer frames, a smaller resolution or a larger maxMemory budget (${recorded + state} bytes or more)`);
      model.maxMemory = recorded + state;
      const r = await generate(model, opts);
      expect(r.latents.shape).toEqual(shape);
    } finally {
      model.dispose();
    }
  });
});
