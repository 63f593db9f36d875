// parseArgs' order of refusals (src/cli/args.ts): CommandSpec.first (outputs.ts pathAndOutChecks: a path
// that does not exist, --out with a media extension) comes before the missing required flags, but never
// with --help: `generate --pipeline /typo --help` prints the help, as --help does with any other flag.
// An unknown flag is an UnknownFlagError carrying the flag as typed (serve-demo reads it), and the flag it
// most likely meant is found among the kebab-case names by their words too (nearestName).
import { describe, expect, it } from 'vitest';
import { parseArgs, UnknownFlagError, UsageError } from '../../src/cli/args.js';
import { generateCommand } from '../../src/cli/cmd-generate.js';
import { forwardCommand } from '../../src/cli/cmd-forward.js';
import { thrown } from '../helpers/errors.js';

describe('CommandSpec.first and --help', () => {
  it('with --help a path that does not exist, or a media --out, is not refused: the help is asked for', () => {
    expect(parseArgs(generateCommand.spec, ['--pipeline', '/nonexistent', '--help']).help).toBe(true);
    expect(parseArgs(forwardCommand.spec, ['--model', '/nonexistent', '--out', 'x.gif', '-h']).help).toBe(true);
  });

  it('without --help the path is the first refusal, before the missing required flags', () => {
    expect(thrown(() => parseArgs(forwardCommand.spec, ['--model', '/nonexistent']), UsageError).message).toBe('--model /nonexistent: no such folder');
    // and before --out's extension: the first refusal is the path that does not exist (75efdeb)
    expect(thrown(() => parseArgs(forwardCommand.spec, ['--model', '/nonexistent', '--out', 'x.gif']), UsageError).message).toBe('--model /nonexistent: no such folder');
  });
});

describe('an unknown flag', () => {
  it('names a flag holding its words (kebab-case names compared as words), and carries the flag as given', () => {
    const e = thrown(() => parseArgs(generateCommand.spec, ['--negative', 'x']), UnknownFlagError);
    expect(e.message).toBe('tessera generate: unknown flag --negative (did you mean --negative-prompt?)');
    expect(e.flag).toBe('negative');
  });
});
