// README.md "Benchmarking from your own script": its example, run as written against the source (the
// imports 'tessera' and 'tessera/profiler' pointed at src/index.ts and src/profiler.node.ts), so that
// it cannot rot. The tuner runs in mode auto on a cache of its own (XDG_CACHE_HOME in a temporary folder).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { ROOT } from '../helpers/golden.js';
import { sameMesaCache } from '../helpers/mesa-cache.js';

const work = mkdtempSync(join(tmpdir(), 'tessera-readme-bench-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The first ```ts block after the heading. */
function example(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('### Benchmarking from your own script');
  expect(at).toBeGreaterThan(0);
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  return m![1]!;
}

describe.skipIf(!hasGpu)('the README benchmarking example', () => {
  it('runs against the source: tunes, profiles, writes a trace, reports the choice and the fit', async () => {
    const code = example()
      .replace("from 'tessera/profiler'", `from ${JSON.stringify(join(ROOT, 'src', 'profiler.node.ts'))}`)
      .replace("from 'tessera'", `from ${JSON.stringify(join(ROOT, 'src', 'index.ts'))}`);
    const file = join(work, 'bench.mts'); // an ES module (top-level await), as in a project of "type": "module"
    writeFileSync(file, code);
    const env = { ...process.env, ...sameMesaCache(), TESSERA_TUNE: 'auto', XDG_CACHE_HOME: join(work, 'cache'), XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };
    // killed before the test's own timeout (600 s), so a hung example cannot outlive the test
    const r = await new Promise<{ code: number; out: string; err: string }>((resolve) =>
      execFile(process.execPath, ['--import', pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, file], { cwd: work, env, maxBuffer: 16 << 20, timeout: 540_000, killSignal: 'SIGKILL' }, (e, out, err) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err })),
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/M256 .*-> \S+/); // the tuned bucket and its choice
    expect(r.out).toMatch(/^gemm\S* (?!-)\S+ [\d.]+ ms [\d.]+ GFLOP\/s$/m); // a kernel row with its tuned choice
    expect(r.out).toMatch(/^\d+ tuned choices cached for this adapter$/m);
    expect(r.out).toContain('adapter   ');
    expect(r.out).toContain('% sum');
    const trace = JSON.parse(readFileSync(join(work, 'trace.json'), 'utf8'));
    expect(trace.otherData.runs.map((x: { name: string }) => x.name)).toEqual(['gemm', 'DiT block']);
    expect(r.out).toMatch(/^\d+ bytes$/m); // estimateMemory's total
    expect(r.out).toMatch(/^(fits this adapter in \d+ bytes|LimitError: .+)$/m); // checkRunFits' answer
  }, 600_000);
});
