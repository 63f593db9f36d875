// Mutation round 5 (session 18) on generate --model --inputs' early shape check (src/cli/cmd-generate.ts, 5447903): a
// refusal about the config itself (an out_channels the sampler cannot read) is the config's, not a tensor of the
// inputs file: it must not be reworded as 'FILE: tensor …'. The folders hold configs and no weights (shapesConfigsOnly). No GPU.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';
import { zeroInputsFile } from '../helpers/inputs-file.js';
import { shapesConfigsOnly } from '../helpers/config-folder.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-generate-model-shapes5-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('generate --model --inputs: a config the sampler cannot use', () => {
  it('out_channels neither in_channels nor twice it: the config\'s line, not the inputs file\'s', async () => {
    const dir = join(shapesConfigsOnly(tmp), 'transformer');
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, out_channels: 48 }));
    const file = zeroInputsFile(tmp, 'ok', { encoder_hidden_states: { shape: [1, 8, 64] }, latents: { shape: [1, 16, 3, 4, 4] } });
    const r = await tesseraCli(['generate', '--model', dir, '--inputs', file, '--steps', '2', '--out', join(tmp, 'o.safetensors')]);
    expect(r.stderr).toBe('tessera: error: InputError: model out_channels 48 must be in_channels 16 (a noise prediction) or 2×16 (learned sigma) to sample from it\n');
    expect(r.code).toBe(1);
  }, 60_000);
});
