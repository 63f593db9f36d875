// Issue 5, "Config and weights": every inconsistency gets a message that says what was expected
// and what was found — through parseConfig/loadModel/forward and through the CLI (exit 1, one
// line on stderr naming the file/tensor, no output file).
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import '../../src/node-env.js';
import { ConfigError, parseConfig } from '../../src/model/config.js';
import { InputError, loadModel, type DiffusionModel, type ForwardInputs } from '../../src/model/model.js';
import { expectedKeyCount, expectedKeys, WeightError } from '../../src/model/weights.js';
import { estimateWeights } from '../../src/model/memory.js';
import { readInputs } from '../../src/io/inputs.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { loadTextEncoder } from '../../src/text/prompt-encoder.js';
import { loadVae } from '../../src/vae/vae.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { cli, filesIn, FIXTURES, inputsWith, modelWithConfig, modelWithWeights, rewriteTensors, tempDir } from './helpers.js';
import { thrown } from '../helpers/errors.js';

// the layer counts expectedKeys is asked to list from other modules (loadModel's); expectedKeyCount's own calls are not seen
const listed = vi.hoisted((): number[] => []);
vi.mock('../../src/model/weights.js', async (importOriginal) => {
  const w = await importOriginal<typeof import('../../src/model/weights.js')>();
  return { ...w, expectedKeys: (c: Parameters<typeof w.expectedKeys>[0]) => (listed.push(c.layers), w.expectedKeys(c)) };
});

const cfg = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(FIXTURES, name, 'model', 'config.json'), 'utf8'));
const configError = (c: Record<string, unknown>): ConfigError => thrown(() => parseConfig(c), ConfigError);

