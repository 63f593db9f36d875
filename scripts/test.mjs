// `npm test`: the unit project, then the integration project (tests/integration/: the heavy
// checks), each a vitest run with its own summary; then one line per project and the combined
// closing line "N passed, N failed, N skipped". Both run even if the first fails; the exit status
// is non-zero if either failed. Extra arguments go to both runs (e.g. a file filter).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const args = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
const results = [];
let status = 0;
for (const project of ['unit', 'integration']) {
  const summary = join(dir, `${project}.json`);
  process.stdout.write(`\n==== ${project} tests (vitest --project ${project}) ====\n`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [vitest, 'run', '--project', project, ...(args.length ? ['--passWithNoTests'] : []), ...args], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TESSERA_TEST_SUMMARY: summary },
  });
  let counts = { passed: 0, failed: 0, skipped: 0 };
  try {
    counts = JSON.parse(readFileSync(summary, 'utf8'));
  } catch {
    counts.failed = 1; // vitest ended before its reporters ran
  }
  if (r.status !== 0) status = 1;
  results.push({ project, ...counts, seconds: (Date.now() - t0) / 1000, status: r.status ?? r.signal });
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write('\n');
for (const x of results) process.stdout.write(`${x.project}: ${x.passed} passed, ${x.failed} failed, ${x.skipped} skipped in ${x.seconds.toFixed(0)} s${x.status === 0 ? '' : ` (exit ${x.status})`}\n`);
const slowest = results.flatMap((x) => (x.slowest ?? []).map((t) => ({ ...t, project: x.project }))).sort((a, b) => b.ms - a.ms).slice(0, 10);
if (slowest.length) {
  process.stdout.write('\nslowest tests overall:\n');
  for (const t of slowest) process.stdout.write(`  ${(t.ms / 1000).toFixed(1).padStart(7)} s  [${t.project}] ${t.name}\n`);
}
const sum = (k) => results.reduce((a, x) => a + x[k], 0);
process.stdout.write(`\n${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped\n`);
process.exit(status);
