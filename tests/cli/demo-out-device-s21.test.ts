// demo --out names a device (/dev/null) as what it is, in generate's words (notRegular), not "is a file"
// (session 21's fresh user, finding 11).
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { checkOutputDir } from '../../src/cli/outputs.js';
import { tesseraCli } from '../helpers/cli.js';
import { thrown } from '../helpers/errors.js';

describe('an output folder flag given a device', () => {
  it('/dev/null, and a link to it, are a character device', () => {
    expect(thrown(() => checkOutputDir('out', '/dev/null'), UsageError).message).toBe('--out /dev/null: is a character device, expected a folder');
    const link = join(mkdtempSync(join(tmpdir(), 'tessera-s21-')), 'null-link');
    symlinkSync('/dev/null', link);
    expect(thrown(() => checkOutputDir('out', link), UsageError).message).toBe(`--out ${link}: is a character device, expected a folder`);
  });
  it('CLI: demo --out /dev/null: one line, exit 2', async () => {
    const r = await tesseraCli(['demo', '--out', '/dev/null']);
    expect([r.code, r.stderr.trim()]).toEqual([2, 'tessera: error: UsageError: --out /dev/null: is a character device, expected a folder']);
  });
});