describe('config.json: expected vs found', () => {
  it('unknown _class_name lists the supported classes and the one found', () => {
    const e = configError({ ...cfg('wan_small'), _class_name: 'UNet2DConditionModel' });
    expect(e.message).toMatch(/_class_name "UNet2DConditionModel" is not supported \(expected WanTransformer3DModel, DiTTransformer2DModel/);
    // Transformer2DModel is DiT only with ada_norm_zero
    expect(configError({ ...cfg('dit_small'), _class_name: 'Transformer2DModel', norm_type: 'layer_norm' }).message).toContain('"Transformer2DModel"');
  });

  it('Wan patch_size must be 3 positive integers', () => {
    for (const bad of [[1, 2], 2, [1, 2, 0], [1, 2, 2.5]]) {
      expect(configError({ ...cfg('wan_small'), patch_size: bad }).message).toBe(`config.json: "patch_size" must be 3 positive integers [pt, ph, pw], found ${JSON.stringify(bad)}`);
    }
  });

  it('RoPE split invalid for the head dim (Wan)', () => {
    expect(configError({ ...cfg('wan_small'), attention_head_dim: 15 }).message).toMatch(/attention_head_dim must be even .*found 15/);
    const e = configError({ ...cfg('wan_small'), attention_head_dim: 4 });
    expect(e.message).toMatch(/attention_head_dim 4 gives an invalid RoPE split .*t 4, h 0, w 0.*expected three even parts/);
  });

  it('heads × head_dim inconsistent with a separate width (Latte cross_attention_dim) or the position embedding (DiT)', () => {
    const e = configError({ ...cfg('latte_small'), cross_attention_dim: 48 });
    expect(e.message).toContain('cross_attention_dim 48 must equal num_attention_heads × attention_head_dim = 2 × 16 = 32');
    expect(e.message).toContain('found 48');
    const d = configError({ ...cfg('dit_small'), num_attention_heads: 3, attention_head_dim: 6 });
    expect(d.message).toContain('3 × 6 = 18 must be a multiple of 4');
  });

  it('bad scalar values say the rule and the value found', () => {
    expect(configError({ ...cfg('wan_small'), num_layers: 1.5 }).message).toBe('config.json: "num_layers" must be an integer ≥ 1, found 1.5');
    expect(configError({ ...cfg('wan_small'), eps: -1 }).message).toBe('config.json: "eps" must be a positive number, found -1');
    expect(configError({ ...cfg('wan_small'), qk_norm: 'layer_norm' }).message).toContain('"qk_norm" = "layer_norm" is not supported (expected "rms_norm_across_heads")');
    expect(configError({ ...cfg('latte_small'), in_channels: undefined }).message).toBe('config.json: missing "in_channels"');
  });

  it('loadModel on a folder with a bad config throws ConfigError naming its config.json, before touching the GPU', async () => {
    const dir = modelWithConfig('latte_small', (c) => (c.cross_attention_dim = 48));
    const err = await loadModel(dir).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(`${dir}/config.json: cross_attention_dim 48 must equal num_attention_heads × attention_head_dim = 2 × 16 = 32 (the caption is projected to the inner dim), found 48`);
  });
});

describe('weights vs config: missing, extra, mis-shaped keys', () => {
  it('missing keys are named, with the folder', async () => {
    const dir = await modelWithWeights('wan_small', (m) => m.delete('blocks.1.ffn.net.2.bias'));
    const err = await loadModel(dir).catch((e) => e);
    expect(err).toBeInstanceOf(WeightError);
    expect(err.message).toContain(dir);
    expect(err.message).toContain('missing keys: blocks.1.ffn.net.2.bias');
  });

  it('a num_layers far beyond the weights is refused at once, with the counts; one layer too many still names the missing keys; beyond 4096 a ConfigError', async () => {
    for (const [name, layers] of [['wan_small', 4096], ['dit_small', 3001], ['latte_small', 1000]] as const) {
      const dir = modelWithConfig(name, (c) => (c.num_layers = layers));
      listed.length = 0;
      const err = await loadModel(dir).catch((e) => e);
      expect(listed, 'refused on the counts before the keys of every layer were listed (1e6 layers: minutes, then "Map maximum size exceeded")').toEqual([]);
      expect(err).toBeInstanceOf(WeightError);
      expect(err.message).toMatch(new RegExp(`^${dir}: the weights do not match config\\.json: num_layers ${layers} needs \\d+ tensors \\(\\d+ per layer\\), the weights hold \\d+, enough for at most 2 layers$`));
    }
    for (const layers of [4097, 1e6, 1e12]) {
      const dir = modelWithConfig('wan_small', (c) => (c.num_layers = layers));
      const err = await loadModel(dir).catch((e) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toBe(`${dir}/config.json: "num_layers" ${layers} is beyond what tessera plans (at most 4096; released models have at most 40): the config is damaged or not a transformer's`);
    }
    const one = await loadModel(modelWithConfig('wan_small', (c) => (c.num_layers = 3))).catch((e) => e);
    expect(one).toBeInstanceOf(WeightError);
    expect(one.message).toContain('missing keys: blocks.2.');
  });

  it('the weights estimate extrapolates over layers exactly', () => {
    for (const name of ['wan_small', 'dit_small', 'latte_small']) {
      const c = parseConfig({ ...cfg(name), num_layers: 7 });
      const listed = [...expectedKeys(c).keys()].length;
      expect(expectedKeyCount(c).total).toBe(listed);
      const est = estimateWeights(c, 'f32');
      const direct = estimateWeights({ ...c, layers: 2 } as typeof c, 'f32');
      expect(est.bytes - direct.bytes).toBe(5 * (direct.bytes - estimateWeights({ ...c, layers: 1 } as typeof c, 'f32').bytes));
    }
  });

  it('extra keys are named', async () => {
    const dir = await modelWithWeights('dit_small', (m) => m.set('transformer_blocks.7.attn1.to_q.weight', { dtype: 'F32', shape: [2], f32: new Float32Array(2) }));
    await expect(loadModel(dir)).rejects.toThrow(/unexpected keys: transformer_blocks\.7\.attn1\.to_q\.weight/);
  });

  it('mis-shaped keys say the shape found and the shape expected', async () => {
    const dir = await modelWithWeights('wan_small', (m) => {
      const t = m.get('proj_out.weight')!;
      m.set('proj_out.weight', { ...t, shape: [t.shape[1]!, t.shape[0]!] });
    });
    await expect(loadModel(dir)).rejects.toThrow('wrong shapes: proj_out.weight is [48,16], expected [16,48]');
  });

  it('heads × head_dim ≠ the width of the weights: the mis-shaped keys say both', async () => {
    const dir = modelWithConfig('wan_small', (c) => (c.num_attention_heads = 4)); // 4 × 16 = 64, weights are 48 wide
    const err = await loadModel(dir).catch((e) => e);
    expect(err).toBeInstanceOf(WeightError);
    expect(err.message).toMatch(/wrong shapes: .* is \[48(,\d+)*\], expected \[64/);
  });

  it.skipIf(!hasGpu)('a non-finite weight is named with its flat index', async () => {
    const dir = await modelWithWeights('wan_small', (m) => (m.get('blocks.0.attn1.to_k.weight')!.f32![7] = Number.NaN));
    const err = await loadModel(dir, { gpu: gpu! }).catch((e) => e);
    expect(err).toBeInstanceOf(WeightError);
    expect(err.message).toBe(`${dir}/diffusion_pytorch_model.safetensors: weight blocks.0.attn1.to_k.weight holds a non-finite value (NaN) at flat index 7`);
  });
});

describe('load errors name the file: models, VAEs and the text encoder', () => {
  it('a transformer folder given where a VAE is expected: ConfigError naming its config.json', async () => {
    const dir = join(FIXTURES, 'wan_small', 'model');
    const err = await loadVae(dir).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(`${dir}/config.json: _class_name "WanTransformer3DModel" is not a supported VAE (AutoencoderKLWan, AutoencoderKL)`);
  });

  it('a bad VAE config value names the file and the key', async () => {
    const dir = join(tempDir(), 'vae');
    cpSync(join(FIXTURES, 'wan_vae_small', 'vae'), dir, { recursive: true });
    const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...c, z_dim: 0 }));
    const err = await loadVae(dir).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(`${dir}/config.json: "z_dim" must be a positive integer, got 0`);
  });

  it.skipIf(!hasGpu)('a NaN in a VAE weight names the .safetensors file, the key and the index', async () => {
    const dir = join(tempDir(), 'vae');
    cpSync(join(FIXTURES, 'wan_vae_small', 'vae'), dir, { recursive: true });
    const f = join(dir, 'diffusion_pytorch_model.safetensors');
    await rewriteTensors(join(FIXTURES, 'wan_vae_small', 'vae', 'diffusion_pytorch_model.safetensors'), f, (m) => (m.get('decoder.conv_in.weight')!.f32![3] = Number.NaN));
    const err = await loadVae(dir, { gpu: gpu! }).catch((e) => e);
    expect(err).toBeInstanceOf(WeightError);
    expect(err.message).toBe(`${f}: weight decoder.conv_in.weight holds a non-finite value (NaN) at flat index 3`);
  });

  it('a bad text encoder config names text_encoder/config.json under the folder given', async () => {
    const dir = join(tempDir(), 'pipeline');
    cpSync(join(FIXTURES, 'umt5_small', 'pipeline'), dir, { recursive: true });
    const cfgFile = join(dir, 'text_encoder', 'config.json');
    writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(readFileSync(cfgFile, 'utf8')), d_kv: 6 }));
    const err = await loadTextEncoder({ tokenizer: nodeFolder(join(dir, 'tokenizer')), textEncoder: nodeFolder(join(dir, 'text_encoder')) }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(`${cfgFile}: d_kv 6 cannot run on the attention kernel (need a multiple of 4 from 8 to 128)`);
  });

  it.skipIf(!hasGpu)('a NaN in a text encoder weight names its model.safetensors', async () => {
    const dir = join(tempDir(), 'pipeline');
    cpSync(join(FIXTURES, 'umt5_small', 'pipeline'), dir, { recursive: true });
    const f = join(dir, 'text_encoder', 'model.safetensors');
    await rewriteTensors(join(FIXTURES, 'umt5_small', 'pipeline', 'text_encoder', 'model.safetensors'), f, (m) => (m.get('encoder.final_layer_norm.weight')!.f32![0] = Number.NaN));
    const err = await loadTextEncoder({ tokenizer: nodeFolder(join(dir, 'tokenizer')), textEncoder: nodeFolder(join(dir, 'text_encoder')) }, { gpu: gpu! }).catch((e) => e);
    expect(err).toBeInstanceOf(WeightError);
    expect(err.message).toBe(`${f}: text_encoder weight encoder.final_layer_norm.weight holds a non-finite value (NaN) at flat index 0`);
  });

  it('tessera forward on a model with a NaN weight: one line naming the file, exit 1', async () => {
    const dir = await modelWithWeights('wan_small', (m) => (m.get('blocks.0.attn1.norm_k.weight')!.f32![0] = Number.NaN));
    const out = join(tempDir(), 'out.safetensors');
    const r = await cli(['forward', '--model', dir, '--inputs', join(FIXTURES, 'wan_small', 'inputs.safetensors'), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.errLines).toEqual([`tessera: error: WeightError: ${dir}/diffusion_pytorch_model.safetensors: weight blocks.0.attn1.norm_k.weight holds a non-finite value (NaN) at flat index 0`]);
    expect(existsSync(out)).toBe(false);
  });
});

