// Help layout and wording (audit 12 D, 17): the flag column is 34 characters wide and every help
// text starts in the same column (demo's --preset spelled out its five choices and pushed its help
// past it); `tessera help bench` says that --frames and --seed are bench vae's too (it said model:).
import { describe, expect, it } from 'vitest';
import { helpText, parseArgs } from '../../src/cli/args.js';
import { benchCommand } from '../../src/cli/cmd-bench.js';
import { loadCommands } from '../../src/cli/main.js';

// every command's module (tessera's own run imports only the one it runs: main.ts)
const commands = await loadCommands();

const flagLines = (text: string) => text.split('\n').filter((l) => l.startsWith('  --'));
const helpOf = (c: (typeof commands)[number], argv: string[] = []) => (c.help ? c.help(parseArgs(c.spec, [...argv, '--help'])) : helpText(c.spec));

describe('help columns', () => {
  const cases: [string, string][] = [];
  for (const c of commands) cases.push([c.spec.name, helpOf(c)]);
  for (const sub of ['gemm', 'attention', 'layernorm', 'conv', 'block', 'suite', 'model', 'vae', 'plan', 'ceiling']) cases.push([`bench ${sub}`, helpOf(benchCommand, [sub])]);
  it.each(cases)('%s: every flag\'s help starts in column 35', (_, text) => {
    const lines = flagLines(text);
    expect(lines.length).toBeGreaterThan(0);
    // the flag and its argument, then the padding up to the help text
    for (const l of lines) expect(/^ {2}--\S+(?: \S+)? +/.exec(l)?.[0].length, l).toBe(35);
  });
  it('demo --preset is NAME, the names in its help', () => {
    const demo = commands.find((c) => c.spec.name === 'demo')!;
    expect(flagLines(helpOf(demo)).find((l) => l.startsWith('  --preset'))).toBe(
      '  --preset NAME                    run the random-weight preset demo of this architecture instead of the trained pipeline (clip is latent noise, one step profiled): dit-s-2, dit-xl-2, wan-1.3b, wan-14b, latte-1, wan-tiny, dit-tiny',
    );
  });
});

describe('tessera help bench: --frames and --seed', () => {
  const line = (text: string, flag: string) => flagLines(text).find((l) => l.startsWith(`  --${flag} `));
  it('name bench vae beside model (and plan for --frames); each benchmark\'s own help has its own line', () => {
    const all = helpOf(benchCommand);
    expect(line(all, 'frames')).toBe("  --frames F                       model/plan: latent frames (default: the preset's; 1 with --model); vae: latent frames (default 2; an AutoencoderKL decodes 4-D latents without it)");
    expect(line(all, 'seed')).toBe('  --seed N                         model: seed of the random weights and inputs; vae: of the random weights and latents (default 0)');
    expect(line(helpOf(benchCommand, ['model']), 'frames')).toBe("  --frames F                       latent frames (default: the preset's; 1 with --model)");
    expect(line(helpOf(benchCommand, ['model']), 'seed')).toBe('  --seed N                         seed of the random weights and inputs (default 0)');
    expect(line(helpOf(benchCommand, ['vae']), 'frames')).toBe('  --frames F                       latent frames (default 2; an AutoencoderKL decodes 4-D latents without it)');
    expect(line(helpOf(benchCommand, ['vae']), 'seed')).toBe('  --seed N                         seed of the random weights and latents (default 0)');
  });
});
