// Mutation round 5 (session 18) on checkSamplingShapes (src/model/forward.ts, 5447903): generate()'s shape check,
// which tessera generate --model --inputs also runs on the inputs file's header. Called directly with the configs of
// the fixtures' models (no GPU): the checks the CLI tests did not reach each refuse in one line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, type ModelConfig } from '../../src/model/config.js';
import { checkSamplingShapes } from '../../src/model/forward.js';
import { InputError } from '../../src/model/input-error.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';

const config = (file: string, patch: Record<string, unknown> = {}): ModelConfig => parseConfig({ ...JSON.parse(readFileSync(file, 'utf8')), ...patch }, file);
const WAN = join(ROOT, 'models', 'tessera-shapes', 'transformer', 'config.json'); // in/out 16, text_dim 64
const DIT = join(FIXTURES, 'dit_small', 'model', 'config.json');

describe('checkSamplingShapes', () => {
  it('the negative text: its width must be the text\'s (any length)', () => {
    const c = config(WAN);
    const s = { latents: [2, 16, 1, 4, 4], text: [2, 6, 64] };
    expect(() => checkSamplingShapes(c, { ...s, negText: [2, 9, 64] })).not.toThrow();
    expect(() => checkSamplingShapes(c, { ...s, negText: [2, 6, 32] })).toThrow(
      new InputError("negative_encoder_hidden_states: expected [2, L', 64] (the batch and width of encoder_hidden_states [2,6,64]; any length L'), found [2,6,32]", { option: 'negative_encoder_hidden_states' }),
    );
  });

  it('text embeddings of another rank: refused, not read as [B, L, width]', () => {
    const c = config(WAN);
    expect(() => checkSamplingShapes(c, { latents: [2, 16, 1, 4, 4], text: [2, 6, 64, 1] })).toThrow(
      new InputError('encoder_hidden_states: expected [2, L, 64] (batch of latents [2,16,1,4,4], config text_dim), found [2,6,64,1]', { option: 'encoder_hidden_states' }),
    );
  });

  it('out_channels neither in_channels nor twice it: refused whatever the latents', () => {
    expect(() => checkSamplingShapes(config(WAN, { out_channels: 32 }), { latents: [1, 16, 1, 4, 4] })).not.toThrow();
    expect(() => checkSamplingShapes(config(WAN, { out_channels: 48 }), { latents: [1, 16, 1, 4, 4] })).toThrow(
      new InputError('model out_channels 48 must be in_channels 16 (a noise prediction) or 2×16 (learned sigma) to sample from it'),
    );
  });

  it('DiT: fewer class labels than the latents\' batch are refused, as more are', () => {
    const c = config(DIT);
    const C = c.inChannels;
    expect(() => checkSamplingShapes(c, { latents: [2, C, 4, 4], classLabels: 2 })).not.toThrow();
    for (const n of [1, 3]) {
      expect(() => checkSamplingShapes(c, { latents: [2, C, 4, 4], classLabels: n })).toThrow(new InputError(`class_labels: expected 2 class ids (batch of latents), found ${n}`, { option: 'class_labels' }));
    }
  });
});
