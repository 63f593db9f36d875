// A short flag (-q, -h) right after a value flag is refused as `--prompt --seed 1` is, not taken as the
// value (session 21's fresh user: `--prompt -q` ran with the prompt "-q" and was not quiet).
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { generateCommand } from '../../src/cli/cmd-generate.js';
import { tesseraCli } from '../helpers/cli.js';
import { thrown } from '../helpers/errors.js';

const spec = generateCommand.spec;
const refusal = (s: typeof spec, argv: string[]): string => thrown(() => parseArgs(s, argv), UsageError).message;

describe('a short flag after a value flag', () => {
  it('--prompt -q and --prompt -h are refused like --prompt --seed 1, naming the long form', () => {
    const needs = refusal(spec, ['--prompt', '--seed', '1']);
    expect(needs).toMatch(/^--prompt needs text/);
    expect(refusal(spec, ['--prompt', '-q'])).toBe(`${needs}; -q is --quiet's short form (write --prompt=-q to give it as the value)`);
    expect(refusal(spec, ['--out', '-h'])).toMatch(/^--out needs .*; -h is --help's short form \(write --out=-h to give it as the value\)$/);
    expect(refusal(spec, ['--prompt', '-q=1'])).toMatch(/^--prompt needs text.*; -q=1 is --quiet's short form/);
  });
  it('--prompt=-q still gives the text "-q"; a negative number is still a value', () => {
    expect(parseArgs(spec, ['--out', 'x.safetensors', '--prompt=-q'])).toMatchObject({ prompt: '-q' });
    let why = '';
    try {
      parseArgs(spec, ['--out', 'x.safetensors', '--seed', '-1']);
    } catch (e) {
      why = (e as Error).message; // its range may refuse it, not its dash
    }
    expect(why).not.toContain('short form');
  });
  it('where the command has no -q, -q after a value flag is that value (it is no flag there)', () => {
    const noQuiet = { name: 'x', summary: 'x', flags: { label: { type: 'string' as const, help: 'a label' } } };
    expect(parseArgs(noQuiet, ['--label', '-q'])).toMatchObject({ label: '-q' });
    expect(() => parseArgs({ ...noQuiet, quiet: true }, ['--label', '-q'])).toThrow(/short form/);
  });
  it('CLI: generate --out x.safetensors --prompt -q: one line, exit 2, nothing run', async () => {
    const r = await tesseraCli(['generate', '--out', 'x.safetensors', '--prompt', '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^tessera: error: UsageError: --prompt needs text.*; -q is --quiet's short form \(write --prompt=-q to give it as the value\)$/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
