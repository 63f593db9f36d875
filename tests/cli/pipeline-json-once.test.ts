// A pipeline command reads the folder's JSON files once: generate --pipeline's and demo's checks before loading
// (--steps against the scheduler, --prompt against the text encoder, the sizes from the transformer's and the VAE's
// configs) and the loader each read model_index.json, transformer/config.json, vae/config.json and
// scheduler/scheduler_config.json again (5, 3-4, 2 and 2 reads); now the checks read each once and the loader is
// served the same text (pipelineFolder). The folder holds configs and no weights, so the loader reads them all and
// stops at the missing weights. Counted by a preload (tests/helpers/reads-of.mjs). No GPU.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { readsOfEnv, tesseraCli } from '../helpers/cli.js';
import { shapesConfigsOnly } from '../helpers/config-folder.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-json-once-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// tessera-shapes' configs (WanPipeline, guidance 5 by default; WanTransformer3DModel: in_channels 16, text_dim 64, patch 1×2×2), no weights
const pipe = shapesConfigsOnly(tmp);

const inputs = join(tmp, 'in.safetensors');
const t = (name: string, shape: number[]) => ({ name, dtype: 'F32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
writeFileSync(inputs, writeSafetensors([t('prompt_embeds', [1, 8, 64]), t('negative_prompt_embeds', [1, 8, 64]), t('latents', [1, 16, 3, 4, 4])]));

const FILES = ['model_index.json', 'transformer/config.json', 'vae/config.json', 'scheduler/scheduler_config.json'];
const commands: [string, string[]][] = [
  ['generate --pipeline --inputs', ['generate', '--pipeline', pipe, '--inputs', inputs, '--steps', '2', '--out', join(tmp, 'o.safetensors')]],
  ['demo --pipeline', ['demo', '--pipeline', pipe, '--steps', '2', '--out', join(tmp, 'demo')]],
];

describe('a pipeline command reads each of the folder\'s JSON files once', () => {
  it.each(commands)('%s', async (_, args) => {
    const count = readsOfEnv(mkdtempSync(join(tmp, 'reads-')), FILES.map((f) => `${pipe}/${f}`));
    const r = await tesseraCli(args, { env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...count.env } });
    // the loader got as far as the weights: every config was read, and checked
    expect(r.stderr).toMatch(/ModelFolderError: .*transformer\/diffusion_pytorch_model\.safetensors: neither/);
    expect(count.reads()).toEqual(Object.fromEntries(FILES.map((f) => [`${pipe}/${f}`, 1])));
  }, 60_000);
});
