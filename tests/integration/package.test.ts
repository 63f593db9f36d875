// The package as a user gets it: `npm pack`, install the tarball into a fresh project, import
// `tessera` by name, type-check strict consumers against the shipped .d.ts (no skipLibCheck), run
// the installed CLI without and then with the optional peer `webgpu`, and a golden forward pass
// through the installed copy. Heavy (packs, installs, spawns): an integration test.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { loadCase, ROOT, runCase } from '../helpers/golden.js';
import { goldenF32Tol } from '../tolerances.js';
import { WEBGPU_VERSION } from '../../src/gpu/node.js';

const work = mkdtempSync(join(tmpdir(), 'tessera-pack-'));
const app = join(work, 'app');
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: '/tmp' };
delete env.TESSERA_CLI_CHILD;
delete env.TESSERA_STDERR_TTY;
delete env.TESSERA_CLI_BUILD; // the installed copy runs its own dist/
/** Runs a command without blocking the worker (vitest's RPC must keep answering during npm pack/install). */
function spawnAsync(cmd: string, args: string[], cwd: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, encoding: 'utf8', env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}
async function sh(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await spawnAsync(cmd, args, cwd);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}
/** TypeScript from `typescriptDir` (the checkout's 5.9, or the 5.1 and 7.x of workspaces tests/integration/ts51 and ts7). */
const tsc = (cwd: string, typescriptDir = join(ROOT, 'node_modules', 'typescript')) => spawnAsync(process.execPath, [join(typescriptDir, 'bin', 'tsc'), '-p', '.'], cwd);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** Every file under `dir` with its mtime, to prove a run wrote nothing there. */
function snapshot(dir: string): Map<string, number> {
  const m = new Map<string, number>();
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else m.set(p, s.mtimeMs);
    }
  };
  walk(dir);
  return m;
}

describe('package.json', () => {
  it('webgpu is an optional peer (and a devDependency for the checkout), tsx only a devDependency', () => {
    expect(pkg.dependencies.webgpu).toBeUndefined();
    expect(pkg.dependencies.tsx).toBeUndefined();
    expect(pkg.devDependencies.tsx).toBeDefined();
    expect(pkg.peerDependencies.webgpu).toBeDefined();
    expect(pkg.peerDependenciesMeta.webgpu.optional).toBe(true);
    // the version the error message tells users to install is the one the checkout tests with, inside the peer range
    expect(pkg.devDependencies.webgpu).toBe(WEBGPU_VERSION);
    expect(pkg.peerDependencies.webgpu).toBe(`~${WEBGPU_VERSION}`);
    expect(pkg.dependencies['@webgpu/types']).toBeDefined(); // the shipped TypeScript 5 entries (dist/ts5/) reference it
    // mediabunny (browser MP4) brings @types/dom-webcodecs, which clashes with lib.dom in every consumer: optional too
    expect(pkg.dependencies.mediabunny).toBeUndefined();
    expect(pkg.peerDependenciesMeta.mediabunny.optional).toBe(true);
  });

  it('LICENSE matches the license field', () => {
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/);
  });
});

