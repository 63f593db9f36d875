// The test helpers' kill timers (tests/helpers/cli.ts nodeCli/tesseraCli, tests/hardening/helpers.ts cli): a spawn
// they kill says so on its stderr, so a failure by a kill timer reads as one, not as a crash with code null or -1.
import { describe, expect, it } from 'vitest';
import { killedLine, nodeCli } from '../helpers/cli.js';

describe('a spawn ended by the helper\'s kill timer', () => {
  it('code null and the killed line on stderr; a spawn that ends in time has no such line', async () => {
    // (whether Node got as far as printing "started" in 1.5 s depends on the load: not checked)
    const slow = await nodeCli(['-e', 'console.error("started"); setTimeout(() => {}, 60_000)'], { timeoutMs: 1500 });
    expect([slow.code, slow.stdout, slow.stderr.replace(/^started\n/, '')]).toEqual([null, '', `${killedLine(1500)}\n`]);
    const quick = await nodeCli(['-e', 'console.error("done")'], { timeoutMs: 60_000 });
    expect(quick).toEqual({ code: 0, stdout: '', stderr: 'done\n' });
  });
});
