// Audit H's damaged inputs (items 4-7, 9-11): each is one line naming the file or key and what was
// expected, in the right error kind. Control characters from a prompt or a binary file are escaped
// (a terminal would act on them); null config values are values (diffusers passes None); booleans
// must be booleans; non-finite numbers are shown as found; tokenizer.json's model must be Unigram;
// a model_index.json entry must be [library, class] or [null, null]; the text encoder's embedding
// rows must equal vocab_size.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { notValidJson, parsePythonJson, shownValue, visibleText } from '../../src/io/json.js';
import { ModelFolderError, openModelFolder } from '../../src/io/model-folder.js';
import { mapFolder } from '../../src/io/source.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { ConfigError, parseConfig } from '../../src/model/config.js';
import { vocabularyNote } from '../../src/pipeline/embedded.js';
import { parseModelIndex, PipelineError } from '../../src/pipeline/pipeline.js';
import { loadTokenizer, TokenizerError } from '../../src/text/tokenizer.js';
import { loadTextEncoder } from '../../src/text/prompt-encoder.js';
import { WeightError } from '../../src/model/weights.js';
import { ROOT } from '../helpers/golden.js';
import { thrown } from '../helpers/errors.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const SHAPES = join(ROOT, 'models', 'tessera-shapes');
const bytes = (s: string) => new TextEncoder().encode(s);
const refusal = <T>(p: Promise<T>): Promise<Error> => p.then(() => new Error('accepted'), (e: Error) => e);

describe('control characters are escaped where user text is echoed (item 4)', () => {
  it('visibleText / shownValue / notValidJson', () => {
    expect(visibleText('a\u001b[31mb\u0007c\u0000\u007f\u009b\u202e ok é')).toBe('a\\u001b[31mb\\u0007c\\u0000\\u007f\\u009b\\u202e ok é');
    expect(shownValue([1, NaN, Infinity, -Infinity, null, 'x\u0001'])).toBe('[1,NaN,Infinity,-Infinity,null,"x\\u0001"]');
    expect(shownValue('y'.repeat(100), 10)).toBe(`"${'y'.repeat(9)}…`);
    const e = thrown(() => JSON.parse('\u0000\u0001\u0002'), SyntaxError);
    expect(notValidJson(e)).toBe('not valid JSON (Unexpected token \'\\u0000\', "\\u0000\\u0001\\u0002" is not valid JSON)');
  });

  it('the vocabulary note escapes prompt words and calls a control character one, not punctuation', () => {
    const v = 'colours red, green, blue, yellow, white, magenta, cyan; shapes circle, square, triangle; directions left, right, up, down';
    const head = `note: the embedded model (tessera-shapes) was trained only on prompts "a {colour} {shape} moving {direction}", lower-case without punctuation — ${v}`;
    const ctl = '(its tokenizer keeps capitals, punctuation and control characters, so as written they are tokens it never saw)';
    const note = vocabularyNote('a red \u001b[2J\u001b[31mcircle moving right\u0007')!;
    expect(note).toBe(`${head}; it does not know: \\u001b[2J\\u001b[31mcircle; it knows "right\\u0007" only in lower case without punctuation or control characters ${ctl}. It still runs.`);
    expect(note).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    // DEL and C1 (JSON.stringify leaves them raw) are escaped too; the trained prompt is offered
    expect(vocabularyNote('a red circle moving right\u007f\u009b')).toBe(`${head}; it knows "right\\u007f\\u009b" only in lower case without punctuation or control characters ${ctl}: give "a red circle moving right". It still runs.`);
  });

  it('a binary config.json or weight index: ModelFolderError, the excerpt escaped', async () => {
    const e = await refusal(openModelFolder(mapFolder('m', new Map([['config.json', new Uint8Array([0, 1, 2])]]))));
    expect(e).toBeInstanceOf(ModelFolderError);
    expect(e.message).toBe('m/config.json: not valid JSON (Unexpected token \'\\u0000\', "\\u0000\\u0001\\u0002" is not valid JSON)');
    const files = new Map([
      ['config.json', bytes('{"_class_name": "WanTransformer3DModel"}')],
      ['diffusion_pytorch_model.safetensors.index.json', new Uint8Array([0x1b, 0x5b, 0x32, 0x4a])],
    ]);
    const i = await refusal(openModelFolder(mapFolder('m', files)));
    expect(i).toBeInstanceOf(ModelFolderError);
    expect(i.message).toBe('m/diffusion_pytorch_model.safetensors.index.json: not valid JSON (Unexpected token \'\\u001b\', "\\u001b[2J" is not valid JSON)');
  });
});

