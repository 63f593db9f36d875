// One call at a time per object (src/gpu/serial.ts), resetPlans included: DiffusionModel.resetPlans()
// during a generate loop waits for it (it used to free the loop's buffers under it: a validation error
// at the next step) and throws DisposedError after dispose(), as Pipeline.resetPlans does. A Vae.decode
// or model.exclusive call aborted while it waits for the one before rejects at once and never runs.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { DisposedError } from '../../src/gpu/serial.js';
import { readInputs } from '../../src/io/inputs.js';
import { loadModel, type ForwardInputs } from '../../src/model/model.js';
import { randn } from '../../src/random.js';
import { generate, type GenerateOptions } from '../../src/sampler/generate.js';
import { loadVae } from '../../src/vae/vae.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../hardening/helpers.js';

async function fixtureInputs(name: string): Promise<ForwardInputs> {
  const m = await readInputs(join(FIXTURES, name, 'inputs.safetensors'));
  const get = (k: string) => m.get(k)!;
  return { hidden_states: { data: get('hidden_states').f32!, shape: get('hidden_states').shape }, timestep: get('timestep').f32!, encoder_hidden_states: { data: get('encoder_hidden_states').f32!, shape: get('encoder_hidden_states').shape } };
}

describe.skipIf(!hasGpu)('DiffusionModel.resetPlans is queued', () => {
  it('called from onStep of a running generate: the loop finishes unharmed, the plans are dropped after it', async () => {
    const model = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: gpu! });
    try {
      const fi = await fixtureInputs('wan_small');
      const o: GenerateOptions = { scheduler: 'flow-match-euler', num_inference_steps: 3, guidance_scale: 1, latents: fi.hidden_states, encoder_hidden_states: fi.encoder_hidden_states };
      const want = await generate(model, o);
      let reset: Promise<void> | undefined;
      let bytesAtStep2 = 0;
      const got = await generate(model, {
        ...o,
        onStep: (i) => {
          if (i === 1) reset = model.resetPlans();
          if (i === 2) bytesAtStep2 = model.gpuBytes;
        },
      });
      expect(Array.from(got.latents.data)).toEqual(Array.from(want.latents.data));
      await reset;
      // the plan stayed during the loop and is gone after it: only the weights are left
      expect(bytesAtStep2).toBeGreaterThan(model.gpuBytes);
      expect(model.gpuBytes).toBe(model.weights.bytes);
      const again = await generate(model, o);
      expect(Array.from(again.latents.data)).toEqual(Array.from(want.latents.data));
    } finally {
      model.dispose();
    }
  }, 120_000);

  it('after dispose(): DisposedError, thrown at once', async () => {
    const model = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: gpu! });
    model.dispose();
    expect(() => model.resetPlans()).toThrow(DisposedError);
    expect(() => model.resetPlans()).toThrow(/^model .*wan_small.* was disposed: load it again to use it$/);
  });
});

describe.skipIf(!hasGpu)('a queued call aborted while it waits', () => {
  it('Vae.decode: rejects while the decode before it still runs, with "Vae.decode: aborted (cancel)", and never decodes', async () => {
    const vae = await loadVae(join(ROOT, 'models', 'tessera-shapes', 'vae'), { gpu: gpu! });
    try {
      const shape = [1, 16, 1, 4, 4];
      const latents = { data: randn(16 * 16, 1), shape };
      const order: string[] = [];
      const ctl = new AbortController();
      let secondPieces = 0;
      const first = vae.decode(latents, { onProgress: (done) => done === 1 && ctl.abort('cancel') }).then(() => order.push('first'));
      const second = vae.decode(latents, { signal: ctl.signal, onProgress: () => secondPieces++ }).catch((e: unknown) => (order.push('second'), e));
      const [, e] = await Promise.all([first, second]);
      expect(order).toEqual(['second', 'first']);
      expect((e as Error).name).toBe('AbortError');
      expect((e as Error).message).toBe('Vae.decode: aborted (cancel)');
      expect(secondPieces).toBe(0);
      // the VAE goes on: the next decode runs
      await expect(vae.decode(latents)).resolves.toBeDefined();
    } finally {
      vae.dispose();
    }
  }, 120_000);

  it('model.exclusive({ signal, where }): rejects at once with "WHERE: aborted (REASON)", f never runs', async () => {
    const model = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: gpu! });
    try {
      let release!: () => void;
      const held = model.exclusive(() => new Promise<void>((r) => (release = r)));
      const ctl = new AbortController();
      let ran = false;
      const queued = model.exclusive(async () => void (ran = true), { signal: ctl.signal, where: 'job 2' }).catch((e: unknown) => e);
      ctl.abort('stop');
      const e = await Promise.race([queued, new Promise<Error>((r) => setTimeout(() => r(new Error('still queued after 10 s')), 10_000))]);
      expect((e as Error).name).toBe('AbortError');
      expect((e as Error).message).toBe('job 2: aborted (stop)');
      release();
      await held;
      expect(ran).toBe(false);
    } finally {
      model.dispose();
    }
  }, 60_000);
});
