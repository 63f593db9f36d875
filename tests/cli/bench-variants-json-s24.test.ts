// Session 23 bench review #10: `bench gemm --variants bogus` listed the attention strategies too; each benchmark's
// refusal now names only the entries it takes (gemm: its strategies, attention: its, conv: its knobs), with "did you
// mean" for a near spelling. And a --json run that fails: nothing on stdout (no partial or error object), the one
// error line on stderr, exit 2 for a usage error, as info/tune --json; bench --help and README say so.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseVariants } from '../../src/cli/cmd-bench.js';
import { tesseraInProcess } from '../helpers/cli.js';

const refusal = (sub: 'gemm' | 'attention' | 'conv', s: string): string => {
  try {
    parseVariants(sub, s, null);
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
};

describe('bench --variants: a refusal names the entries of that benchmark only', () => {
  it('gemm lists GEMM strategies, attention its strategies, conv its knobs; a near spelling is suggested', () => {
    const g = refusal('gemm', 'bogus');
    expect(g).toMatch(/^--variants: "bogus" is not an entry of bench gemm; it takes default, a GEMM strategy \(subgroup-sr16, .*tiled-128.*\) or tile knobs K=V\[,K=V…\]$/);
    expect(g).not.toMatch(/attention|fa2|rows/);
    const a = refusal('attention', 'bogus');
    expect(a).toMatch(/^--variants: "bogus" is not an entry of bench attention; it takes default, an attention strategy \(rows, fa2, fa2-wg, rows-dh\) or tile knobs K=V\[,K=V…\]$/);
    expect(a).not.toMatch(/GEMM|tiled|subgroup/);
    const c = refusal('conv', 'bogus');
    expect(c).toMatch(/^--variants: "bogus" is not an entry of bench conv; it takes default or tile knobs K=V\[,K=V…\] \(.*PX=4\|8.*\)$/);
    expect(c).not.toMatch(/GEMM|attention strategy/);
    expect(refusal('gemm', 'tiled128')).toMatch(/^--variants: "tiled128" is not an entry of bench gemm \(did you mean tiled-128\?\); it takes/);
    expect(refusal('attention', 'fa2wg')).toMatch(/^--variants: "fa2wg" is not an entry of bench attention \(did you mean fa2-wg\?\); it takes/);
    expect(refusal('attention', ' ; ')).toMatch(/^--variants needs at least one entry, separated by ; \(bench attention: all, default, an attention strategy \(rows, fa2, fa2-wg, rows-dh\) or tile knobs/);
    expect(refusal('conv', ';')).toMatch(/^--variants needs at least one entry, separated by ; \(bench conv: default or tile knobs/);
  });
});

describe('bench --json: a failed run prints nothing on stdout', () => {
  it('a refused --variants: empty stdout, one stderr line, exit 2; info --json the same', async () => {
    const r = await tesseraInProcess(['bench', 'attention', '--heads', '1', '--tokens', '4', '--head-dim', '8', '--variants', 'bogus', '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tessera: error: UsageError: --variants: "bogus" is not an entry of bench attention/)]);
    const i = await tesseraInProcess(['info', '--json', '--frob']);
    expect([i.code, i.stdout]).toEqual([2, '']);
  });

  it('bench --help and README document it', async () => {
    const h = await tesseraInProcess(['bench', '--help']);
    expect(h.stdout.replace(/\s+/g, ' ')).toMatch(/--json\s.*a run refused or failed before it has a result prints nothing on stdout/);
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain('With `--json` (bench, tune, info) a run that is refused or fails before it has a result prints nothing on stdout');
  });
});
