// A bool flag given a value: --flag=true / =1 mean on, --flag=false / =0 mean off (as written alone / left out);
// any other value is a UsageError (exit 2) that lists the four, never read silently as false (audit 13 M defect 12).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { infoCommand } from '../../src/cli/cmd-info.js';
import { tesseraCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';

describe('bool flag values', () => {
  it('--json, --json=true, --json=1 are on; --json=false, --json=0 and no --json are off (a common flag likewise)', () => {
    const json = (args: string[]) => parseArgs(infoCommand.spec, args)['json'];
    expect([[], ['--json'], ['--json=true'], ['--json=1'], ['--json=false'], ['--json=0']].map(json)).toEqual([undefined, true, true, true, false, false]);
    const noTune = (args: string[]) => parseArgs(infoCommand.spec, args)['no-tune'];
    expect([['--no-tune=1'], ['--no-tune=0'], ['--no-tune=true'], ['--no-tune=false']].map(noTune)).toEqual([true, false, true, false]);
  });

  it('any other value is refused naming the flag and the value', () => {
    for (const v of ['yes', 'no', 'TRUE', 'False', '2', '', 'toString', 'on']) {
      const e = (() => {
        try {
          parseArgs(infoCommand.spec, [`--json=${v}`]);
        } catch (x) {
          return x;
        }
      })();
      expect(e).toBeInstanceOf(UsageError);
      expect((e as Error).message).toBe(`--json takes no value, or true/false/1/0, got "${v}"`);
    }
  });

  it("README's sentence on on/off flags gives the values the parser takes, with their meaning", () => {
    const m = /it also takes `=(\w+)`\/`=(\w+)` \(on\) or `=(\w+)`\/`=(\w+)` \(off\)/.exec(readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' '));
    expect(m, 'README.md "Command line": the on/off flag sentence').not.toBeNull();
    const [on1, on2, off1, off2] = m!.slice(1);
    const json = (v: string) => parseArgs(infoCommand.spec, [`--json=${v}`])['json'];
    expect([on1, on2, off1, off2].map(json)).toEqual([true, true, false, false]);
    // and the refusal lists the same four
    expect(() => parseArgs(infoCommand.spec, ['--json=x'])).toThrow(`takes no value, or ${[on1, off1, on2, off2].join('/')}, got "x"`);
  });

  it('the CLI: info --json=0 prints the text report, --json=1 the JSON, --json=yes exits 2 with one line', async () => {
    const off = await tesseraCli(['info', '--json=0']);
    expect(off.code, off.stderr).toBe(0);
    expect(() => JSON.parse(off.stdout)).toThrow();
    const on = await tesseraCli(['info', '--json=1']);
    expect(on.code, on.stderr).toBe(0);
    expect(typeof JSON.parse(on.stdout)).toBe('object');
    const bad = await tesseraCli(['info', '--json=yes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual(['tessera: error: UsageError: --json takes no value, or true/false/1/0, got "yes"']);
  }, 120_000);
});
