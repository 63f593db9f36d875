// The forward plan is recorded once per input shape and replayed: no pipeline or bind-group
// creation inside the sampling loop, and replays give the same numbers as a fresh recording.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { loadRandomModel, getPreset } from '../../src/model/presets.js';
import { generate } from '../../src/sampler/generate.js';
import { randn } from '../../src/random.js';

describe.skipIf(!hasGpu)('record once, replay per step', () => {
  it('creates no pipelines or bind groups after the first step', async () => {
    const p = getPreset('dit-tiny');
    const model = await loadRandomModel(p.config, { gpu: gpu!, seed: 3 });
    try {
      const d = gpu!.device;
      let bindGroups = 0;
      let pipelines = 0;
      const cbg = d.createBindGroup.bind(d);
      const ccp = d.createComputePipeline.bind(d);
      const ccpa = d.createComputePipelineAsync.bind(d);
      d.createBindGroup = (desc) => (bindGroups++, cbg(desc));
      // both: the engine compiles with createComputePipelineAsync (compilePipelines), the sync form is the fallback
      d.createComputePipeline = (desc) => (pipelines++, ccp(desc));
      d.createComputePipelineAsync = (desc) => (pipelines++, ccpa(desc));
      const perStep: [number, number][] = [];
      try {
        await generate(model, {
          scheduler: 'ddim', num_inference_steps: 4, guidance_scale: 2, seed: 1, shape: [1, 4, 8, 8], class_labels: [3],
          scheduler_config: { clip_sample: false },
          onStep: () => perStep.push([bindGroups, pipelines]),
        });
      } finally {
        d.createBindGroup = cbg;
        d.createComputePipeline = ccp;
        d.createComputePipelineAsync = ccpa;
      }
      expect(perStep[0]![0]).toBeGreaterThan(10); // the first step records the plan
      expect(perStep[0]![1]).toBeGreaterThan(0); // and compiles its pipelines (this file's device starts with none): the hooks see them
      for (const s of perStep.slice(1)) expect(s).toEqual(perStep[0]); // later steps only replay
    } finally {
      model.destroy();
    }
  });

  it('a replayed plan with new inputs matches a fresh model on the same inputs', async () => {
    const p = getPreset('wan-tiny');
    const cfg = { ...p.config, num_layers: 1 };
    const a = await loadRandomModel(cfg, { gpu: gpu!, seed: 5 });
    const b = await loadRandomModel(cfg, { gpu: gpu!, seed: 5 });
    try {
      const shape = [1, 16, 2, 8, 8];
      const n = shape.reduce((x, y) => x * y, 1);
      const text = { data: randn(4 * 64, 9), shape: [1, 4, 64] };
      const in1 = { hidden_states: { data: randn(n, 1), shape }, timestep: [900], encoder_hidden_states: text };
      const in2 = { hidden_states: { data: randn(n, 2), shape }, timestep: [100], encoder_hidden_states: text };
      await a.forward(in1); // records, then replays with in2
      const replayed = await a.forward(in2);
      const fresh = await b.forward(in2);
      expect(Array.from(replayed.data)).toEqual(Array.from(fresh.data));
      // equal could mean both empty: the output is finite everywhere and not all zero
      expect(replayed.data.every(Number.isFinite)).toBe(true);
      expect(replayed.data.some((v) => v !== 0)).toBe(true);
    } finally {
      a.destroy();
      b.destroy();
    }
  });
});
