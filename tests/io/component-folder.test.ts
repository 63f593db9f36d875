// One of a pipeline's component folders given where another kind is loaded gets one line naming what the folder is
// and what to give instead (user22 finding 10), as a pipeline root given as a component already did: a VAE or text
// encoder folder given to loadModel (--model, forward), a component folder given as a pipeline (loadPipeline,
// generate --pipeline, encode --pipeline). Refused before any GPU work or weight read.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { componentKind, parentFolder } from '../../src/io/component-kind.js';
import { loadModel } from '../../src/model/model.js';
import { ConfigError } from '../../src/model/config.js';
import { ModelFolderError } from '../../src/io/model-folder.js';
import { flagNames } from '../../src/cli/errors.js';
import { cli, tempDir } from '../hardening/helpers.js';
import { ROOT } from '../helpers/golden.js';

const SHAPES = join(ROOT, 'models', 'tessera-shapes');
const standIn = () => ({ f16: true, limits: {}, adapterInfo: { vendor: 'stand-in', architecture: '', device: '', description: '' }, destroy() {} }) as never;
const thrown = (p: Promise<unknown>) => p.then(() => new Error('resolved'), (e: unknown) => e as Error);

describe('componentKind', () => {
  it('places transformers, VAEs and text encoders by their config.json; anything else is undefined', () => {
    expect(componentKind({ _class_name: 'WanTransformer3DModel' })).toMatchObject({ sub: 'transformer', loader: 'loadModel' });
    expect(componentKind({ _class_name: 'AutoencoderKLWan' })).toMatchObject({ what: 'a VAE', sub: 'vae', loader: 'loadVae' });
    expect(componentKind({ _class_name: 'AutoencoderKL' })).toMatchObject({ sub: 'vae' });
    expect(componentKind({ architectures: ['UMT5EncoderModel'], model_type: 'umt5' })).toMatchObject({ sub: 'text_encoder', loader: 'loadTextEncoder', cls: 'UMT5EncoderModel' });
    for (const c of [{ _class_name: 'NopeModel' }, {}, null, [], 'x']) expect(componentKind(c)).toBeUndefined();
    expect([parentFolder('a/b/transformer'), parentFolder('transformer'), parentFolder('/vae'), parentFolder('http://h/m/vae')]).toEqual(['a/b', '.', '/', 'http://h/m']);
  });
});

describe('a component folder given for another kind', () => {
  it('loadModel(VAE folder): ConfigError naming it a VAE folder and loadVae; the CLI names --vae', async () => {
    const e = await thrown(loadModel(join(SHAPES, 'vae'), { gpu: standIn() }));
    expect(e).toBeInstanceOf(ConfigError);
    const line = `${join(SHAPES, 'vae', 'config.json')}: AutoencoderKLWan: a VAE folder's config.json, not a transformer's: load that folder with loadVae, and give loadModel the pipeline's transformer/ folder`;
    expect(e.message).toBe(line);
    expect(flagNames(line)).toBe(`${join(SHAPES, 'vae', 'config.json')}: AutoencoderKLWan: a VAE folder's config.json, not a transformer's: that folder goes to tessera decode as --vae DIR; give --model the pipeline's transformer/ folder`);
  });

  it('loadModel(text encoder folder): ModelFolderError naming it a text encoder folder and loadTextEncoder', async () => {
    const e = await thrown(loadModel(join(SHAPES, 'text_encoder'), { gpu: standIn() }));
    expect(e).toBeInstanceOf(ModelFolderError);
    expect(e.message).toBe(`${join(SHAPES, 'text_encoder', 'config.json')}: has no "_class_name": UMT5EncoderModel, a text encoder folder's config.json (the pipeline's text_encoder/), not a diffusers model's: load that folder with loadTextEncoder`);
  });

  it('encode --pipeline TRANSFORMER_FOLDER: one UsageError line naming the folder and the pipeline folder above it', async () => {
    const dir = join(SHAPES, 'transformer');
    const r = await cli(['encode', '--pipeline', dir, '--prompt', 'a red circle', '--out', join(tempDir(), 'o.safetensors')]);
    expect(r.errLines).toEqual([`tessera: error: UsageError: --pipeline ${dir}: ${dir} is a transformer folder (config.json: WanTransformer3DModel), a pipeline's transformer/ component; give the pipeline folder that holds it (tokenizer/ and text_encoder/), ${SHAPES}`]);
    expect(r.code).toBe(2);
  });
});
