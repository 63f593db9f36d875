// `tessera demo --pipeline DIR` with a folder demo cannot run (a DiT pipeline, a Wan pipeline saved
// without its text encoder, a transformer folder, a folder with no model_index.json): one UsageError
// line in demo's terms (what demo needs, which command takes the folder), exit 2, before the GPU is
// acquired (no header, no device line) and before --out is made.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, FIXTURES, tempDir } from '../hardening/helpers.js';

const DIT = 'tests/fixtures/dit_pipeline/pipeline';
const EMBEDS = 'tests/fixtures/wan_pipeline_embeds/pipeline';

describe('demo --pipeline: folders demo cannot run', () => {
  it.each([
    [DIT, `--pipeline ${DIT}: a DiTPipeline (class-conditional images, no text encoder); demo makes a clip from a prompt with a text-to-video pipeline whose text encoder tessera runs (WanPipeline); for DiT use tessera generate --pipeline ${DIT} --seed N --class-label N`],
    [EMBEDS, `--pipeline ${EMBEDS}: a WanPipeline without a text encoder (model_index.json has no text_encoder/tokenizer); demo encodes its --prompt, so it needs one; with prompt embeddings use tessera generate --pipeline ${EMBEDS} --inputs FILE (encoder_hidden_states or prompt_embeds)`],
    ['models/tessera-shapes/transformer', '--pipeline models/tessera-shapes/transformer: a single model folder (config.json, no model_index.json); demo runs a whole pipeline folder (model_index.json, text_encoder/, transformer/, vae/): give --pipeline models/tessera-shapes'],
    ['tests/fixtures/dit_small/model', '--pipeline tests/fixtures/dit_small/model: a single model folder (config.json, no model_index.json); demo runs a whole pipeline folder (model_index.json, text_encoder/, transformer/, vae/); for one transformer use tessera generate --model DIR or tessera bench model --model DIR'],
    ['tests/fixtures/wan_small', '--pipeline tests/fixtures/wan_small: no model_index.json, so not a diffusers pipeline folder; demo runs one with a text encoder (WanPipeline)'],
  ])('%s', async (dir, msg) => {
    const out = join(tempDir(), 'demo-out');
    const r = await cli(['demo', '--pipeline', dir, '--out', out]);
    expect(r.stdout).toBe('');
    expect(r.errLines).toEqual([`tessera: error: UsageError: ${msg}`]);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('the fixtures are what the cases say', () => {
    expect(existsSync(join(FIXTURES, 'wan_small', 'model_index.json'))).toBe(false);
  });
});