describe('npm package', () => {
  let tarball = '';
  it('packs (prepack builds dist/): compiled JavaScript, declarations and LICENSE, no TypeScript sources', async () => {
    const out = (await sh('npm', ['pack', '--silent', '--pack-destination', work], ROOT)).trim().split('\n').pop()!;
    tarball = join(work, out);
    const files = (await sh('tar', ['-tzf', tarball], work)).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    expect(files).toContain('LICENSE');
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('dist/kernels.gen.js'); // kernel sources compiled in: nothing generated at install or run time
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/index.browser.d.ts');
    // the embedded pipeline that `tessera generate --prompt P` runs without --pipeline
    for (const c of ['model_index.json', 'transformer/diffusion_pytorch_model.safetensors', 'vae/diffusion_pytorch_model.safetensors', 'text_encoder/model.safetensors', 'tokenizer/tokenizer.json', 'scheduler/scheduler_config.json']) expect(files).toContain(`models/tessera-shapes/${c}`);
    for (const f of ['dist/profiler.js', 'dist/profiler.node.js', 'dist/profiler.d.ts', 'dist/profiler.node.d.ts']) expect(files).toContain(f);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('scripts/'))).toEqual([]);
    // the README ships (npm adds it): the docs it names ship with it; the files it names that stay in the
    // source repository say so where first named
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(files).toContain('README.md');
    const docs = [...new Set([...readme.matchAll(/`(docs\/[\w.-]+\.md)`/g)].map((m) => m[1]!))];
    expect(docs).toContain('docs/TEXT.md');
    for (const d of docs) expect(files, `${d}, named in README.md`).toContain(d);
    for (const f of ['bench/RESULTS.md', 'training/README.md', 'examples/node/generate.ts', 'src/eval/shapes-judge.ts']) {
      expect(files).not.toContain(f);
      expect(readme.slice(readme.indexOf(`\`${f}\``)), `README.md's first mention of ${f}`).toMatch(new RegExp(`^\`${f.replace(/\./g, '\\.')}\` \\(in the source repository\\)`));
    }
    // TypeScript >= 6 declares WebGPU in its DOM lib: the main declarations must not pull in @webgpu/types (duplicate
    // identifiers); TypeScript 5.x gets entries that add it, through the "types@<6" export conditions
    for (const e of ['index', 'index.browser', 'profiler', 'profiler.node']) {
      expect(files).toContain(`dist/ts5/${e}.d.ts`);
      expect(readFileSync(join(ROOT, 'dist', 'ts5', `${e}.d.ts`), 'utf8')).toMatch(/^\/\/\/ <reference types="@webgpu\/types" \/>$/m);
    }
    const refs = (await sh('grep', ['-rl', 'reference types=', join(ROOT, 'dist'), '--include=*.d.ts'], ROOT)).trim().split('\n').map((f) => f.slice(join(ROOT, 'dist').length + 1));
    expect(refs.sort()).toEqual(['ts5/index.browser.d.ts', 'ts5/index.d.ts', 'ts5/profiler.d.ts', 'ts5/profiler.node.d.ts']);
    // the Pipeline class users see: no plumbing (a private constructor without parameters, #private state), and
    // tessera's internal factory and accessors (@internal) stripped from the declarations
    const pipelineDts = readFileSync(join(ROOT, 'dist', 'pipeline', 'pipeline.d.ts'), 'utf8');
    const cls = pipelineDts.slice(pipelineDts.indexOf('export declare class Pipeline<'));
    expect(cls.slice(0, cls.indexOf('\n}\n'))).toMatch(/^ {4}private constructor\(\);$/m);
    for (const hidden of ['exclusive', 'checkOpen', 'checkGenerate', 'tokenizer', 'unrunTextEncoder', 'fixedDtype', 'onWarning', 'serial']) {
      expect(cls.slice(0, cls.indexOf('\n}\n')), `Pipeline.${hidden} in dist/pipeline/pipeline.d.ts`).not.toMatch(new RegExp(`^ {4}(private )?(readonly )?(get )?${hidden}\\b`, 'm'));
    }
    expect(pipelineDts).not.toMatch(/createPipeline|pipelineInternals|PipelineParts|PipelineInternals/);
    for (const [sub, conds] of Object.entries(pkg.exports as Record<string, Record<string, unknown>>)) {
      for (const [cond, v] of Object.entries(conds)) {
        if (typeof v !== 'object' || v === null) continue;
        const { types, 'types@<6': ts5 } = v as Record<string, string>;
        expect(ts5, `exports["${sub}"].${cond}`).toBe(types!.replace('./dist/', './dist/ts5/'));
        expect(Object.keys(v)[0], `exports["${sub}"].${cond}: "types@<6" must come before "types"`).toBe('types@<6');
      }
    }
  }, 180_000);

  it('installs without webgpu; imports by name; says what to install when a GPU is asked for', async () => {
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], app);
    expect(existsSync(join(app, 'node_modules', 'webgpu'))).toBe(false); // optional peer: not pulled in
    expect(existsSync(join(app, 'node_modules', 'tsx'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', '@types', 'dom-webcodecs'))).toBe(false);
    // the declarations import no package whose own types break a strict consumer
    const dts = (await sh('grep', ['-rlE', "from '(@huggingface/tokenizers|mediabunny)'", join(app, 'node_modules', 'tessera', 'dist'), '--include=*.d.ts'], app).catch(() => '')).trim();
    expect(dts).toBe('');
    const names = (await sh(process.execPath, ['--input-type=module', '-e', "import * as t from 'tessera'; console.log(Object.keys(t).sort().join(','))"], app)).trim();
    for (const n of ['loadModel', 'generate', 'acquireGpu', 'makeScheduler', 'nodeFolder']) expect(names.split(',')).toContain(n);
    // profiler and kernel-editing internals are the `tessera/profiler` entry only
    const prof = await sh(process.execPath, ['--input-type=module', '-e', "import * as t from 'tessera/profiler'; console.log(Object.keys(t).sort().join(','))"], app);
    for (const n of ['profilePlan', 'kernelTable', 'chromeTrace', 'Plan', 'kernelRegistry', 'setKernelSource', 'deviceCeiling']) {
      expect(prof.trim().split(','), n).toContain(n);
      expect(names.split(','), n).not.toContain(n);
    }
    // the browser entry never pulls in the Node-only `webgpu` package
    const browser = readFileSync(join(app, 'node_modules', 'tessera', 'dist', 'index.browser.js'), 'utf8');
    expect(browser).not.toMatch(/node-env|from 'webgpu'|node:/);

    const lib = await spawnAsync(process.execPath, ['--input-type=module', '-e', "import { acquireGpu } from 'tessera'; try { await acquireGpu(); } catch (e) { console.log(e.name + ': ' + e.message); }"], app);
    expect(lib.stdout).toContain(`GpuUnavailableError: `);
    expect(lib.stdout).toContain(`npm install webgpu@${WEBGPU_VERSION}`);

    const cli = await spawnAsync(join(app, 'node_modules', '.bin', 'tessera'), ['info'], app);
    expect(cli.status).toBe(1);
    expect(cli.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^tessera: error: GpuUnavailableError: .*npm install webgpu@${WEBGPU_VERSION.replace(/\./g, '\\.')}$`))]);
  }, 300_000);

  it("strict TypeScript consumers (Node, Node with bundler resolution, browser, and the README's example) compile against the shipped declarations without skipLibCheck, on TypeScript 5.1, 5.9 and 7.x", async () => {
    // TypeScript 7 declares WebGPU in lib.dom, as 6 does; the checkout builds with 5.9. 5.1 is the oldest the
    // README promises (typed arrays without a type argument: Uint8Array<ArrayBuffer> is TS2315 there). Both are
    // pinned ones `npm ci` installs (workspaces tests/integration/ts7 and ts51, in the lockfile): nothing is fetched here
    const ts7 = join(ROOT, 'tests', 'integration', 'ts7', 'node_modules', 'typescript');
    const ts51 = join(ROOT, 'tests', 'integration', 'ts51', 'node_modules', 'typescript');
    for (const d of [ts7, ts51]) expect(existsSync(d), `${d} (run npm ci)`).toBe(true);
    const checkout = join(ROOT, 'node_modules', 'typescript');
    const versions = [checkout, ts51, ts7];
    const major = (d: string) => JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).version as string;
    expect(versions.map((d) => major(d).split('.').slice(0, 2).join('.'))).toEqual([expect.stringMatching(/^5\.(7|8|9)$/), '5.1', expect.stringMatching(/^7\./)]);
    // writeSafetensors' bytes go into a Blob as they are (they are over an ArrayBuffer: on 5.7+ a plain
    // Uint8Array, i.e. Uint8Array<ArrayBufferLike>, is refused there)
    const use = `import { loadModel, acquireGpu, generate, writeSafetensors, type ForwardInputs } from 'tessera';
import { profilePlan, type ProfileRun } from 'tessera/profiler';
export const p: (...a: Parameters<typeof profilePlan>) => Promise<ProfileRun> = profilePlan;
const f: (s: string) => Promise<unknown> = loadModel;
const i: ForwardInputs | null = null;
export async function dev(): Promise<GPUDevice> { return (await acquireGpu()).device; }
export const file = new Blob([writeSafetensors([{ name: 'x', dtype: 'F32', shape: [1], data: new Float32Array(1) }])]);
export { f, i, generate };
`;
    const base = { strict: true, noEmit: true, skipLibCheck: false, target: 'es2022' };
    const node = join(app, 'ts-node');
    mkdirSync(node, { recursive: true });
    writeFileSync(join(node, 'use.ts'), use);
    writeFileSync(join(node, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(node, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...base, module: 'nodenext', moduleResolution: 'nodenext' }, files: ['use.ts', 'readme.ts'] }));
    // the README's library example, as written (it reads its own input tensors)
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const snippet = /```ts\n(import \{ loadModel[\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet, "README's ```ts library example").toBeDefined();
    // then the prose's `videoToFrames(video)`: generate's declared result has video for a decoding call
    const readmeTs = `import { videoToFrames } from 'tessera';\n${snippet}\nexport const frames = [videoToFrames(video), videoToFrames(v2), videoToFrames(v3)];\n`;
    writeFileSync(join(node, 'readme.ts'), readmeTs);
    // a Node project with bundler resolution: the README says to add customConditions ["node"] (bundler sets no
    // `node` condition, so the browser types would come, without nodeFolder & co.)
    expect(readme).toContain('`"customConditions": ["node"]`');
    const bundlerNode = join(app, 'ts-bundler-node');
    mkdirSync(bundlerNode, { recursive: true });
    writeFileSync(join(bundlerNode, 'use.ts'), use);
    writeFileSync(join(bundlerNode, 'readme.ts'), readmeTs);
    const bundlerOptions = { ...base, module: 'esnext', moduleResolution: 'bundler' };
    writeFileSync(join(bundlerNode, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...bundlerOptions, customConditions: ['node'] }, files: ['use.ts', 'readme.ts'] }));
    const web = join(app, 'ts-web');
    mkdirSync(web, { recursive: true });
    writeFileSync(join(web, 'use.ts'), use);
    // a browser project: DOM lib, bundler resolution with the browser condition, no Node types at all
    writeFileSync(join(web, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...base, module: 'esnext', moduleResolution: 'bundler', customConditions: ['browser'], lib: ['es2022', 'dom'], types: [] }, files: ['use.ts'] }));
    for (const ts of versions) {
      // export conditions resolve alike on every version: the bundler-resolution Node project once, on the checkout's
      for (const dir of ts === checkout ? [node, bundlerNode, web] : [node, web]) {
        const r = await tsc(dir, ts);
        expect(r.stdout + r.stderr, `${dir}, TypeScript ${major(ts)}`).toBe('');
        expect(r.status).toBe(0);
      }
    }
    // the README's reason: without the condition, the browser types and no nodeFolder
    writeFileSync(join(bundlerNode, 'tsconfig.json'), JSON.stringify({ compilerOptions: bundlerOptions, files: ['use.ts', 'readme.ts'] }));
    const r = await tsc(bundlerNode, checkout);
    expect(r.stdout).toMatch(/readme\.ts\(\d+,\d+\): error TS2724: '"tessera"' has no exported member named 'nodeFolder'/);
  }, 480_000);

  it('with webgpu installed: the installed CLI runs dist/ quietly, writes nothing into node_modules, and passes a golden case', async () => {
    await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `webgpu@${WEBGPU_VERSION}`], app);
    const pkgDir = join(app, 'node_modules', 'tessera');
    expect(existsSync(join(pkgDir, 'src'))).toBe(false);
    const before = snapshot(pkgDir);
    const bin = join(app, 'node_modules', '.bin', 'tessera');
    const info = await spawnAsync(bin, ['info'], app);
    if (hasGpu) {
      expect(info.status).toBe(0);
      expect(info.stdout).toMatch(/^adapter /);
      expect(info.stderr).toBe(''); // no Dawn "Warning: maxDynamic…" lines
      const c = loadCase('dit_small');
      const { rel, stderr } = await runCase('dit_small', [], [bin]);
      expect(rel).toBeLessThanOrEqual(goldenF32Tol(c.tolerance.max));
      expect(stderr).not.toMatch(/Warning:/);
    }
    expect(snapshot(pkgDir)).toEqual(before);
  }, 300_000);
});
