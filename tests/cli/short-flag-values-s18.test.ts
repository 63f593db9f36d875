// A short flag given a value (-q=VALUE, -h=VALUE) is read as its long form with that value: -q=maybe is refused as
// --quiet=maybe is (the bool values named), not as an "unexpected argument" (session 18's fresh user).
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { generateCommand } from '../../src/cli/cmd-generate.js';
import { infoCommand } from '../../src/cli/cmd-info.js';
import { tesseraCli } from '../helpers/cli.js';
import { thrown } from '../helpers/errors.js';

const refusal = (f: () => unknown): string => thrown(f, UsageError).message;

describe('short flags with a value', () => {
  it('-q=V and -h=V are --quiet=V and --help=V: the same values taken, the same refusal', () => {
    const spec = generateCommand.spec;
    expect(refusal(() => parseArgs(spec, ['-q=maybe']))).toBe(refusal(() => parseArgs(spec, ['--quiet=maybe'])));
    expect(refusal(() => parseArgs(spec, ['-q=maybe']))).toBe('--quiet takes no value, or true/false/1/0, got "maybe"');
    expect(refusal(() => parseArgs(spec, ['-h=maybe']))).toBe('--help takes no value, or true/false/1/0, got "maybe"');
    expect(parseArgs(spec, ['-q=0', '-h=1'])).toMatchObject({ quiet: false, help: true });
    expect(parseArgs(spec, ['-q=true', '-h'])).toMatchObject({ quiet: true, help: true });
  });

  it('-q=V where the command takes no --quiet stays an argument it does not take', () => {
    expect(refusal(() => parseArgs(infoCommand.spec, ['-q=1']))).toBe('tessera info: unexpected argument "-q=1"');
  });

  it('CLI: generate -q=maybe and generate --json=maybe each get one line naming the flag and the values', async () => {
    const q = await tesseraCli(['generate', '-q=maybe']);
    expect([q.code, q.stderr.trim()]).toEqual([2, 'tessera: error: UsageError: --quiet takes no value, or true/false/1/0, got "maybe"']);
    const j = await tesseraCli(['info', '--json=maybe']);
    expect([j.code, j.stderr.trim()]).toEqual([2, 'tessera: error: UsageError: --json takes no value, or true/false/1/0, got "maybe"']);
  });
});
