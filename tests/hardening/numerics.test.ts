// Issue 5, "Numerics": NaN/Inf in the inputs are refused before any work; NaN/Inf produced
// mid-run are caught at the end of the step and reported with the step AND the first layer whose
// output went non-finite (a replay of the step, one dispatch at a time), instead of writing garbage.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { readInputs } from '../../src/io/inputs.js';
import { InputError, loadModel, type ForwardInputs } from '../../src/model/model.js';
import { loadRandomModel, PRESETS } from '../../src/model/presets.js';
import { generate, NumericsError } from '../../src/sampler/generate.js';
import { randn } from '../../src/random.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { cli, filesIn, FIXTURES, modelWithWeights, tempDir } from './helpers.js';

async function fixtureInputs(name: string): Promise<ForwardInputs> {
  const m = await readInputs(join(FIXTURES, name, 'inputs.safetensors'));
  const get = (k: string) => m.get(k)!;
  return { hidden_states: { data: get('hidden_states').f32!, shape: get('hidden_states').shape }, timestep: get('timestep').f32!, encoder_hidden_states: { data: get('encoder_hidden_states').f32!, shape: get('encoder_hidden_states').shape } };
}

// a finite weight so large that the GEMM using it overflows f32 (max 3.4e38)
const HUGE = 3e38;

describe.skipIf(!hasGpu)('non-finite values', () => {
  it('NaN/Inf in the inputs of generate are refused before step 1', async () => {
    const model = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: gpu! });
    try {
      const fi = await fixtureInputs('wan_small');
      const bad = Float32Array.from(fi.encoder_hidden_states!.data);
      bad[3] = Number.POSITIVE_INFINITY;
      let steps = 0;
      const run = (o: Partial<Parameters<typeof generate>[1]>) =>
        generate(model, { scheduler: 'flow-match-euler', num_inference_steps: 2, guidance_scale: 1, latents: fi.hidden_states, encoder_hidden_states: fi.encoder_hidden_states, onStep: () => steps++, ...o }).catch((e) => e);
      const e1 = await run({ encoder_hidden_states: { data: bad, shape: fi.encoder_hidden_states!.shape } });
      expect(e1).toBeInstanceOf(InputError);
      expect(e1.message).toBe('encoder_hidden_states: value at flat index 3 is not finite (Infinity)');
      const lat = Float32Array.from(fi.hidden_states.data);
      lat[0] = Number.NaN;
      const e2 = await run({ latents: { data: lat, shape: fi.hidden_states.shape } });
      expect(e2).toBeInstanceOf(InputError);
      // named as the caller gave it (it said hidden_states, the transformer's name: session 23 library review #2)
      expect(e2.message).toBe('latents: value at flat index 0 is not finite (NaN)');
      expect([e1.option, e2.option]).toEqual(['encoder_hidden_states', 'latents']);
      expect(steps).toBe(0);
    } finally {
      model.destroy();
    }
  });

  it('a weight that overflows mid-run (patched on the GPU after load): NumericsError with the step and the layer', async () => {
    const cfg = { ...PRESETS['wan-tiny']!.config, num_layers: 3 };
    const model = await loadRandomModel(cfg, { gpu: gpu!, seed: 3 });
    try {
      const c = model.config as { inChannels: number; textDim: number };
      const latents = { data: randn(c.inChannels * 2 * 4 * 4, 1), shape: [1, c.inChannels, 2, 4, 4] };
      const text = { data: randn(4 * c.textDim, 2), shape: [1, 4, c.textDim] };
      const opts = { scheduler: 'flow-match-euler' as const, num_inference_steps: 3, guidance_scale: 1, latents, encoder_hidden_states: text };
      const clean = await generate(model, opts); // finite before the patch
      expect(clean.latents.data.every(Number.isFinite)).toBe(true);
      const w = model.weights.get('blocks.2.ffn.net.0.proj.weight');
      gpu!.device.queue.writeBuffer(w.buffer, 0, new Float32Array(w.size).fill(HUGE));
      const err = await generate(model, opts).catch((e) => e);
      expect(err).toBeInstanceOf(NumericsError);
      expect(err.message).toMatch(/^step 1\/3 \(t=[\d.]+\): the model output has a non-finite value \((NaN|-?Infinity)\) at flat index \d+; layer blocks\.2\.ffn\.net\.0\.proj \(gemm\w*\[[A-Z0-9,]*GELU[A-Z0-9,]*\][^)]*, dispatch \d+\/\d+\): value (NaN|-?Infinity) at flat index \d+ of ffn_hidden/);
    } finally {
      model.destroy();
    }
  });

  it('CLI forward and generate with an overflowing weight in the file: exit 1, one line naming the layer, no output', async () => {
    // to_v is uploaded into the fused attn1.to_qkv weight (one GEMM writes q, k, v planes of qkv), so that GEMM is the layer named
    const dir = await modelWithWeights('wan_small', (m) => m.get('blocks.1.attn1.to_v.weight')!.f32!.fill(HUGE));
    const outDir = tempDir();
    const out = join(outDir, 'out.safetensors');
    const f = await cli(['forward', '--model', dir, '--inputs', join(FIXTURES, 'wan_small', 'inputs.safetensors'), '--out', out]);
    expect(f.code, f.stderr).toBe(1);
    expect(f.errLines).toHaveLength(1);
    expect(f.errLines[0]).toMatch(/^tessera: error: NumericsError: the forward pass produced a non-finite value \(.*\) at flat index \d+ of "sample"; layer blocks\.1\.attn1\.to_qkv \(gemm\w*\[[A-Z0-9,]*\]\S*, dispatch \d+\/\d+\): value .* of qkv$/);
    const s = join(FIXTURES, 'wan_sampler_small');
    const dir2 = await modelWithWeights('wan_sampler_small', (m) => m.get('blocks.0.attn1.to_v.weight')!.f32!.fill(HUGE));
    const g = await cli(['generate', '--model', dir2, '--inputs', join(s, 'inputs.safetensors'), '--out', out, '--scheduler', 'flow-match-euler', '--steps', '2', '--guidance', '4']);
    expect(g.code, g.stderr).toBe(1);
    expect(g.errLines).toHaveLength(1);
    expect(g.errLines[0]).toMatch(/^tessera: error: NumericsError: step 1\/2 \(t=[\d.]+\): .*; layer blocks\.0\.attn1\.to_qkv \(gemm/);
    expect(existsSync(out)).toBe(false);
    expect(filesIn(outDir)).toEqual([]);
  });
});
