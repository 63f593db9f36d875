// generate --model DIR --inputs FILE: the inputs' shapes against DIR/config.json (in_channels, the text width, the text's
// batch against the latents', the negative text's batch and width, a DiT's class label count) are generate()'s checks
// (checkSamplingShapes, src/model/forward.ts), refused from the file's header before any weight is read: the folders
// hold config.json and no weights, so the refusal must come first where the old order gave the loader's
// ModelFolderError (the weights were loaded, then generate() refused). No GPU.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';
import { zeroInputsFile, type InputsTensor } from '../helpers/inputs-file.js';
import { shapesConfigsOnly } from '../helpers/config-folder.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-generate-model-shapes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// tessera-shapes' transformer config (Wan: in_channels 16, text_dim 64, patch 1×2×2), no weights
const wan = join(shapesConfigsOnly(tmp), 'transformer');
// dit_small's config (in_channels 4, patch 2, 10 classes), no weights
const dit = join(tmp, 'dit');
mkdirSync(dit);
copyFileSync(join(import.meta.dirname, '..', 'fixtures', 'dit_small', 'model', 'config.json'), join(dit, 'config.json'));

type T = InputsTensor;
const inputs = (name: string, tensors: Record<string, T>): string => zeroInputsFile(tmp, name, tensors);
const text = { shape: [1, 8, 64] };
const latents = { shape: [1, 16, 3, 4, 4] };
const run = (dir: string, file: string, ...flags: string[]) => tesseraCli(['generate', '--model', dir, '--inputs', file, '--steps', '2', '--out', join(tmp, 'o.safetensors'), ...flags]);

describe('generate --model --inputs: shapes against config.json, before the weights load', () => {
  it.each([
    ['latents of another in_channels', { encoder_hidden_states: text, latents: { shape: [1, 4, 3, 4, 4] } }, [], 'tensor "latents": expected 16 channels (transformer config in_channels), found 4 in [1,4,3,4,4]'],
    ['text of another width', { encoder_hidden_states: { shape: [1, 8, 32] }, latents }, [], 'tensor "encoder_hidden_states": expected [1, L, 64] (batch of "latents" [1,16,3,4,4], config text_dim), found [1,8,32]'],
    ['latents of another batch than the text', { encoder_hidden_states: text, latents: { shape: [2, 16, 3, 4, 4] } }, [], 'tensor "encoder_hidden_states": expected [2, L, 64] (batch of "latents" [2,16,3,4,4], config text_dim), found [1,8,64]'],
    ['a negative text of another batch (pipeline names)', { prompt_embeds: text, negative_prompt_embeds: { shape: [2, 5, 64] }, latents }, ['--guidance', '5'], 'tensor "negative_prompt_embeds": expected [1, L\', 64] (the batch and width of "prompt_embeds" [1,8,64]; any length L\'), found [2,5,64]'],
    ['seeded noise with text of another width', { encoder_hidden_states: { shape: [1, 8, 32] } }, ['--seed', '1', '--frames', '3', '--height', '4', '--width', '4'], 'tensor "encoder_hidden_states": expected [1, L, 64] (batch of "latents" [1,16,3,4,4], config text_dim), found [1,8,32]'],
  ] as [string, Record<string, T>, string[], string][])('%s: one line naming the file and the tensor', async (name, tensors, flags, rest) => {
    const file = inputs(name.replace(/\W+/g, '-'), tensors);
    const r = await run(wan, file, ...flags);
    expect(r.stderr).toBe(`tessera: error: InputError: ${file}: ${rest}\n`);
    expect(r.code).toBe(1);
  }, 60_000);

  it('DiT: class labels of another count than the latents\' batch', async () => {
    const file = inputs('dit-labels', { latents: { shape: [2, 4, 8, 8] }, class_labels: { shape: [3], dtype: 'I64' } });
    const r = await tesseraCli(['generate', '--model', dit, '--scheduler', 'ddim', '--inputs', file, '--steps', '2', '--out', join(tmp, 'o.safetensors')]);
    expect(r.stderr).toBe(`tessera: error: InputError: ${file}: tensor "class_labels": expected 2 class ids (batch of "latents"), found 3\n`);
  }, 60_000);

  it('shapes the config takes pass: the loader then names the missing weights', async () => {
    const r = await run(wan, inputs('ok', { encoder_hidden_states: text, negative_encoder_hidden_states: { shape: [1, 3, 64] }, latents }), '--guidance', '5');
    expect(r.stderr).toMatch(/^tessera: error: ModelFolderError: /);
  }, 60_000);
});
