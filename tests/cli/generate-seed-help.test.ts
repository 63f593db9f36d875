// `generate --seed` is tessera's own noise generator, not torch's: the help and the README say so, and how to
// reproduce a diffusers run (torch's initial latents as "latents" through --inputs; audit 13 U defect 7).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { helpText } from '../../src/cli/args.js';
import { generateCommand } from '../../src/cli/cmd-generate.js';
import { ROOT } from '../helpers/golden.js';

describe('reproducing a diffusers run', () => {
  it("generate --help: --seed is not torch's generator; torch's latents go in with --inputs", () => {
    expect(generateCommand.spec.flags['seed']!.help).toBe(
      `make the initial noise from this seed (instead of inputs latents; the embedded pipeline: default 0) with tessera's own generator, not torch's: the same seed does not give diffusers' noise; to reproduce a diffusers run, save the initial latents torch draws as "latents" (F32) and pass them with --inputs (README: Reproducing a diffusers run)`,
    );
    expect(helpText(generateCommand.spec)).toContain("with tessera's own generator, not torch's");
  });

  it('the README section the help names, with its worked example', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const at = readme.indexOf('Reproducing a diffusers run: `--seed N` makes the initial noise with tessera\'s own generator');
    expect(at).toBeGreaterThan(0);
    const section = readme.slice(at, readme.indexOf('`decode --vae DIR`', at));
    expect(section).toContain('save_file({"latents": torch.randn((1, 16, 3, 8, 8), generator=g, dtype=torch.float32)}, "latents.safetensors")');
    expect(section).toContain('npx --no-install tessera generate --pipeline models/tessera-shapes --prompt "a red circle moving left" --inputs latents.safetensors --steps 20 --out clip.safetensors');
  });
});
