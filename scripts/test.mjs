// `npm test` (after scripts/gen-kernels.mjs): compiles src/ into .test-dist/ (tsc -p
// tsconfig.build.json --noCheck: the same JavaScript, without checking the types a second time) and
// type-checks everything (tsc --noEmit -p tsconfig.json, which includes src/ with the same options)
// beside it, and the tests start as soon as the build is there, the type-check going on beside them
// (its errors are printed after the tests, and fail the run). One vitest run of both projects,
// `unit` (kernels, models, I/O) and `integration` (tests/integration/: the heavy checks, each with
// a timeout of its own), on one pool of two workers so neither core idles while the other finishes
// a project (vitest.config.ts). The tests' CLI spawns run the build
// (TESSERA_CLI_BUILD, bin/tessera.mjs): ~1 s less CPU each than the sources through tsx, over a
// few hundred spawns. The summary reporter prints one line per project and the closing line
// "N passed, N failed, N skipped". Extra arguments go to vitest (e.g. a file filter, or
// `--project unit`).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const args = process.argv.slice(2);

// the build folder sits directly under the checkout: the CLI finds models/ and the git checkout as `../..` of its files
const BUILD = '.test-dist';
rmSync(join(root, BUILD), { recursive: true, force: true });
// (issue 8: the build's own type-check cost ~4.5 s of CPU, 11.7 -> 7.3 s, identical output; and the
// tests waited ~16-20 s for the type-check, with one core idle once the build was done)
const TYPECHECK = 'type-check (tsc --noEmit -p tsconfig.json)';
const run = (what, a, output = 'inherit') =>
  new Promise((done) => {
    const p = spawn(process.execPath, a, { cwd: root, stdio: ['ignore', output, output] });
    let text = '';
    if (output === 'pipe') for (const s of [p.stdout, p.stderr]) s.on('data', (d) => (text += d));
    p.on('close', (code) => done({ failed: code === 0 ? null : what, text }));
  });
// its output held until the tests end, so that it does not land among vitest's lines
const typecheck = run(TYPECHECK, [tsc, '--noEmit', '-p', 'tsconfig.json'], 'pipe');
const built = await run(`build of src/ into ${BUILD}/ (tsc -p tsconfig.build.json --noCheck)`, [tsc, '-p', 'tsconfig.build.json', '--outDir', BUILD, '--noCheck']);
if (built.failed) {
  const t = await typecheck;
  process.stdout.write(`${t.text}npm test: ${[built.failed, t.failed].filter(Boolean).join(' and ')} failed: no tests run\n`);
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
const summary = join(dir, 'summary.json');
const t0 = Date.now();
const r = spawnSync(process.execPath, [vitest, 'run', ...(args.length ? ['--passWithNoTests'] : []), ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TESSERA_TEST_SUMMARY: summary, TESSERA_CLI_BUILD: BUILD },
});
let ran = true;
try {
  JSON.parse(readFileSync(summary, 'utf8'));
} catch {
  ran = false;
}
rmSync(dir, { recursive: true, force: true });
const wall = ((Date.now() - t0) / 1000).toFixed(0);
if (!ran) process.stdout.write(`\nvitest ended before its reporters ran (exit ${r.status ?? r.signal}): counted as a failure\n`);
const t = await typecheck;
if (t.failed) process.stdout.write(`\n${t.text}npm test: ${t.failed} failed (the tests ran beside it)\n`);
const ok = r.status === 0 && ran && !t.failed;
process.stdout.write(`npm test: ${wall} s wall${ok ? '' : ', FAILED'}\n`);
process.exit(ok ? 0 : 1);