const load = async (name: string) => loadModel(join(FIXTURES, name, 'model'), { gpu: gpu! });
async function fixtureInputs(name: string): Promise<ForwardInputs> {
  const m = await readInputs(join(FIXTURES, name, 'inputs.safetensors'));
  const fi: ForwardInputs = { hidden_states: { data: m.get('hidden_states')!.f32!, shape: m.get('hidden_states')!.shape }, timestep: m.get('timestep')!.f32! };
  if (m.has('class_labels')) fi.class_labels = Array.from(m.get('class_labels')!.i64!, Number);
  else fi.encoder_hidden_states = { data: m.get('encoder_hidden_states')!.f32!, shape: m.get('encoder_hidden_states')!.shape };
  return fi;
}
async function inputError(model: DiffusionModel, fi: ForwardInputs): Promise<string> {
  const before = model.gpuBytes;
  const err = await model.forward(fi).catch((e) => e);
  expect(err).toBeInstanceOf(InputError);
  expect(model.gpuBytes).toBe(before); // refused before any allocation
  return (err as Error).message;
}

describe.skipIf(!hasGpu)('forward inputs: names, shapes, values (model.forward)', () => {
  it('Wan: shapes, patch divisibility, text width, timestep count, non-finite values', async () => {
    const model = await load('wan_small');
    try {
      const fi = await fixtureInputs('wan_small'); // hidden_states [1,4,2,6,8], text [1,6,24]
      const hs = fi.hidden_states;
      expect(await inputError(model, { ...fi, hidden_states: { data: hs.data, shape: [1, 4, 12, 8] } })).toBe('hidden_states: expected [B, C, F, H, W] (5 dims), found [1,4,12,8]');
      expect(await inputError(model, { ...fi, hidden_states: { data: hs.data, shape: [1, 8, 1, 6, 8] } })).toBe('hidden_states: expected 4 channels (config in_channels), found 8');
      expect(await inputError(model, { ...fi, hidden_states: { data: new Float32Array(4 * 2 * 7 * 8), shape: [1, 4, 2, 7, 8] } })).toBe(
        'hidden_states: frames×height×width 2×7×8 must be divisible by the patch size 1×2×2',
      );
      expect(await inputError(model, { ...fi, hidden_states: { data: hs.data.subarray(1), shape: hs.shape } })).toBe('hidden_states: 383 values for shape [1,4,2,6,8], which needs 384');
      const e = fi.encoder_hidden_states!;
      expect(await inputError(model, { ...fi, encoder_hidden_states: { data: e.data, shape: [1, 9, 16] } })).toBe(
        'encoder_hidden_states: expected [1, L, 24] (batch of hidden_states, config text_dim), found [1,9,16]',
      );
      expect(await inputError(model, { ...fi, encoder_hidden_states: undefined })).toBe('encoder_hidden_states: missing ([B, L, 24] text embeddings)');
      expect(await inputError(model, { ...fi, timestep: [1, 2] })).toBe('timestep: expected 1 value (one per batch item), found 2');
      expect(await inputError(model, { ...fi, timestep: [Number.NaN] })).toBe('timestep: value at index 0 is not finite (NaN)');
      const nan = Float32Array.from(hs.data);
      nan[100] = Number.NaN;
      expect(await inputError(model, { ...fi, hidden_states: { data: nan, shape: hs.shape } })).toBe('hidden_states: value at flat index 100 is not finite (NaN)');
      const inf = Float32Array.from(e.data);
      inf[5] = -Infinity;
      expect(await inputError(model, { ...fi, encoder_hidden_states: { data: inf, shape: e.shape } })).toBe('encoder_hidden_states: value at flat index 5 is not finite (-Infinity)');
    } finally {
      model.destroy();
    }
  });

  it('DiT: class labels out of range, missing, non-integer', async () => {
    const model = await load('dit_small'); // num_embeds_ada_norm 10
    try {
      const fi = await fixtureInputs('dit_small');
      const B = fi.hidden_states.shape[0]!;
      const labels = (v: number) => Array.from({ length: B }, (_, i) => (i === B - 1 ? v : 0));
      expect(await inputError(model, { ...fi, class_labels: labels(11) })).toBe(`class_labels: value 11 at index ${B - 1} is out of range: expected 0…10 (10 = the null class used for guidance)`);
      expect(await inputError(model, { ...fi, class_labels: labels(-1) })).toContain('value -1');
      expect(await inputError(model, { ...fi, class_labels: labels(2.5) })).toContain('value 2.5');
      expect(await inputError(model, { ...fi, class_labels: undefined })).toBe(`class_labels: expected ${B} class ids, found 0`);
      expect(await inputError(model, { ...fi, hidden_states: { data: fi.hidden_states.data, shape: [B, 4, 1, 8, 8] } })).toContain('expected [B, C, H, W] (4 dims)');
      // a DiT has no frames and one patch_size: the message says so in those terms
      expect(await inputError(model, { ...fi, hidden_states: { data: new Float32Array(B * 4 * 7 * 8), shape: [B, 4, 7, 8] } })).toBe('hidden_states: height×width 7×8 must be divisible by the patch size 2 (config patch_size)');
      // the null class itself is allowed
      await expect(model.forward({ ...fi, class_labels: labels(10) })).resolves.toBeDefined();
    } finally {
      model.destroy();
    }
  });
});