describe("model_index.json's component entries (item 10)", () => {
  const F = 'p/model_index.json';
  const index = (entries: string) => `{"_class_name": "WanPipeline", "transformer": ["diffusers", "WanTransformer3DModel"], ${entries}}`;
  const pipelineError = (text: string) => thrown(() => parseModelIndex(text, F), PipelineError).message;

  it('a component name with a value that is not [library, class] or [null, null] is refused, naming the key', () => {
    expect(pipelineError(index('"vae": "AutoencoderKLWan"'))).toBe(`${F}: "vae" must be [library, class] (or [null, null]), found "AutoencoderKLWan"`);
    expect(pipelineError(index('"vae": null'))).toBe(`${F}: "vae" must be [library, class] (or [null, null]), found null`);
    expect(pipelineError(index('"scheduler": {"x": 1}'))).toBe(`${F}: "scheduler" must be [library, class] (or [null, null]), found {"x":1}`);
    expect(pipelineError(index('"text_encoder": ["transformers"]'))).toBe(`${F}: "text_encoder" must be [library, class] (or [null, null]), found ["transformers"]`);
    expect(pipelineError(index('"tokenizer": ["transformers", 5]'))).toBe(`${F}: "tokenizer" must be [library, class] strings (or [null, null]), found ["transformers",5]`);
    // a binary model_index.json: the excerpt escaped
    expect(pipelineError('\u0000\u0007')).toBe(`${F}: not valid JSON (Unexpected token '\\u0000', "\\u0000\\u0007" is not valid JSON)`);
  });

  it('components saved as None and pipeline config of other types are kept', () => {
    const m = parseModelIndex(index('"vae": [null, null], "id2label": {"0": "tench"}, "boundary_ratio": null, "expand_timesteps": false'), F);
    expect([...m.components.keys()]).toEqual(['transformer', 'vae']);
    expect(m.components.get('vae')).toBeNull();
    expect(m.config).toEqual({ _class_name: 'WanPipeline', id2label: { 0: 'tench' }, boundary_ratio: null, expand_timesteps: false });
  });
});

