// generate --model/--pipeline --inputs FILE whose file holds negative text embeddings, at a guidance that turns
// classifier-free guidance off (--guidance 1, the default with --model): the run does not read them, and one note
// says so before the load, in the flags' words (user22 finding 5: they were dropped silently).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { negativeInputNote } from '../../src/cli/model-inputs.js';
import type { Parsed } from '../../src/cli/args.js';
import { cli, tempDir } from '../hardening/helpers.js';
import { FIXTURES } from '../helpers/golden.js';
import { hasGpu } from '../helpers/gpu.js';

const header = (...names: string[]) => new Map(names.map((n) => [n, {}]));

describe('negativeInputNote', () => {
  it('names the file, the tensor, the guidance and the flag that uses it', () => {
    const p = { inputs: 'enc.safetensors' } as unknown as Parsed;
    expect(negativeInputNote(p, header('prompt_embeds', 'negative_prompt_embeds'), false, '--guidance is 1 (the default with --model)')).toBe(
      'note: enc.safetensors: negative_prompt_embeds unused: --guidance is 1 (the default with --model), so classifier-free guidance is off; give --guidance G > 1 to use it',
    );
    expect(negativeInputNote(p, header('encoder_hidden_states', 'negative_encoder_hidden_states'), false, '--guidance 0.5')).toBe(
      'note: enc.safetensors: negative_encoder_hidden_states unused: --guidance 0.5, so classifier-free guidance is off; give --guidance G > 1 to use it',
    );
  });
  it('nothing when guided, without a negative tensor, or without --inputs', () => {
    const p = { inputs: 'enc.safetensors' } as unknown as Parsed;
    expect(negativeInputNote(p, header('prompt_embeds', 'negative_prompt_embeds'), true, '--guidance 5')).toBeUndefined();
    expect(negativeInputNote(p, header('prompt_embeds'), false, '--guidance 1')).toBeUndefined();
    expect(negativeInputNote({} as Parsed, header(), false, '--guidance 1')).toBeUndefined();
  });
});

describe.skipIf(!hasGpu)('generate --model --inputs with negative text at the default guidance', () => {
  it('prints the note once, then runs unguided', async () => {
    const c = join(FIXTURES, 'wan_sampler_small');
    const inputs = join(c, 'inputs.safetensors');
    const out = join(tempDir(), 'o.safetensors');
    const r = await cli(['generate', '--model', join(c, 'model'), '--inputs', inputs, '--out', out, '--steps', '1', '--scheduler', 'flow-match-euler', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.errLines[0]).toBe(`note: ${inputs}: negative_encoder_hidden_states unused: --guidance is 1 (the default with --model), so classifier-free guidance is off; give --guidance G > 1 to use it`);
    expect(r.errLines.slice(1).map((l) => l.split(':')[0])).toEqual([`wrote ${out}`]);
  });
});
