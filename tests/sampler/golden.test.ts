// The sampler goldens and the field cases (tests/fixtures, copied from shared/golden and
// shared/field: made by the real diffusers in float64), run in process the way `tessera generate`
// / `tessera forward` runs them: the scheduler from the folder's scheduler_config.json
// (`_class_name`, or `--scheduler X` as X.from_config), the GPU-resident loop, the case's metric
// max|out − expected| / max|expected|: f32 runs held to GOLDEN_F32 (1e-4; the cases allow 2e-3),
// f16 storage to the cases' 2e-3 (tests/tolerances.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../helpers/golden.js';
import { relError } from '../helpers/compare.js';
import { GOLDEN_F32, goldenF32Tol, goldenTol } from '../tolerances.js';
import { readInputs } from '../../src/io/inputs.js';
import { ModelFolderError } from '../../src/io/model-folder.js';
import { loadModel, type TensorData } from '../../src/model/model.js';
import { generate } from '../../src/sampler/generate.js';
import { cliScheduler } from '../../src/cli/cmd-generate.js';

const relErr = relError;
const FIELD_TOL = 2e-3; // the field cases' tolerance (tests/fixtures/field/README.md)

async function expected(dir: string, key: string): Promise<Float32Array> {
  return (await readInputs(join(dir, 'expected.safetensors'))).get(key)!.f32!;
}

/** A generate run as the CLI makes it from a case folder, flags given as they are on the command line. */
async function runGenerate(modelDir: string, inputsFile: string, flags: { steps: number; guidance: number; scheduler?: string; shift?: number }, warnings: string[] = []) {
  const scheduler = cliScheduler(modelDir, flags.scheduler, flags.shift, (l) => warnings.push(l));
  const m = await readInputs(inputsFile);
  const t = (k: string): TensorData | undefined => (m.has(k) ? { data: m.get(k)!.f32!, shape: m.get(k)!.shape } : undefined);
  const model = await loadModel(modelDir, { gpu: gpu! });
  try {
    return await generate(model, {
      scheduler,
      num_inference_steps: flags.steps,
      guidance_scale: flags.guidance,
      latents: t('latents'),
      encoder_hidden_states: t('encoder_hidden_states'),
      negative_encoder_hidden_states: t('negative_encoder_hidden_states'),
      class_labels: m.has('class_labels') ? Array.from(m.get('class_labels')!.i64!, Number) : undefined,
    });
  } finally {
    model.destroy();
  }
}

describe.skipIf(!hasGpu)('sampler goldens through the GPU-resident loop', () => {
  for (const name of ['wan_sampler_unipc_small', 'dit_sampler_dpmpp_small', 'wan_sampler_small', 'dit_sampler_small']) {
    it(name, async () => {
      const dir = join(FIXTURES, name);
      const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
      const args: string[] = c.cli.args;
      const flag = (f: string) => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);
      const out = await runGenerate(join(dir, 'model'), join(dir, 'inputs.safetensors'), {
        steps: Number(flag('--steps')),
        guidance: Number(flag('--guidance')),
        scheduler: flag('--scheduler'),
        shift: flag('--shift') === undefined ? undefined : Number(flag('--shift')),
      });
      if (c.sampler.scheduler_class) expect(out.scheduler).toBe(c.sampler.scheduler_class); // from _class_name, no --scheduler
      expect(out.timesteps.map((t) => Math.fround(t))).toEqual(c.sampler.timesteps.map((t: number) => Math.fround(t)));
      const err = relErr(out.latents.data, await expected(dir, 'latents'));
      console.log(`${name}: ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(goldenF32Tol(c.tolerance.max));
    });
  }
});

describe.skipIf(!hasGpu)('field cases (files as people have them)', () => {
  const F = join(FIXTURES, 'field');

  it('metadata-null: a null __metadata__ is no metadata; the model loads and matches diffusers', async () => {
    const model = await loadModel(join(F, 'metadata-null', 'model'), { gpu: gpu! });
    try {
      const m = await readInputs(join(F, 'metadata-null', 'inputs.safetensors'));
      const out = await model.forward({
        hidden_states: { data: m.get('hidden_states')!.f32!, shape: m.get('hidden_states')!.shape },
        timestep: Array.from(m.get('timestep')!.f32!),
        encoder_hidden_states: { data: m.get('encoder_hidden_states')!.f32!, shape: m.get('encoder_hidden_states')!.shape },
      });
      expect(relErr(out.data, await expected(join(F, 'metadata-null'), 'sample'))).toBeLessThanOrEqual(GOLDEN_F32);
    } finally {
      model.destroy();
    }
  });

  it('variant-fp16: --variant fp16 loads diffusion_pytorch_model.fp16.safetensors; without it an error naming the file and the flag', async () => {
    const dir = join(F, 'variant-fp16', 'model');
    await expect(loadModel(dir, { gpu: gpu! })).rejects.toThrow(ModelFolderError);
    await expect(loadModel(dir, { gpu: gpu! })).rejects.toThrow(/weight variant fp16 \(diffusion_pytorch_model\.fp16\.safetensors\): load it with loadModel\(dir, \{ variant: 'fp16' \}\)$/);
    const m = await readInputs(join(F, 'variant-fp16', 'inputs.safetensors'));
    const want = await expected(join(F, 'variant-fp16'), 'sample');
    for (const dtype of gpu!.f16 ? (['f32', 'f16'] as const) : (['f32'] as const)) {
      const model = await loadModel(dir, { gpu: gpu!, variant: 'fp16', dtype });
      try {
        const out = await model.forward({
          hidden_states: { data: m.get('hidden_states')!.f32!, shape: m.get('hidden_states')!.shape },
          timestep: Array.from(m.get('timestep')!.f32!),
          encoder_hidden_states: { data: m.get('encoder_hidden_states')!.f32!, shape: m.get('encoder_hidden_states')!.shape },
        });
        const err = relErr(out.data, want);
        console.log(`variant-fp16 ${dtype}: ${err.toExponential(2)}`);
        expect(err).toBeLessThanOrEqual(goldenTol(dtype, FIELD_TOL));
      } finally {
        model.destroy();
      }
    }
  });

  it('scheduler-foreign-keys: keys DDIM does not define are ignored with one warning naming them', async () => {
    const d = join(F, 'scheduler-foreign-keys');
    const warnings: string[] = [];
    const out = await runGenerate(join(d, 'pipe', 'transformer'), join(d, 'inputs.safetensors'), { steps: 5, guidance: 3, scheduler: 'ddim' }, warnings);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/scheduler_config\.json: interpolation_type, skip_prk_steps, use_karras_sigmas are not DDIMScheduler config keys: ignored/);
    expect(relErr(out.latents.data, await expected(d, 'latents'))).toBeLessThanOrEqual(GOLDEN_F32);
  });

  it('scheduler-other-class: --scheduler ddim on a PNDM config keeps the shared values (timesteps 901 … 1)', async () => {
    const d = join(F, 'scheduler-other-class');
    const warnings: string[] = [];
    const out = await runGenerate(join(d, 'pipe', 'transformer'), join(d, 'inputs.safetensors'), { steps: 10, guidance: 2, scheduler: 'DDIMScheduler' }, warnings);
    expect(out.timesteps).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    expect(warnings).toEqual([expect.stringMatching(/skip_prk_steps is not a DDIMScheduler config key: ignored/)]);
    expect(relErr(out.latents.data, await expected(d, 'latents'))).toBeLessThanOrEqual(GOLDEN_F32);
  });
});
