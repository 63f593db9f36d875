// An unknown flag's message lists the valid flags from the same table parseArgs accepts flags by,
// so every flag a command's --help shows is in it (it once left out --no-tune, which every command takes).
import { describe, expect, it, vi } from 'vitest';
import { loadCommands, main } from '../../src/cli/main.js';

// every command's module (tessera's own run imports only the one it runs: main.ts)
const commands = await loadCommands();

/** Runs main() in-process; stdout and stderr lines. */
async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(...a.join(' ').split('\n')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(...a.join(' ').split('\n')));
  try {
    return { code: await main(argv), out, err };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('unknown flag: the list of valid flags is the list --help shows', () => {
  it.each(commands.map((c) => c.spec.name))('tessera %s', async (name) => {
    const help = await run(name, '--help');
    expect(help.code).toBe(0);
    const shown = help.out.filter((l) => /^ {2}--[a-z]/.test(l)).map((l) => l.trim().split(/\s/)[0]!);
    // tune refuses --no-tune and version takes only --help (CommandSpec.without: tests/cli/command-flags.test.ts)
    if (name === 'tune' || name === 'version') expect(shown).not.toContain('--no-tune');
    else expect(shown).toContain('--no-tune');
    expect(shown).toContain('--help');
    const bad = await run(name, '--frobnicate');
    expect(bad.code).toBe(2);
    expect(bad.err).toHaveLength(1);
    const m = /^tessera: error: UsageError: tessera \S+: unknown flag --frobnicate; valid flags: (.*)$/.exec(bad.err[0]!);
    expect(m, bad.err[0]).not.toBeNull();
    expect(new Set(m![1]!.split(', '))).toEqual(new Set(shown));
  });

  it('--no-tune is accepted once, like every flag', async () => {
    const r = await run('info', '--no-tune', '--no-tune');
    expect(r.code).toBe(2);
    expect(r.err).toEqual(['tessera: error: UsageError: tessera info: --no-tune is given more than once; give it once']);
  });
});