describe('transformer config.json values (items 5-7)', () => {
  const wanText = readFileSync(join(SHAPES, 'transformer', 'config.json'), 'utf8');
  const wan = () => JSON.parse(wanText) as Record<string, unknown>;
  const FILE = 'm/config.json';
  const configError = (c: Record<string, unknown>): string => {
    return thrown(() => parseConfig(c, FILE), ConfigError).message;
  };

  it('non-finite numbers are reported as found (Python json writes NaN; 1e999 reads as Infinity)', () => {
    const nan = parsePythonJson(wanText.replace('1e-06', 'NaN')) as Record<string, unknown>;
    expect(configError(nan)).toBe(`${FILE}: "eps" must be a positive number, found NaN`);
    const inf = parsePythonJson(wanText.replace('1e-06', '1e999')) as Record<string, unknown>;
    expect(configError(inf)).toBe(`${FILE}: "eps" must be a positive number, found Infinity`);
    expect(configError({ ...wan(), num_attention_heads: -Infinity })).toBe(`${FILE}: "num_attention_heads" must be an integer ≥ 1, found -Infinity`);
    expect(configError({ ...wan(), patch_size: [1, NaN, 2] })).toBe(`${FILE}: "patch_size" must be 3 positive integers [pt, ph, pw], found [1,NaN,2]`);
  });

  it('null is a value, not an absent key: refused unless diffusers takes None there', () => {
    expect(configError({ ...wan(), eps: null })).toBe(`${FILE}: "eps" must be a positive number, found null`);
    expect(configError({ ...wan(), num_attention_heads: null })).toBe(`${FILE}: "num_attention_heads" must be an integer ≥ 1, found null`);
    expect(configError({ ...wan(), rope_max_seq_len: null })).toBe(`${FILE}: "rope_max_seq_len" must be an integer ≥ 1, found null`);
    expect(configError({ ...wan(), patch_size: null })).toBe(`${FILE}: "patch_size" must be 3 positive integers [pt, ph, pw], found null`);
    // qk_norm is Optional in diffusers, but None (no q/k norm) is not what tessera runs
    expect(configError({ ...wan(), qk_norm: null })).toBe(`${FILE}: "qk_norm" = null is not supported (expected "rms_norm_across_heads")`);
    // Optional in diffusers: null accepted; Wan's out_channels None is in_channels (out_channels or in_channels)
    const ok = parseConfig({ ...wan(), added_kv_proj_dim: null, image_dim: null, pos_embed_seq_len: null, in_channels: 8, out_channels: null }, FILE);
    expect(ok.family === 'wan' && [ok.inChannels, ok.outChannels]).toEqual([8, 8]);
    const dit = { _class_name: 'DiTTransformer2DModel', num_attention_heads: 2, attention_head_dim: 16, in_channels: 4, num_layers: 1, sample_size: 8 };
    expect(parseConfig({ ...dit, out_channels: null, cross_attention_dim: null }, FILE).outChannels).toBe(4);
    expect(configError({ ...dit, norm_eps: null })).toBe(`${FILE}: "norm_eps" must be a positive number, found null`);
    expect(configError({ ...dit, upcast_attention: null })).toBe(`${FILE}: "upcast_attention" must be true or false, found null`);
  });

  it('booleans must be true or false (a string "true" was read as false)', () => {
    expect(configError({ ...wan(), cross_attn_norm: 'true' })).toBe(`${FILE}: "cross_attn_norm" must be true or false, found "true"`);
    expect(configError({ ...wan(), cross_attn_norm: 1 })).toBe(`${FILE}: "cross_attn_norm" must be true or false, found 1`);
    expect(configError({ ...wan(), cross_attn_norm: null })).toBe(`${FILE}: "cross_attn_norm" must be true or false, found null`);
    const ok = parseConfig({ ...wan(), cross_attn_norm: false }, FILE);
    expect(ok.family === 'wan' && ok.crossAttnNorm).toBe(false);
    const dit = { _class_name: 'DiTTransformer2DModel', num_attention_heads: 2, attention_head_dim: 16, in_channels: 4, num_layers: 1, sample_size: 8 };
    expect(configError({ ...dit, norm_elementwise_affine: 'false' })).toBe(`${FILE}: "norm_elementwise_affine" must be true or false, found "false"`);
    expect(configError({ ...dit, norm_elementwise_affine: true })).toBe(`${FILE}: "norm_elementwise_affine" = true is not supported (expected false)`);
  });
});

