// The commands that read a diffusers folder's weights take the same flags for them: --variant (the weight files
// X.NAME.safetensors) and --max-memory (the GPU budget), and their usage lines show --variant NAME in each form
// that reads a folder (decode's showed none, generate's --pipeline line none and its --model line 'V').
// bench model and bench vae (folders of their own, --model/--vae DIR) take both too (bench vae took neither).
// --seed is the noise generator's 32 bits wherever it is taken, refused in one wording: bench model and bench vae
// took any integer (−1 aliasing 4294967295), demo said it its own way.
import { describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';
import { loadCommands } from '../../src/cli/main.js';
import { benchCommand } from '../../src/cli/cmd-bench.js';
import { parseArgs } from '../../src/cli/args.js';

// every command's module (tessera's own run imports only the one it runs: main.ts)
const commands = await loadCommands();

const FOLDER_COMMANDS = ['forward', 'generate', 'encode', 'decode', 'demo', 'bench'];

describe('weight-folder flags across sibling commands', () => {
  it.each(FOLDER_COMMANDS)('%s takes --variant and --max-memory and its usage shows --variant NAME', (name) => {
    const spec = commands.find((c) => c.spec.name === name)!.spec;
    expect(Object.keys(spec.flags)).toEqual(expect.arrayContaining(['variant', 'max-memory']));
    expect(spec.usage).toContain('--variant NAME');
    expect(spec.usage).not.toMatch(/--variant (?!NAME)/);
    // every usage form naming a folder flag (--model, --pipeline, --vae DIR) shows it
    for (const form of spec.usage!.split('\n')) if (/--(model|pipeline|vae) DIR\b/.test(form)) expect(form, form).toContain('--variant NAME');
  });

  it('bench model and bench vae --help both list them', () => {
    for (const sub of ['model', 'vae']) {
      const help = benchCommand.help!(parseArgs(benchCommand.spec, [sub, '--help']));
      const flags = help.split('\n').filter((l) => l.startsWith('  --')).map((l) => l.trim().split(' ')[0]);
      expect(flags, sub).toEqual(expect.arrayContaining(['--variant', '--max-memory']));
    }
  });
});

describe('--seed across generate, demo and bench', () => {
  it.each([
    [['generate', '--out', '/nonexistent/o.safetensors'], '-1'],
    [['demo', '--out', '/nonexistent/demo'], '4294967296'],
    [['demo', '--preset', 'dit-tiny', '--out', '/nonexistent/demo'], '-2'],
    [['bench', 'model', '--preset', 'wan-tiny'], '-1'],
    [['bench', 'vae', '--vae-preset', 'sd'], '4294967296'],
  ])('%j --seed %s: the same UsageError line (exit 2) before any work', async (args, seed) => {
    const r = await tesseraCli([...args, '--seed', seed]);
    expect(r.stderr.trim()).toBe(`tessera: error: UsageError: --seed: an integer in 0..4294967295 (the noise generator's seed is 32 bits), got ${seed}`);
    expect(r.code).toBe(2);
  }, 60_000);
});
