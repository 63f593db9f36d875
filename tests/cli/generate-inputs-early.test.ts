// generate --inputs FILE: what the run refused after loading the pipeline (or the model) is refused from the file's
// header and the folder's configs before anything loads, in the same lines: tensor names missing or unexpected,
// dtypes, --prompt beside text embeddings (generateConditioning's checks, now checkConditioningHeader), and with
// --pipeline the text embeddings' width and batch and the latents' batch (Pipeline.generate's checks). The folders hold
// configs and no weights: each refusal must come first, where the old order left the loader's ModelFolderError. No GPU.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tesseraCli, tesseraInProcess } from '../helpers/cli.js';
import { zeroInputsFile, type InputsTensor } from '../helpers/inputs-file.js';
import { shapesConfigsOnly } from '../helpers/config-folder.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-generate-inputs-early-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// tessera-shapes' configs (WanPipeline, guidance 5 by default; WanTransformer3DModel: in_channels 16, text_dim 64, patch 1×2×2), no weights
const pipe = shapesConfigsOnly(tmp);

type T = InputsTensor;
const inputs = (name: string, tensors: Record<string, T>): string => zeroInputsFile(tmp, name, tensors);
const text = { shape: [1, 8, 64] };
const latents = { shape: [1, 16, 3, 4, 4] };
const EXPECTED = 'expected latents, encoder_hidden_states, negative_encoder_hidden_states, prompt_embeds, negative_prompt_embeds';

// through the CLI's entry in this process (tesseraInProcess: main(), whose return the launcher exits with): each run is
// refused before any weight is read, where a spawn only added two Node starts and a module load; one case is also spawned
const args = (file: string, flags: string[]) => ['generate', ...flags, '--inputs', file, '--steps', '2', '--out', join(tmp, 'o.safetensors')];
const run = (file: string, ...flags: string[]) => tesseraInProcess(args(file, flags));

describe('generate --pipeline --inputs: refused from the header before the pipeline loads', () => {
  it.each([
    ['no negative text for the default guidance', { prompt_embeds: text, latents }, ': missing tensor "negative_prompt_embeds" (' + EXPECTED + ')'],
    ['no latents and no --seed', { prompt_embeds: text, negative_prompt_embeds: text }, ': missing tensor "latents" (' + EXPECTED + ')'],
    ['an unexpected tensor', { prompt_embeds: text, negative_prompt_embeds: text, latents, foo: { shape: [1] } }, ': unexpected tensor "foo"; ' + EXPECTED],
    ['integer latents', { prompt_embeds: text, negative_prompt_embeds: text, latents: { ...latents, dtype: 'I64' } }, ': tensor "latents" must be a float tensor (F32/F16/BF16/F64), found I64'],
    ['text of another width', { prompt_embeds: { shape: [1, 8, 32] }, negative_prompt_embeds: { shape: [1, 8, 32] }, latents }, ': tensor "prompt_embeds": expected [B, L, 64] (B prompts, L tokens, the transformer\'s text_dim 64), found [1,8,32]'],
    ['a negative text of another batch', { prompt_embeds: text, negative_prompt_embeds: { shape: [2, 8, 64] }, latents }, ': tensor "negative_prompt_embeds": expected [1, L\', 64] (the batch and width of "prompt_embeds" [1,8,64]; any length L\'), found [2,8,64]'],
    ['latents of another batch than the text', { prompt_embeds: text, negative_prompt_embeds: text, latents: { shape: [2, 16, 3, 4, 4] } }, ': tensor "latents": a batch of 2 in [2,16,3,4,4] for 1 "prompt_embeds" item'],
  ] as [string, Record<string, T>, string][])('%s: one line naming the file and the tensor', async (name, tensors, rest) => {
    const file = inputs(name.replace(/\W+/g, '-'), tensors);
    const r = await run(file, '--pipeline', pipe);
    expect(r.stderr).toBe(`tessera: error: InputError: ${file}${rest}\n`);
    expect(r.code).toBe(1);
  }, 60_000);

  it('spawned: a refusal exits 1 with its one line on stderr, nothing on stdout', async () => {
    const file = inputs('spawned', { prompt_embeds: text, latents });
    const r = await tesseraCli(args(file, ['--pipeline', pipe]));
    expect(r.stderr).toBe(`tessera: error: InputError: ${file}: missing tensor "negative_prompt_embeds" (${EXPECTED})\n`);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(1);
  }, 60_000);

  it('--prompt beside text embeddings in the file: the flag\'s line (exit 2)', async () => {
    const file = inputs('prompt-and-text', { prompt_embeds: text, negative_prompt_embeds: text, latents });
    const r = await run(file, '--pipeline', pipe, '--prompt', 'a red circle');
    expect(r.stderr).toBe(`tessera: error: UsageError: --prompt and the tensor "prompt_embeds" in ${file} both give the text: drop --prompt to use the file's embeddings, or remove "prompt_embeds" from the file\n`);
    expect(r.code).toBe(2);
  }, 60_000);

  it('a file the pipeline takes passes: the loader then names the missing weights', async () => {
    const r = await run(inputs('ok', { prompt_embeds: text, negative_prompt_embeds: text, latents }), '--pipeline', pipe);
    expect(r.stderr).toMatch(/^tessera: error: ModelFolderError: .*transformer\/diffusion_pytorch_model\.safetensors: neither/);
  }, 60_000);
});

describe('generate --model --inputs: refused from the header before the model loads', () => {
  it('no negative text with --guidance 5, and an unexpected tensor', async () => {
    const a = inputs('model-no-neg', { encoder_hidden_states: text, latents });
    const r = await run(a, '--model', join(pipe, 'transformer'), '--guidance', '5');
    expect(r.stderr).toBe(`tessera: error: InputError: ${a}: missing tensor "negative_encoder_hidden_states" (${EXPECTED})\n`);
    const b = inputs('model-foo', { encoder_hidden_states: text, latents, foo: { shape: [1] } });
    const s = await run(b, '--model', join(pipe, 'transformer'));
    expect(s.stderr).toBe(`tessera: error: InputError: ${b}: unexpected tensor "foo"; ${EXPECTED}\n`);
    // without guidance the same file without "foo" reaches the loader
    const ok = await run(inputs('model-ok', { encoder_hidden_states: text, latents }), '--model', join(pipe, 'transformer'));
    expect(ok.stderr).toMatch(/^tessera: error: ModelFolderError: /);
  }, 60_000);

  it('a seeded size the patch cannot split: the flag named, exit 2 (generate() named its hidden_states after loading)', async () => {
    const file = inputs('model-seeded', { encoder_hidden_states: text });
    const r = await run(file, '--model', join(pipe, 'transformer'), '--seed', '1', '--height', '7', '--width', '8', '--frames', '3');
    expect(r.stderr).toBe(`tessera: error: UsageError: tessera generate: latent 3×7×8 must be divisible by the patch size 1×2×2 of --model ${join(pipe, 'transformer')}: --height 7 is not a multiple of 2\n`);
    expect(r.code).toBe(2);
  }, 60_000);
});