describe('tokenizer.json must hold a Unigram model (item 9)', () => {
  const tokText = readFileSync(join(SHAPES, 'tokenizer', 'tokenizer.json'), 'utf8');
  const cfgText = readFileSync(join(SHAPES, 'tokenizer', 'tokenizer_config.json'), 'utf8');
  const folder = (edit: (t: Record<string, any>) => void) => {
    const t = JSON.parse(tokText);
    edit(t);
    return mapFolder('p/tokenizer', new Map([['tokenizer.json', bytes(JSON.stringify(t))], ['tokenizer_config.json', bytes(cfgText)]]));
  };
  const W = 'p/tokenizer/tokenizer.json';
  const tokenizerError = async (edit: (t: Record<string, any>) => void): Promise<string> => {
    const e = await refusal(loadTokenizer(folder(edit)));
    expect(e, e.message).toBeInstanceOf(TokenizerError);
    return e.message;
  };

  it('the kind, the vocabulary and each entry are checked, named by key and index', async () => {
    expect(await tokenizerError((t) => (t.model.type = 'BPE'))).toBe(`${W}: model.type "BPE" is not supported (expected "Unigram", as T5/UMT5 tokenizers have)`);
    expect(await tokenizerError((t) => delete t.model)).toBe(`${W}: "model" must be an object (a Unigram model, as T5/UMT5 tokenizers have), found undefined`);
    expect(await tokenizerError((t) => (t.model.vocab = []))).toBe(`${W}: model.vocab is empty (expected [piece, score] pairs, one per token)`);
    expect(await tokenizerError((t) => (t.model.vocab = 'x'))).toBe(`${W}: model.vocab must be an array of [piece, score] pairs, found "x"`);
    expect(await tokenizerError((t) => (t.model.vocab[7] = ['x', 'notanumber']))).toBe(`${W}: model.vocab[7] must be a [piece, score] pair (a string and a finite number), found ["x","notanumber"]`);
    expect(await tokenizerError((t) => (t.model.vocab[3] = [5, -1]))).toBe(`${W}: model.vocab[3] must be a [piece, score] pair (a string and a finite number), found [5,-1]`);
    expect(await tokenizerError((t) => (t.model.vocab[4] = ['\u001b']))).toBe(`${W}: model.vocab[4] must be a [piece, score] pair (a string and a finite number), found ["\\u001b"]`);
    // a binary tokenizer.json: the excerpt escaped
    const bin = await refusal(loadTokenizer(mapFolder('p/tokenizer', new Map([['tokenizer.json', new Uint8Array([0, 7])]]))));
    expect(bin).toBeInstanceOf(TokenizerError);
    expect(bin.message).toBe(`${W}: not valid JSON (Unexpected token '\\u0000', "\\u0000\\u0007" is not valid JSON)`);
    const arr = await refusal(loadTokenizer(mapFolder('p/tokenizer', new Map([['tokenizer.json', bytes('[1]')]]))));
    expect(arr.message).toBe(`${W}: must be a JSON object, found [1]`);
    // the real one still loads
    expect((await loadTokenizer(nodeFolder(join(SHAPES, 'tokenizer')))).padId).toBe(0);
  });
});

describe.skipIf(!hasGpu)('text encoder: shared.weight rows must equal vocab_size (item 11)', () => {
  const te = (vocab: number) => {
    const cfg = JSON.parse(readFileSync(join(SHAPES, 'text_encoder', 'config.json'), 'utf8'));
    cfg.vocab_size = vocab;
    return mapFolder('p/text_encoder', new Map([['config.json', bytes(JSON.stringify(cfg))], ['model.safetensors', new Uint8Array(readFileSync(join(SHAPES, 'text_encoder', 'model.safetensors')))]]));
  };
  for (const vocab of [10, 200]) {
    it(`vocab_size ${vocab} against [95,64]: WeightError naming the file, the tensor and both numbers`, async () => {
      const e = await refusal(loadTextEncoder({ tokenizer: nodeFolder(join(SHAPES, 'tokenizer')), textEncoder: te(vocab) }, { gpu: gpu! }));
      expect(e).toBeInstanceOf(WeightError);
      expect(e.message).toBe(`p/text_encoder: the weights do not match config.json: shared.weight (p/text_encoder/model.safetensors) has 95 rows but config.json's vocab_size is ${vocab}: expected [${vocab},64] (vocab_size, d_model), found [95,64]`);
    });
  }
});
