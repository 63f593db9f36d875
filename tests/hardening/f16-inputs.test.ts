// With f16 storage, an input value beyond ±65504 would become Infinity on the GPU and the error
// would blame the first layer that read it: it is refused before any GPU work, naming the tensor,
// the value and its index (as weights are, src/model/weights.ts checkWeightValues).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { readInputs } from '../../src/io/inputs.js';
import { InputError, loadModel, type TensorData } from '../../src/model/model.js';
import { generate } from '../../src/sampler/generate.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { cli, filesIn, FIXTURES, inputsWith, tempDir } from './helpers.js';

async function fixture(name: string): Promise<Map<string, TensorData>> {
  const m = await readInputs(join(FIXTURES, name, 'inputs.safetensors'));
  return new Map([...m].map(([k, t]) => [k, { data: t.f32!, shape: t.shape }]));
}

/** A copy of `t` with `v` at flat index `i`. */
const withValue = (t: TensorData, i: number, v: number): TensorData => {
  const data = Float32Array.from(t.data);
  data[i] = v;
  return { data, shape: t.shape };
};

describe.skipIf(!hasGpu || !gpu?.f16)('f16 inputs beyond ±65504', () => {
  it('forward and generate refuse them with one InputError naming the tensor, value and index; f32 takes them', async () => {
    const f16 = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: gpu!, dtype: 'f16' });
    const f32 = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: gpu!, dtype: 'f32' });
    try {
      const fi = await fixture('wan_small');
      const hs = fi.get('hidden_states')!;
      const text = fi.get('encoder_hidden_states')!;
      const timestep = fi.get('timestep')!.data;
      const fwd = (m: typeof f16, o: { hidden_states?: TensorData; encoder_hidden_states?: TensorData }) =>
        m.forward({ hidden_states: hs, timestep, encoder_hidden_states: text, ...o }).catch((e) => e);
      const e1 = await fwd(f16, { hidden_states: withValue(hs, 5, 1e5) });
      expect(e1).toBeInstanceOf(InputError);
      expect(e1.message).toBe("hidden_states: value 100000 at flat index 5 is outside the f16 range (±65504): use dtype: 'f32'");
      const e2 = await fwd(f16, { encoder_hidden_states: withValue(text, 3, -7e4) });
      expect(e2).toBeInstanceOf(InputError);
      expect(e2.message).toBe("encoder_hidden_states: value -70000 at flat index 3 is outside the f16 range (±65504): use dtype: 'f32'");
      // the largest f16 value itself is taken
      const ok = await fwd(f16, { hidden_states: withValue(hs, 5, 65504) });
      expect(ok).not.toBeInstanceOf(Error);
      // f32 storage holds 1e5: not refused
      const r32 = await fwd(f32, { hidden_states: withValue(hs, 5, 1e5) });
      expect(r32).not.toBeInstanceOf(Error);

      const gi = await fixture('wan_sampler_small');
      let steps = 0;
      const gen = (o: Record<string, TensorData>) =>
        generate(f16, {
          scheduler: 'flow-match-euler', num_inference_steps: 2, guidance_scale: 4, latents: gi.get('latents')!,
          encoder_hidden_states: gi.get('encoder_hidden_states')!, negative_encoder_hidden_states: gi.get('negative_encoder_hidden_states')!, onStep: () => steps++, ...o,
        }).catch((e) => e);
      const g1 = await gen({ latents: withValue(gi.get('latents')!, 7, 65520) });
      expect(g1).toBeInstanceOf(InputError);
      expect(g1.message).toBe("latents: value 65520 at flat index 7 is outside the f16 range (±65504): use dtype: 'f32'");
      const g2 = await gen({ encoder_hidden_states: withValue(gi.get('encoder_hidden_states')!, 2, 1e6) });
      expect(g2.message).toBe("encoder_hidden_states: value 1000000 at flat index 2 is outside the f16 range (±65504): use dtype: 'f32'");
      // the negative text is named as such (the model sees it inside the [cond; uncond] batch)
      const g3 = await gen({ negative_encoder_hidden_states: withValue(gi.get('negative_encoder_hidden_states')!, 4, -1e5) });
      expect(g3.message).toBe("negative_encoder_hidden_states: value -100000 at flat index 4 is outside the f16 range (±65504): use dtype: 'f32'");
      const g4 = await gen({ prompt_embeds: withValue(gi.get('encoder_hidden_states')!, 1, 7e4), encoder_hidden_states: undefined as unknown as TensorData });
      expect(g4.message).toBe("prompt_embeds: value 70000 at flat index 1 is outside the f16 range (±65504): use dtype: 'f32'");
      expect(steps).toBe(0);
    } finally {
      f16.destroy();
      f32.destroy();
    }
  });

  it('CLI forward and generate --dtype f16: exit 1, one line naming the tensor and --dtype f32, no output', async () => {
    const outDir = tempDir();
    const out = join(outDir, 'out.safetensors');
    const big = await inputsWith('wan_small', (m) => (m.get('hidden_states')!.f32![5] = 1e5));
    const f = await cli(['forward', '--model', join(FIXTURES, 'wan_small', 'model'), '--inputs', big, '--out', out, '--dtype', 'f16']);
    expect(f.errLines, f.stderr).toEqual(['tessera: error: InputError: hidden_states: value 100000 at flat index 5 is outside the f16 range (±65504): use --dtype f32']);
    expect(f.code).toBe(1);
    const s = join(FIXTURES, 'wan_sampler_small');
    const bigNeg = await inputsWith('wan_sampler_small', (m) => (m.get('negative_encoder_hidden_states')!.f32![3] = 7e4));
    const g = await cli(['generate', '--model', join(s, 'model'), '--inputs', bigNeg, '--out', out, '--scheduler', 'flow-match-euler', '--steps', '2', '--guidance', '4', '--dtype', 'f16']);
    expect(g.errLines, g.stderr).toEqual(['tessera: error: InputError: negative_encoder_hidden_states: value 70000 at flat index 3 is outside the f16 range (±65504): use --dtype f32']);
    expect(g.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(filesIn(outDir)).toEqual([]);
  });
});
