// `tessera generate --inputs FILE` with the embedded pipeline and no --prompt: --help says the embedded
// pipeline's prompt defaults to "a red circle moving right" (and its steps to 20), but both defaults
// applied only without --inputs, so a file of latents alone was refused for a missing tensor
// "encoder_hidden_states". Now the default prompt gives the text when the file holds none, and the
// embedded pipeline runs 20 steps with or without --inputs; a file with encoder_hidden_states is used as before.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeOutputAtomic } from '../../src/io/node-write.js';
import { EMBEDDED_DEFAULTS } from '../../src/cli/embedded.js';
import { generateCommand } from '../../src/cli/cmd-generate.js';
import { helpText } from '../../src/cli/args.js';
import { tesseraCli } from '../helpers/cli.js';
import { hasGpu } from '../helpers/gpu.js';
import { tempDir } from '../hardening/helpers.js';

describe('embedded generate --inputs without --prompt', () => {
  it('--help says when the default prompt applies, and the embedded usage lists --inputs', () => {
    const help = helpText(generateCommand.spec);
    expect(help).toContain(`the embedded pipeline: default "${EMBEDDED_DEFAULTS.prompt}" (with --inputs, when the file holds no text: encoder_hidden_states or prompt_embeds)`);
    expect(help).toContain('tessera generate [--prompt P [--negative-prompt N] [--max-sequence-length L]] [--inputs IN.safetensors | --seed N [--frames F --height H --width W]] [--steps N]');
  });

  it.skipIf(!hasGpu)('latents only: the default prompt and 20 steps, the same bytes as --prompt "a red circle moving right" --steps 20', async () => {
    const d = tempDir();
    const lat = join(d, 'lat.safetensors');
    const shape = [1, 16, 3, 8, 8];
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i));
    await writeOutputAtomic(lat, [{ name: 'latents', shape, data }]);
    const a = await tesseraCli(['generate', '--inputs', lat, '--out', join(d, 'a.safetensors'), '-q'], { timeoutMs: 280_000 });
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toMatch(new RegExp(`^wrote ${join(d, 'a.safetensors')}: latents \\[1,16,3,8,8\\], video \\[1,9,32,32,3\\] \\(F32 in \\[0,1\\]\\) after 20 steps `));
    const b = await tesseraCli(['generate', '--inputs', lat, '--prompt', EMBEDDED_DEFAULTS.prompt, '--steps', '20', '--out', join(d, 'b.safetensors'), '-q'], { timeoutMs: 280_000 });
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(join(d, 'a.safetensors')).equals(readFileSync(join(d, 'b.safetensors')))).toBe(true);
  }, 600_000);
});
