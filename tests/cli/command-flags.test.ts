// Each command lists and accepts only the common flags that mean something for it (args.ts
// CommandSpec.without): tune refuses --no-tune (its help listed it with its usual meaning), version
// takes only --help (it accepted --no-tune and --debug and did nothing with them).
import { describe, expect, it } from 'vitest';
import { helpText, parseArgs, UsageError } from '../../src/cli/args.js';
import { tuneCommand } from '../../src/cli/cmd-tune.js';
import { versionCommand } from '../../src/cli/cmd-version.js';
import { infoCommand } from '../../src/cli/cmd-info.js';

const listed = (text: string) => text.split('\n').filter((l) => l.startsWith('  --')).map((l) => l.trim().split(' ')[0]);
const refusal = (spec: typeof tuneCommand.spec, args: string[]) => {
  try {
    parseArgs(spec, args);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${args.join(' ')}`);
};

describe('common flags per command', () => {
  it('tune: --no-tune is not in its help and is refused with why (but tune --help --no-tune prints the help)', () => {
    const flags = listed(helpText(tuneCommand.spec));
    expect(flags).not.toContain('--no-tune');
    expect(flags).toContain('--debug');
    expect(refusal(tuneCommand.spec, ['--quick', '--no-tune'])).toBe("tessera tune: --no-tune turns autotuning off (no cached choice is read or written), and tune's job is to time kernel variants and cache the winners: drop --no-tune to tune");
    expect(refusal(tuneCommand.spec, ['--frobnicate'])).not.toContain('--no-tune');
    expect(parseArgs(tuneCommand.spec, ['--help', '--no-tune']).help).toBe(true);
  });

  it('version: only --help, in its help and its valid-flag list; --debug and --no-tune refused', () => {
    expect(listed(helpText(versionCommand.spec))).toEqual(['--help']);
    expect(refusal(versionCommand.spec, ['--no-tune'])).toBe('tessera version: --no-tune does not apply: version runs no kernels, so there is no autotuning to turn off');
    expect(refusal(versionCommand.spec, ['--debug'])).toBe("tessera version: --debug does not apply: version only prints tessera's version (no stack trace to show)");
    expect(refusal(versionCommand.spec, ['--frobnicate'])).toBe('tessera version: unknown flag --frobnicate; valid flags: --help');
  });

  it('info keeps both (--no-tune shows the heuristics without the cache)', () => {
    expect(listed(helpText(infoCommand.spec))).toEqual(['--json', '--help', '--debug', '--no-tune']);
    expect(parseArgs(infoCommand.spec, ['--no-tune', '--debug'])['no-tune']).toBe(true);
  });
});
