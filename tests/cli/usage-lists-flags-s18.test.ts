// Every subcommand's usage line lists its flags: each flag of its --help's flag list (the command's own, not the
// common --help, --debug, --no-tune and --quiet) appears in the usage, so that a flag added to a command cannot be
// left out of its usage again (session 18: tune --help lacked --shapes; demo --help --shift, --repeats,
// --profile-steps, --dtype). bench's usage and each benchmark's own (bench NAME --help) likewise.
import { describe, expect, it } from 'vitest';
import { helpText, parseArgs } from '../../src/cli/args.js';
import { BENCH_SUBCOMMANDS } from '../../src/cli/cmd-bench.js';
import { loadCommands } from '../../src/cli/main.js';

// every command's module (tessera's own run imports only the one it runs: main.ts)
const commands = await loadCommands();

const COMMON = ['help', 'debug', 'no-tune', 'quiet'];

/** The usage text and the flags listed under "flags:" of a help text. */
function parts(help: string): { usage: string; flags: string[] } {
  const usage = help.slice(help.indexOf('usage: '), help.indexOf('\nflags:\n'));
  const flags = help
    .slice(help.indexOf('\nflags:\n'))
    .split('\n')
    .map((l) => /^ {2}--([a-z0-9-]+)/.exec(l)?.[1])
    .filter((f): f is string => f !== undefined && !COMMON.includes(f));
  return { usage, flags };
}

const unlisted = (help: string): string[] => {
  const { usage, flags } = parts(help);
  return flags.filter((f) => !new RegExp(`--${f}(?![a-z0-9-])`).test(usage));
};

describe('usage lines list every flag', () => {
  it('each command: its usage names each of its flags', () => {
    const missing = Object.fromEntries(commands.map((c) => [c.spec.name, unlisted(c.help?.(parseArgs(c.spec, ['--help'])) ?? helpText(c.spec))]));
    expect(missing).toEqual(Object.fromEntries(commands.map((c) => [c.spec.name, []])));
  });

  it('each benchmark (bench NAME --help): its usage names each of its flags', () => {
    const bench = commands.find((c) => c.spec.name === 'bench')!;
    const missing = Object.fromEntries(BENCH_SUBCOMMANDS.map((b) => [b, unlisted(bench.help!(parseArgs(bench.spec, [b, '--help'])))]));
    expect(missing).toEqual(Object.fromEntries(BENCH_SUBCOMMANDS.map((b) => [b, []])));
  });

  it('the check reads the flags: a usage without one of them is caught', () => {
    const spec = { name: 'x', summary: 's', usage: 'tessera x [--a N]', flags: { a: { type: 'int' as const, help: 'a' }, b: { type: 'bool' as const, help: 'b' } } };
    expect(unlisted(helpText(spec))).toEqual(['b']);
  });
});
