// Issue 5, "Device loss and GPU errors": a lost device or a WebGPU validation error mid-run ends
// the call with a GpuError saying what happened and where — no hang, no output file.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { acquireGpu, GpuError, type Gpu } from '../../src/gpu/device.js';
import { readInputs } from '../../src/io/inputs.js';
import { loadModel, type ForwardInputs } from '../../src/model/model.js';
import { generate } from '../../src/sampler/generate.js';
import { hasGpu } from '../helpers/gpu.js';
import { cli, filesIn, FIXTURES, tempDir } from './helpers.js';

/** Rejects with "hung" when `p` neither resolves nor rejects in time (a hang guard, not a timing assertion). */
const noHang = <T>(p: Promise<T>, ms = 60_000): Promise<T> => Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`hung for ${ms} ms`)), ms).unref())]);

async function fixtureInputs(name: string): Promise<ForwardInputs> {
  const m = await readInputs(join(FIXTURES, name, 'inputs.safetensors'));
  const get = (k: string) => m.get(k)!;
  return { hidden_states: { data: get('hidden_states').f32!, shape: get('hidden_states').shape }, timestep: get('timestep').f32!, encoder_hidden_states: { data: get('encoder_hidden_states').f32!, shape: get('encoder_hidden_states').shape } };
}

/** Each test gets its own device: these tests break it on purpose. */
async function withOwnGpu(fn: (gpu: Gpu) => Promise<void>): Promise<void> {
  const gpu = await acquireGpu();
  try {
    await fn(gpu);
  } finally {
    gpu.destroy();
  }
}

describe.skipIf(!hasGpu)('device loss', () => {
  it('the device destroyed during generate (after step 2 of 4): GpuError naming step 3 and the loss, no hang', async () => {
    await withOwnGpu(async (gpu) => {
      const model = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu });
      const fi = await fixtureInputs('wan_small');
      const seen: number[] = [];
      const err = await noHang(
        generate(model, {
          scheduler: 'flow-match-euler',
          num_inference_steps: 4,
          guidance_scale: 1,
          latents: fi.hidden_states,
          encoder_hidden_states: fi.encoder_hidden_states,
          onStep: (s) => {
            seen.push(s);
            if (s === 2) gpu.device.destroy();
          },
        }).catch((e) => e),
      );
      expect(err).toBeInstanceOf(GpuError);
      expect((err as GpuError).kind).toBe('lost');
      expect(err.message).toMatch(/^step 3\/4: GPU device lost \(destroyed\)/);
      expect(err.message).toContain('forward');
      expect(seen).toEqual([1, 2]);
      // and every later call fails the same way instead of hanging
      await expect(noHang(model.forward(fi))).rejects.toThrow(/GPU device lost/);
    });
  });

  it('the device destroyed between two forward calls: the second rejects with GpuError, no hang', async () => {
    await withOwnGpu(async (gpu) => {
      const model = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu });
      const fi = await fixtureInputs('wan_small');
      await expect(model.forward(fi)).resolves.toBeDefined();
      gpu.device.destroy();
      const err = await noHang(model.forward(fi).catch((e) => e));
      expect(err).toBeInstanceOf(GpuError);
      expect(err.message).toMatch(/GPU device lost \(destroyed\).*wan_small\/model forward/);
    });
  });
});

describe.skipIf(!hasGpu)('WebGPU errors inside a plan', () => {
  it('a validation error (a destroyed buffer in a recorded plan) is a GpuError naming the dispatch at fault', async () => {
    await withOwnGpu(async (gpu) => {
      const model = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu });
      const fi = await fixtureInputs('wan_small');
      const plan = model.planFor(fi);
      // the attention output "attn" is first touched by blocks.0.attn1's attention dispatch
      const i = plan.dispatches.findIndex((d) => d.family === 'attention');
      const d = plan.dispatches[i]!;
      expect(d.layer).toBe('blocks.0.attn1');
      expect(d.output!.label).toBe('attn');
      const quiet = console.error;
      console.error = () => {}; // Dawn also reports the uncaptured copies of the error
      try {
        d.output!.buffer.destroy();
        const err = await noHang(model.forward(fi).catch((e) => e));
        expect(err).toBeInstanceOf(GpuError);
        expect((err as GpuError).kind).toBe('validation');
        expect(err.message).toContain(`WebGPU validation error in ${model.name} forward, blocks.0.attn1 (${d.kernel}, dispatch ${i + 1}/${plan.dispatches.length})`);
        expect((err as GpuError).where).toContain('blocks.0.attn1');
      } finally {
        console.error = quiet;
      }
    });
  });
});

describe.skipIf(!hasGpu)('CLI: device lost mid-run (TESSERA_TEST_LOSE_DEVICE_AT_STEP)', () => {
  it('generate ends with exit 1, one line naming the step and the loss, and writes no output', async () => {
    const dir = tempDir();
    const out = join(dir, 'out.safetensors');
    const gif = join(dir, 'clip.gif');
    const c = join(FIXTURES, 'wan_sampler_small');
    const r = await cli(
      ['generate', '--model', join(c, 'model'), '--inputs', join(c, 'inputs.safetensors'), '--out', out, '--preview', gif, '--scheduler', 'flow-match-euler', '--steps', '3', '--guidance', '4', '--shift', '2'],
      { TESSERA_TEST_LOSE_DEVICE_AT_STEP: '2' },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(/^tessera: error: GpuError: step 3\/3: GPU device lost \(destroyed\)/);
    expect(existsSync(out) || existsSync(gif)).toBe(false);
    expect(filesIn(dir)).toEqual([]);
  });
});