/** The CLI contract for a bad file: exit 1, exactly one line on stderr, no output (nor temp file) left. */
async function cliRefuses(args: (out: string) => string[], pattern: RegExp): Promise<string> {
  const dir = tempDir();
  const out = join(dir, 'out.safetensors');
  const r = await cli(args(out));
  expect(r.code, r.stderr).toBe(1);
  expect(r.errLines, r.stderr).toHaveLength(1);
  expect(r.errLines[0]).toMatch(/^tessera: error: [A-Za-z]+Error: /);
  expect(r.errLines[0]).toMatch(pattern);
  expect(existsSync(out)).toBe(false);
  expect(filesIn(dir)).toEqual([]);
  return r.errLines[0]!;
}

describe('CLI: bad config, weights and inputs files', () => {
  const fwd = (model: string, inputs: string) => (out: string) => ['forward', '--model', model, '--inputs', inputs, '--out', out];
  const wanIn = join(FIXTURES, 'wan_small', 'inputs.safetensors');

  it('unknown _class_name', async () => {
    const dir = modelWithConfig('wan_small', (c) => (c._class_name = 'UNet2DModel'));
    await cliRefuses(fwd(dir, wanIn), new RegExp(`ConfigError: ${dir}/config\\.json: _class_name "UNet2DModel" is not supported \\(expected`));
  });

  it('a missing weight names the folder and the key', async () => {
    const dir = await modelWithWeights('wan_small', (m) => m.delete('blocks.0.attn2.norm_k.weight'));
    await cliRefuses(fwd(dir, wanIn), new RegExp(`WeightError: ${dir}: .*missing keys: blocks\\.0\\.attn2\\.norm_k\\.weight`));
  });

  it.skipIf(!hasGpu)('an unexpected input tensor name names the file and the tensor', async () => {
    const inputs = await inputsWith('wan_small', (m) => {
      m.set('text', m.get('encoder_hidden_states')!);
      m.delete('encoder_hidden_states');
    });
    await cliRefuses(fwd(join(FIXTURES, 'wan_small', 'model'), inputs), new RegExp(`InputError: ${inputs}: unexpected tensor "text"; expected hidden_states, timestep, encoder_hidden_states`));
  });

  it.skipIf(!hasGpu)('an integer tensor where a float one is expected', async () => {
    // (an integer timestep is taken: diffusers' are often int64; latents must be floats)
    const inputs = await inputsWith('wan_small', (m) => m.set('hidden_states', { dtype: 'I64', shape: [1], i64: BigInt64Array.from([500n]) }));
    await cliRefuses(fwd(join(FIXTURES, 'wan_small', 'model'), inputs), /InputError: .*tensor "hidden_states" must be a float tensor \(F32\/F16\/BF16\/F64\), found I64/);
  });

  it.skipIf(!hasGpu)('a wrong input shape (text width) and an out-of-range class label', async () => {
    const inputs = await inputsWith('wan_small', (m) => {
      const t = m.get('encoder_hidden_states')!;
      m.set('encoder_hidden_states', { dtype: 'F32', shape: [1, t.shape[1]! * 2, 12], f32: t.f32 });
    });
    await cliRefuses(fwd(join(FIXTURES, 'wan_small', 'model'), inputs), /InputError: encoder_hidden_states: expected \[1, L, 24\] .* found \[1,12,12\]/);
    const labels = await inputsWith('dit_small', (m) => {
      const t = m.get('class_labels')!;
      m.set('class_labels', { ...t, i64: t.i64!.map(() => 99n) });
    });
    await cliRefuses(fwd(join(FIXTURES, 'dit_small', 'model'), labels), /InputError: class_labels: value 99 at index 0 is out of range: expected 0…10/);
  });
});
