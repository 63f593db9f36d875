// The package as a user gets it: `npm pack`, install the tarball into a fresh project, import
// `tessera` by name (Node condition → Dawn), type-check a consumer against the shipped .d.ts,
// and run a golden forward pass through the installed copy.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';

const work = mkdtempSync(join(tmpdir(), 'tessera-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const sh = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_RUNTIME_DIR: '/tmp' } });

describe('npm package', () => {
  let tarball = '';
  it('packs (prepack builds dist/) with the entries exports names', () => {
    const out = sh('npm', ['pack', '--silent', '--pack-destination', work], ROOT).trim().split('\n').pop()!;
    tarball = join(work, out);
    expect(readdirSync(work)).toContain(out);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.exports['.'].node).toBe('./dist/index.js');
    expect(pkg.exports['.'].browser).toBe('./dist/index.browser.js');
  }, 180_000);

  it('installs into a fresh project and imports by name', () => {
    const app = join(work, 'app');
    sh('mkdir', ['-p', app], work);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], app);
    const names = sh(process.execPath, ['--input-type=module', '-e', "import * as t from 'tessera'; console.log(Object.keys(t).sort().join(','))"], app);
    for (const n of ['loadModel', 'generate', 'acquireGpu', 'profilePlan', 'makeScheduler', 'nodeFolder']) expect(names).toContain(n);
    // the browser entry never pulls in the Node-only `webgpu` package
    const browser = readFileSync(join(app, 'node_modules', 'tessera', 'dist', 'index.browser.js'), 'utf8');
    expect(browser).not.toMatch(/node-env|from 'webgpu'|node:/);
    // a TypeScript consumer type-checks against the shipped declarations
    writeFileSync(join(app, 'use.ts'), "import { loadModel, type ForwardInputs } from 'tessera';\nconst f: (s: string) => Promise<unknown> = loadModel;\nconst i: ForwardInputs | null = null;\nexport { f, i };\n");
    sh(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', '--types', '@webgpu/types', 'use.ts'], app);
  }, 300_000);

  it.skipIf(!hasGpu)('the installed copy runs a golden forward pass', () => {
    const app = join(work, 'app');
    const script = `import { loadModel } from 'tessera';
import { readFileSync } from 'node:fs';
const m = await loadModel(${JSON.stringify(join(FIXTURES, 'dit_small', 'model'))});
const out = await m.forward({ hidden_states: { data: new Float32Array(2 * 4 * 8 * 8).fill(0.1), shape: [2, 4, 8, 8] }, timestep: [10, 500], class_labels: [1, 10] });
console.log(JSON.stringify({ shape: out.shape, finite: out.data.every(Number.isFinite) }));
m.destroy();`;
    writeFileSync(join(app, 'run.mjs'), script);
    const res = JSON.parse(sh(process.execPath, ['run.mjs'], app).trim().split('\n').pop()!);
    expect(res).toEqual({ shape: [2, 8, 8, 8], finite: true });
  }, 120_000);
});
