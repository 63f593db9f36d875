// diffusers pipeline folders: model_index.json parsing, and every way a folder can be unusable
// refused with the file and what was expected — before any GPU work (loadPipeline acquires the
// device only after all configs were checked). Then, on the GPU, the pixel-size → latent-shape
// rules of WanPipeline.prepare_latents and the generate() argument checks.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import '../../src/node-env.js';
import { mapFolder } from '../../src/io/source.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { loadTextEncoder } from '../../src/text/prompt-encoder.js';
import { TokenizerError } from '../../src/text/tokenizer.js';
import { InputError } from '../../src/model/model.js';
import { loadPipeline, parseModelIndex, PipelineError, pipelineInternals, subFolder } from '../../src/pipeline/pipeline.js';
import { SchedulerConfigError } from '../../src/sampler/config.js';
import { FIXTURES } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { thrown } from '../helpers/errors.js';
import { relError } from '../helpers/compare.js';
import { randn } from '../../src/random.js';
import { GOLDEN_F32 } from '../tolerances.js';

const PIPE = join(FIXTURES, 'wan_pipeline_embeds', 'pipeline');
const tmp = mkdtempSync(join(tmpdir(), 'tessera-pipeline-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** A copy of the fixture pipeline with `edit` applied to its files (path → new text, or null to delete). */
function pipelineWith(edit: Record<string, string | null | ((j: Record<string, unknown>) => void)>): string {
  const dir = join(tmp, `p${n++}`);
  cpSync(PIPE, dir, { recursive: true });
  for (const [rel, e] of Object.entries(edit)) {
    const f = join(dir, rel);
    if (e === null) rmSync(f, { recursive: true, force: true });
    else if (typeof e === 'string') writeFileSync(f, e);
    else {
      const j = JSON.parse(readFileSync(f, 'utf8'));
      e(j);
      writeFileSync(f, JSON.stringify(j));
    }
  }
  return dir;
}
const refused = async (dir: string) => {
  const e = await loadPipeline(dir).catch((x) => x);
  expect(e).toBeInstanceOf(PipelineError);
  return (e as Error).message;
};

describe('parseModelIndex', () => {
  it('components are [library, class] entries; [null, null] is an absent one; the rest is config', () => {
    const m = parseModelIndex(readFileSync(join(PIPE, 'model_index.json'), 'utf8'), 'x/model_index.json');
    expect(m.className).toBe('WanPipeline');
    expect(m.components.get('transformer')).toEqual({ library: 'diffusers', className: 'WanTransformer3DModel' });
    expect(m.components.get('vae')).toEqual({ library: 'diffusers', className: 'AutoencoderKLWan' });
    expect(m.components.get('text_encoder')).toBeNull();
    expect(m.components.get('transformer_2')).toBeNull();
    expect(m.config).toMatchObject({ boundary_ratio: null, expand_timesteps: false });
  });
  it('refuses malformed files naming the file', () => {
    const f = 'd/model_index.json';
    expect(thrown(() => parseModelIndex('{', f), PipelineError).message).toMatch(/^d\/model_index\.json: not valid JSON/);
    expect(thrown(() => parseModelIndex('[1]', f), PipelineError).message).toBe('d/model_index.json: must be a JSON object');
    expect(thrown(() => parseModelIndex('{"vae": ["diffusers", "AutoencoderKLWan"]}', f), PipelineError).message).toMatch(/has no "_class_name" string/);
    expect(thrown(() => parseModelIndex('{"_class_name": "WanPipeline", "vae": ["diffusers"]}', f), PipelineError).message).toMatch(/"vae" must be \[library, class\]/);
    expect(thrown(() => parseModelIndex('{"_class_name": "WanPipeline", "vae": [1, 2]}', f), PipelineError).message).toMatch(/"vae" must be \[library, class\] strings/);
  });
  it('subFolder reads inside its component folder only', async () => {
    const f = mapFolder('root', new Map([['vae/config.json', new TextEncoder().encode('{"a":1}')]]));
    const v = subFolder(f, 'vae');
    expect(v.name).toBe('root/vae');
    expect(await v.readText('config.json')).toBe('{"a":1}');
    expect(await v.readText('nope.json')).toBeNull();
    await expect(v.readText('../model_index.json')).rejects.toThrow(/not a plain relative path/);
    expect(() => subFolder(f, '../x')).toThrow(/not a plain relative path/);
  });
});

describe('loadPipeline refuses unusable folders before any GPU work, naming the file', () => {
  it('no model_index.json (e.g. a transformer folder given as a pipeline)', async () => {
    // the library's message names the library call, not the CLI's --model
    // a component folder is named as one, with the pipeline folder above it (user22 finding 10)
    expect(await refused(join(PIPE, 'transformer'))).toBe(`${join(PIPE, 'transformer')}/model_index.json: missing: ${join(PIPE, 'transformer')} is a transformer folder (config.json: WanTransformer3DModel), a pipeline's transformer/ component; give the pipeline folder that holds it, ${PIPE} (or load this component alone with loadModel)`);
    // a folder that is no component keeps the general line
    expect(await refused(join(PIPE, 'scheduler'))).toBe(`${join(PIPE, 'scheduler')}/model_index.json: missing (a diffusers pipeline folder names its components there; for a single transformer folder use loadModel)`);
  });
  it('an unsupported pipeline class, or a component it cannot run', async () => {
    expect(await refused(pipelineWith({ 'model_index.json': (j) => void (j._class_name = 'CogVideoXPipeline') }))).toMatch(/model_index\.json: _class_name "CogVideoXPipeline" is not supported \(expected WanPipeline, LattePipeline, DiTPipeline\)/);
    // a name on Object.prototype is not a pipeline class (it was found by `in` and crashed with a TypeError)
    for (const name of ['constructor', 'toString', '__proto__']) expect(await refused(pipelineWith({ 'model_index.json': (j) => void (j._class_name = name) }))).toMatch(new RegExp(`model_index\\.json: _class_name "${name}" is not supported \\(expected WanPipeline, LattePipeline, DiTPipeline\\)`));
    expect(await refused(pipelineWith({ 'model_index.json': (j) => void (j.transformer_2 = ['diffusers', 'WanTransformer3DModel']) }))).toMatch(/component "transformer_2" \(WanTransformer3DModel\) is not supported/);
    expect(await refused(pipelineWith({ 'model_index.json': (j) => void (j.transformer = ['diffusers', 'LatteTransformer3DModel']) }))).toMatch(/"transformer" is LatteTransformer3DModel; WanPipeline needs WanTransformer3DModel/);
    expect(await refused(pipelineWith({ 'model_index.json': (j) => void (j.vae = ['diffusers', 'AutoencoderKL']) }))).toMatch(/"vae" is AutoencoderKL; WanPipeline needs AutoencoderKLWan/);
    expect(await refused(pipelineWith({ 'model_index.json': (j) => void delete j.transformer }))).toMatch(/model_index\.json: no "transformer" component \(expected \["diffusers", "WanTransformer3DModel"\]\)/);
    expect(await refused(pipelineWith({ 'model_index.json': (j) => void (j.scheduler = [null, null]) }))).toMatch(/no "scheduler" component/);
  });
  it('a listed component whose folder or config is missing or disagrees', async () => {
    expect(await refused(pipelineWith({ transformer: null }))).toMatch(/transformer\/config\.json: missing \(model_index\.json lists transformer WanTransformer3DModel\)/);
    expect(await refused(pipelineWith({ 'vae/config.json': null }))).toMatch(/vae\/config\.json: missing \(model_index\.json lists vae AutoencoderKLWan\)/);
    expect(await refused(pipelineWith({ 'scheduler/scheduler_config.json': '{"_class_name": ' }))).toMatch(/scheduler\/scheduler_config\.json: not valid JSON/);
    expect(await refused(pipelineWith({ 'vae/config.json': (j) => void (j._class_name = 'AutoencoderKL') }))).toMatch(/vae\/config\.json: _class_name "AutoencoderKL" does not match model_index\.json's AutoencoderKLWan/);
    expect(await refused(pipelineWith({ 'transformer/config.json': (j) => void (j._class_name = 'DiTTransformer2DModel') }))).toMatch(/transformer\/config\.json: _class_name "DiTTransformer2DModel" does not match model_index\.json's WanTransformer3DModel/);
    expect(await refused(pipelineWith({ 'vae/config.json': (j) => void (j.scale_factor_spatial = 0) }))).toMatch(/vae\/config\.json: scale_factor_spatial\/scale_factor_temporal must be positive integers/);
  });
  it('a folder where one of its JSON files should be: PipelineError naming it and what lists it, as a missing one (not a FileAccessError)', async () => {
    for (const [rel, what] of [
      ['model_index.json', 'a diffusers pipeline folder names its components there'],
      ['transformer/config.json', 'model_index.json lists transformer WanTransformer3DModel'],
      ['scheduler/scheduler_config.json', 'model_index.json lists scheduler FlowMatchEulerDiscreteScheduler'],
      ['vae/config.json', 'model_index.json lists vae AutoencoderKLWan'],
    ]) {
      const dir = pipelineWith({ [rel!]: null });
      mkdirSync(join(dir, rel!));
      expect(await refused(dir)).toBe(`${dir}/${rel}: is a folder, not a file (${what})`);
    }
  });
  it('a scheduler the sampler does not implement', async () => {
    const dir = pipelineWith({
      'model_index.json': (j) => void (j.scheduler = ['diffusers', 'EulerAncestralDiscreteScheduler']),
      'scheduler/scheduler_config.json': (j) => void (j._class_name = 'EulerAncestralDiscreteScheduler'),
    });
    const e = await loadPipeline(dir).catch((x) => x);
    expect(e).toBeInstanceOf(SchedulerConfigError);
    expect(e.message).toMatch(/scheduler\/scheduler_config\.json: .*EulerAncestralDiscreteScheduler.* not supported.*UniPCMultistepScheduler/);
  });
});

describe('weight variants (diffusers variant=)', () => {
  it('a variant no component has is refused before any GPU work, naming the folders', async () => {
    const e = await loadPipeline(PIPE, { variant: 'fp16' }).catch((x) => x);
    expect(e).toBeInstanceOf(PipelineError);
    expect(e.message).toMatch(/: no component has the weight variant fp16 \(looked in transformer\/diffusion_pytorch_model\.fp16\.safetensors, vae\/diffusion_pytorch_model\.fp16\.safetensors and their indexes\); without a variant the default weights load$/);
  });

  it('a wrong variant names the variants the components do have, in words for the option and the flag alike (no --variant)', async () => {
    const dir = pipelineWith({ 'transformer/diffusion_pytorch_model.fp16.safetensors': 'x', 'vae/diffusion_pytorch_model.bf16.safetensors': 'x' });
    const e = await loadPipeline(dir, { variant: 'f16' }).catch((x) => x);
    expect(e).toBeInstanceOf(PipelineError);
    expect(e.message).toBe(
      `${dir}: no component has the weight variant f16 (looked in transformer/diffusion_pytorch_model.f16.safetensors, vae/diffusion_pytorch_model.f16.safetensors and their indexes); ` +
        'the weight variants there: fp16 (transformer/diffusion_pytorch_model.fp16.safetensors), bf16 (vae/diffusion_pytorch_model.bf16.safetensors); without a variant the default weights load',
    );
  });
});

describe.skipIf(!hasGpu)('a pipeline whose tokenizer/ holds a folder for a file', () => {
  it('TokenizerError naming the file, as a missing tokenizer.json is', async () => {
    const dir = join(tmp, 'tok-folder');
    cpSync(join(FIXTURES, '..', '..', 'models', 'tessera-shapes'), dir, { recursive: true });
    rmSync(join(dir, 'tokenizer', 'tokenizer.json'));
    mkdirSync(join(dir, 'tokenizer', 'tokenizer.json'));
    const e = await loadPipeline(dir, { gpu: gpu! }).catch((x) => x);
    expect(e).toBeInstanceOf(TokenizerError);
    expect(e.message).toBe(`${dir}/tokenizer/tokenizer.json: is a folder, not a file (tessera reads the tokenizer from tokenizer.json)`);
  });
});

describe.skipIf(!hasGpu)('weight variants on the GPU', () => {
  it('--variant reaches the components that have it; a variant-only transformer without it names the files and the flag', async () => {
    const dir = pipelineWith({});
    renameSync(join(dir, 'transformer/diffusion_pytorch_model.safetensors'), join(dir, 'transformer/diffusion_pytorch_model.fp16.safetensors'));
    const e = await loadPipeline(dir, { gpu: gpu! }).catch((x) => x);
    expect(e.name).toBe('ModelFolderError');
    expect(e.message).toMatch(/weight variant fp16 \(diffusion_pytorch_model\.fp16\.safetensors\): load it with loadPipeline\(dir, \{ variant: 'fp16' \}\)$/);
    // text_encoder/ (transformers' names): model.fp16.safetensors with variant, a hint naming it without
    const te = join(tmp, 'te');
    cpSync(join(FIXTURES, 'umt5_small', 'pipeline'), te, { recursive: true });
    renameSync(join(te, 'text_encoder/model.safetensors'), join(te, 'text_encoder/model.fp16.safetensors'));
    const folders = { tokenizer: nodeFolder(join(te, 'tokenizer')), textEncoder: nodeFolder(join(te, 'text_encoder')) };
    await expect(loadTextEncoder(folders, { gpu: gpu! })).rejects.toThrow(/the weight variant fp16 \(model\.fp16\.safetensors\): load it with loadTextEncoder\(folders, \{ variant: 'fp16' \}\)$/);
    (await loadTextEncoder(folders, { gpu: gpu!, variant: 'fp16' })).dispose();
    // the transformer has fp16, the VAE only its default weights: both load (diffusers falls back per component)
    const pipe = await loadPipeline(dir, { gpu: gpu!, variant: 'fp16' });
    try {
      expect(pipe.vae?.kind).toBe('wan');
    } finally {
      pipe.dispose();
    }
  });
});

describe.skipIf(!hasGpu)('Pipeline (loaded on the GPU)', () => {
  it('pixel sizes → latents as WanPipeline.prepare_latents; bad sizes and missing inputs refused before sampling', async () => {
    const pipe = await loadPipeline(PIPE, { gpu: gpu! });
    try {
      expect(pipe.className).toBe('WanPipeline');
      expect(pipe.scheduler.className).toBe('FlowMatchEulerDiscreteScheduler');
      expect(pipe.vae?.kind).toBe('wan');
      expect(pipe.vaeScale).toEqual({ spatial: 8, temporal: 4 });
      expect(pipe.latentShape(2, { height: 32, width: 48, num_frames: 9 })).toEqual([2, 4, 3, 4, 6]);
      expect(pipe.latentShape(1, { height: 16, width: 16, num_frames: 1 })).toEqual([1, 4, 1, 2, 2]);
      expect(thrown(() => pipe.latentShape(1, { height: 40, width: 32, num_frames: 5 }), InputError).message).toBe('height 40: must be a multiple of 16 (VAE factor 8 × patch 2), such as 48 or 32');
      expect(thrown(() => pipe.latentShape(1, { height: 32, width: 32, num_frames: 6 }), InputError).message).toBe('num_frames 6: must be 4k + 1 (VAE temporal factor 4), such as 5 or 9');
      expect(thrown(() => pipe.latentShape(1, { width: 32, num_frames: 5 }), InputError).message).toMatch(/^height: needed with seed/);
      // the sizes alone (no batch) were a raw TypeError reading 'height' of undefined
      const noBatch = thrown(() => (pipe.latentShape as (o: unknown) => number[])({ height: 32, width: 32, num_frames: 9 }), InputError);
      expect([noBatch.message, (noBatch as InputError).option]).toEqual(['latentShape: batch: the number of items, a positive integer, got a plain object with keys height, width, num_frames (the sizes are the second argument: latentShape(1, { height, width, num_frames }))', 'batch']);
      expect(thrown(() => pipe.latentShape(0, { height: 32, width: 32, num_frames: 9 }), InputError).message).toBe('latentShape: batch: the number of items, a positive integer, got 0');
      expect(thrown(() => pipe.latentShape(1, undefined as never), InputError).message).toBe('latentShape: sizes: an object { height, width, num_frames }, got undefined');
      const text = { data: new Float32Array(8 * 16), shape: [1, 8, 16] };
      await expect(pipe.generate({ num_inference_steps: 1, guidance_scale: 1, seed: 0, height: 32, width: 32, num_frames: 5 })).rejects.toThrow(/prompt_embeds: missing/);
      await expect(pipe.generate({ prompt: 'a red circle', num_inference_steps: 1 })).rejects.toThrow(/has no text encoder loaded; give prompt_embeds/);
      await expect(pipe.generate({ prompt_embeds: text, num_inference_steps: 0 })).rejects.toThrow(/num_inference_steps: a positive integer, got 0/);
      await expect(pipe.generate({ prompt_embeds: text, guidance_scale: 5, seed: 0, height: 32, width: 32, num_frames: 5 })).rejects.toThrow(/^negative_prompt_embeds: missing; guidance_scale 5 > 1 needs them and .* has no text encoder to encode negative_prompt: give negative_prompt_embeds \[1, L', 16\], or guidance_scale 1$/);
      await expect(pipe.generate({ prompt_embeds: text, output_type: 'pil' as 'np' })).rejects.toThrow(/output_type: "np" or "latent"/);
      // negative_prompt_embeds given to an unguided call are not read: one note (loadPipeline's onWarning, else console.warn)
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      try {
        await pipe.generate({ prompt_embeds: text, negative_prompt_embeds: text, guidance_scale: 1, num_inference_steps: 1, seed: 0, height: 16, width: 16, num_frames: 1, output_type: 'latent' });
        expect(warn.mock.calls).toEqual([['note: negative_prompt_embeds unused: guidance_scale 1 ≤ 1 disables classifier-free guidance (as diffusers\' do_classifier_free_guidance, guidance_scale > 1); give guidance_scale > 1 to use them']]);
      } finally {
        warn.mockRestore();
      }
      // NaN shown as itself (JSON.stringify wrote null)
      await expect(pipe.generate({ prompt_embeds: text, output_type: NaN as never })).rejects.toThrow(new InputError('output_type: "np" or "latent", got NaN', { option: 'output_type' }));
      expect(thrown(() => pipe.latentShape(1, { height: 32, width: 32, num_frames: 8 }), InputError).message).toMatch(/must be 4k \+ 1 .*such as 9 or 5$/);
      expect(thrown(() => pipe.latentShape(1, { height: 32, width: 32, num_frames: 3 }), InputError).message).toMatch(/such as 5 or 1$/);
      // sizes are checked before the prompt is encoded: a fake encoder that records calls is never reached
      let encoded = 0;
      pipelineInternals(pipe).textEncoder = { encodePrompt: async () => (encoded++, text), dispose: () => {} };
      await expect(pipe.generate({ prompt: 'a red circle', guidance_scale: 1, seed: 0, height: 32, width: 32, num_frames: 6, num_inference_steps: 1 })).rejects.toThrow(/num_frames 6: must be 4k \+ 1/);
      await expect(pipe.generate({ prompt: 'a red circle', guidance_scale: 1, seed: 0, height: 40, width: 32, num_frames: 5, num_inference_steps: 1 })).rejects.toThrow(/^height 40: must be a multiple of 16/);
      await expect(pipe.generate({ prompt: ['a', 'b'], negative_prompt: ['x'], guidance_scale: 5, seed: 0, height: 32, width: 32, num_frames: 5, num_inference_steps: 1 })).rejects.toThrow(/negative_prompt: 1 negative prompt for a batch of 2 \(one per prompt, or one string for all\)/);
      expect(encoded).toBe(0);
      // given latents are named as such (not the transformer's hidden_states)
      await expect(pipe.generate({ prompt_embeds: text, guidance_scale: 1, latents: { data: new Float32Array(4 * 4 * 4), shape: [1, 4, 4, 4] }, output_type: 'latent', num_inference_steps: 1 })).rejects.toThrow(/^latents: expected \[B, C, F, H, W\] \(5 dims\) for a wan model, found \[1,4,4,4\]$/);
      await expect(pipe.generate({ prompt_embeds: text, guidance_scale: 1, latents: { data: new Float32Array(3 * 8), shape: [1, 3, 2, 2, 2] }, output_type: 'latent', num_inference_steps: 1 })).rejects.toThrow(/^latents: expected 4 channels \(transformer config in_channels\), found 3/);
      pipelineInternals(pipe).textEncoder = undefined;
    } finally {
      pipe.dispose();
    }
    // without its VAE: latents only, and "np" is refused
    const bare = await loadPipeline(PIPE, { gpu: gpu!, vae: false });
    try {
      expect(bare.vae).toBeUndefined();
      await expect(bare.generate({ prompt_embeds: { data: new Float32Array(8 * 16), shape: [1, 8, 16] }, output_type: 'np' })).rejects.toThrow(/output_type "np" needs a VAE/);
    } finally {
      bare.dispose();
    }
  });

  it('a batch with one seed per item gives each item what that item gives alone (a list of seeds, as diffusers takes generators)', async () => {
    const pipe = await loadPipeline(PIPE, { gpu: gpu! });
    try {
      const [B, L, D] = [2, 8, 16];
      const pos = randn(B * L * D, 1);
      const neg = randn(B * L * D, 2);
      const seed = [5, 0];
      const call = { height: 32, width: 32, num_frames: 5, num_inference_steps: 3, guidance_scale: 5 };
      const row = (a: Float32Array, b: number) => ({ data: a.slice(b * L * D, (b + 1) * L * D), shape: [1, L, D] });
      const all = await pipe.generate({ prompt_embeds: { data: pos, shape: [B, L, D] }, negative_prompt_embeds: { data: neg, shape: [B, L, D] }, seed, ...call });
      const per = all.latents.data.length / B;
      const perV = all.video!.data.length / B;
      expect(all.video!.shape[0]).toBe(B);
      const item = (t: Float32Array, n: number, b: number) => t.subarray(b * n, (b + 1) * n);
      for (let b = 0; b < B; b++) {
        const one = await pipe.generate({ prompt_embeds: row(pos, b), negative_prompt_embeds: row(neg, b), seed: seed[b], ...call });
        // the batch runs other GEMM rows per workgroup than batch 1: equal to f32 rounding (the goldens' bound)
        expect(relError(item(all.latents.data as Float32Array, per, b), one.latents.data), `latents of item ${b}`).toBeLessThan(GOLDEN_F32);
        expect(relError(item(all.video!.data as Float32Array, perV, b), one.video!.data), `video of item ${b}`).toBeLessThan(GOLDEN_F32);
      }
      const embeds = { prompt_embeds: { data: pos, shape: [B, L, D] }, negative_prompt_embeds: { data: neg, shape: [B, L, D] } };
      await expect(pipe.generate({ ...embeds, ...call, seed: [1, 2, 3] })).rejects.toThrow(/^seed: 3 seeds for a batch of 2 \(one per prompt, or one number\)$/);
      await expect(pipe.generate({ ...embeds, ...call, seed: [0, -1] })).rejects.toThrow(/^seed\[1\]: an integer in 0\.\.4294967295 \(the noise generator's seed is 32 bits\), got -1$/);
    } finally {
      pipe.dispose();
    }
  });
});
