// `npm test`: one vitest run of both projects, `unit` (kernels, models, I/O) and `integration`
// (tests/integration/: the heavy checks, each with a timeout of its own), on one pool of two
// workers so neither core idles while the other finishes a project (vitest.config.ts). The
// summary reporter prints one line per project and the closing line "N passed, N failed, N
// skipped". Extra arguments go to vitest (e.g. a file filter, or `--project unit`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const args = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
const summary = join(dir, 'summary.json');
const t0 = Date.now();
const r = spawnSync(process.execPath, [vitest, 'run', ...(args.length ? ['--passWithNoTests'] : []), ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TESSERA_TEST_SUMMARY: summary },
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
