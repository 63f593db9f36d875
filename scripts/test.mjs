// `npm test` (after scripts/gen-kernels.mjs): type-checks everything (tsc --noEmit) while it
// compiles src/ into .test-dist/ (tsc -p tsconfig.build.json), the two side by side; then one vitest
// run of both projects, `unit` (kernels, models, I/O) and `integration` (tests/integration/: the
// heavy checks, each with a timeout of its own), on one pool of two workers so neither core idles
// while the other finishes a project (vitest.config.ts). The tests' CLI spawns run the build
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
const run = (what, a) =>
  new Promise((done) => {
    const p = spawn(process.execPath, a, { cwd: root, stdio: 'inherit' });
    p.on('close', (code) => done(code === 0 ? null : what));
  });
const failed = (await Promise.all([
  run('type-check (tsc --noEmit -p tsconfig.json)', [tsc, '--noEmit', '-p', 'tsconfig.json']),
  run(`build of src/ into ${BUILD}/ (tsc -p tsconfig.build.json)`, [tsc, '-p', 'tsconfig.build.json', '--outDir', BUILD]),
])).filter(Boolean);
if (failed.length) {
  process.stdout.write(`npm test: ${failed.join(' and ')} failed: no tests run\n`);
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
process.stdout.write(`npm test: ${wall} s wall${r.status === 0 && ran ? '' : ', FAILED'}\n`);
process.exit(r.status === 0 && ran ? 0 : 1);
