// `npm test` (after scripts/gen-kernels.mjs): compiles src/ into .test-dist/ (tsc -p
// tsconfig.build.json --noCheck: the same JavaScript, without checking the types a second time) and
// type-checks everything (tsc --noEmit -p tsconfig.json, which includes src/ with the same options)
// beside it, and the tests start as soon as the build is there, the type-check going on beside them
// (its errors are printed after the tests, and fail the run). One vitest run (below) of `unit`
// (kernels, models, I/O), `unit-isolated` and `integration` (tests/integration/: the heavy checks,
// each with a timeout of its own), a process per file (vitest.config.ts). The tests' CLI spawns run the build
// (TESSERA_CLI_BUILD, bin/tessera.mjs): ~1 s less CPU each than the sources through tsx, over a
// few hundred spawns. The summary reporter prints one line per project, and this script the closing
// line "N passed, N failed, N skipped" over its runs. Extra arguments go to vitest (e.g. a file filter, or
// `--project unit`).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runStallGuarded } from './stall-guard.mjs';

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

// One vitest run of the three projects, a process per test file, on one pool of two workers, longest
// files first across all of them (so neither core idles while the other ends a project). With
// TESSERA_TEST_SHARED=1 (a quicker local run, not the default): two runs, `unit` with isolate: false
// first (--no-isolate: a worker runs file after file in one process, one module graph and one GPU device,
// so a file no longer pays a fresh process, the engine's imports, a Dawn device and its kernels'
// translation again; tests/helpers/shared-worker.ts puts back what a file changed; ~20 s of a cold run's
// wall, bench/RESULTS.md session 20), then `unit-isolated` and `integration` with a process per file
// (vitest's isolation is its pool's, not a project's). Not the default: which files share a worker depends
// on timing, so a file that leaks state into the next fails in some runs only (session 20's second cold
// run: the fake-IndexedDB files), and CI must not go red by chance.
// `--project NAME` among the arguments picks the projects; other arguments go to every run.
const projects = [];
const rest = [];
for (let i = 0; i < args.length; i++) {
  const m = /^--project(?:=(.*))?$/.exec(args[i]);
  if (!m) rest.push(args[i]);
  else projects.push(m[1] ?? args[++i]);
}
const runs = [];
const picked = projects.length ? projects : ['unit', 'unit-isolated', 'integration'];
if (process.env.TESSERA_TEST_SHARED === '1') {
  if (picked.includes('unit')) runs.push(['--project', 'unit', '--no-isolate']);
  const own = picked.filter((p) => p !== 'unit');
  if (own.length) runs.push(own.flatMap((p) => ['--project', p]));
} else {
  runs.push(picked.flatMap((p) => ['--project', p]));
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
const t0 = Date.now();
const total = { passed: 0, failed: 0, skipped: 0 };
let ok = true;
const stalls = [];
// minutes without a line from vitest: a stalled worker (scripts/stall-guard.mjs), not a slow file (the longest takes
// ~4 minutes, and each finished file prints a line); the run is killed and run once more, and the stall is said
// (in a terminal, unguarded: vitest's live output needs the terminal itself)
const STALL_MS = process.stdout.isTTY ? 0 : Number(process.env.TESSERA_TEST_STALL_MS ?? 15 * 60_000);
for (const [i, picked] of runs.entries()) {
  const summary = join(dir, `summary-${i}.json`);
  const vitestArgs = [vitest, 'run', ...picked, ...(args.length ? ['--passWithNoTests'] : []), ...rest];
  // the reporter's closing line is printed here, once, for both runs
  const env = { ...process.env, TESSERA_TEST_SUMMARY: summary, TESSERA_TEST_NO_TOTAL: '1', TESSERA_CLI_BUILD: BUILD };
  let r = await runStallGuarded(process.execPath, vitestArgs, { cwd: root, env, stallMs: STALL_MS });
  if (r.stalled) {
    const line = `vitest (${picked.join(' ')}) printed nothing for ${(STALL_MS / 60_000).toFixed(1)} min: a stalled worker, killed; running it once more`;
    process.stdout.write(`\nnpm test: ${line}\n\n`);
    stalls.push(line);
    rmSync(summary, { force: true });
    r = await runStallGuarded(process.execPath, vitestArgs, { cwd: root, env, stallMs: STALL_MS });
  }
  try {
    if (r.stalled) throw new Error('stalled again');
    const c = JSON.parse(readFileSync(summary, 'utf8'));
    for (const k of Object.keys(total)) total[k] += c[k];
    if (r.status !== 0 || c.failed > 0) ok = false;
  } catch {
    ok = false;
    process.stdout.write(`\nvitest (${picked.join(' ')}) ended before its reporters ran (${r.stalled ? 'stalled a second time' : `exit ${r.status ?? r.signal}`}): counted as a failure\n`);
  }
}
rmSync(dir, { recursive: true, force: true });
const wall = ((Date.now() - t0) / 1000).toFixed(0);
process.stdout.write(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
for (const line of stalls) process.stdout.write(`npm test: ${line} (the counts above are the second run's)\n`);
const t = await typecheck;
if (t.failed) process.stdout.write(`\n${t.text}npm test: ${t.failed} failed (the tests ran beside it)\n`);
if (t.failed) ok = false;
process.stdout.write(`npm test: ${wall} s wall${ok ? '' : ', FAILED'}\n`);
process.exit(ok ? 0 : 1);
