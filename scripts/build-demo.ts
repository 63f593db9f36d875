// Builds the browser profiler demo: examples/profiler/{index.html,style.css,main.ts} →
// examples/profiler/dist/ (one ESM bundle, no Node modules) plus a copy of models/tessera-shapes/
// (the trained pipeline its prompt box runs). `npm run build:demo`.
// The kernel sources are compiled into src/kernels.gen.ts (gitignored), so the generator runs first.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const demoDir = join(root, 'examples', 'profiler');
export const distDir = join(demoDir, 'dist');

export interface DemoBuild {
  dir: string;
  bundle: string;
  /** Every input file of the bundle, relative to the repository root. */
  inputs: string[];
  bytes: number;
}

/** Bundle inputs or imports that must never reach the browser. */
export function forbiddenInputs(inputs: readonly string[], bundleText: string): string[] {
  const bad = inputs.filter((p) => /(^|\/)node_modules\/webgpu\//.test(p) || p.startsWith('node:') || /src\/(index|node-env)\.ts$|src\/gpu\/node\.ts$/.test(p));
  // A `node:` import left in the output (e.g. marked external) would fail in the browser.
  for (const m of bundleText.matchAll(/(?:from\s*|import\s*\(\s*|require\s*\(\s*)["'](node:[\w/]+|webgpu)["']/g)) bad.push(`import of ${m[1]}`);
  return bad;
}

/** Bundles the profiler page with the embedded pipeline's weights into `outDir` (default examples/profiler/dist).
 *  Concurrent builds (parallel test files) need their own `outDir`: a build removes and re-copies the weights. */
export async function buildDemo(opts: { minify?: boolean; quiet?: boolean; outDir?: string } = {}): Promise<DemoBuild> {
  const outDir = opts.outDir ?? distDir;
  execFileSync(process.execPath, [join(root, 'scripts', 'gen-kernels.mjs')], { stdio: 'inherit' });
  mkdirSync(outDir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [join(demoDir, 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: join(outDir, 'main.js'),
    sourcemap: true,
    minify: opts.minify ?? false,
    metafile: true,
    logLevel: opts.quiet ? 'error' : 'warning',
    legalComments: 'none',
  });
  for (const f of ['index.html', 'style.css']) copyFileSync(join(demoDir, f), join(outDir, f));
  // the trained pipeline the page's prompt box runs, served with the page (dist/models/tessera-shapes/);
  // copied afresh so a retrained models/tessera-shapes replaces the old files
  rmSync(join(outDir, 'models'), { recursive: true, force: true });
  const modelDir = join(outDir, 'models', 'tessera-shapes');
  cpSync(join(root, 'models', 'tessera-shapes'), modelDir, { recursive: true });
  const files = (readdirSync(modelDir, { recursive: true }) as string[]).map((f) => f.split(sep).join('/')).filter((f) => statSync(join(modelDir, f)).isFile()).sort();
  writeFileSync(join(modelDir, 'files.json'), JSON.stringify(files));
  const inputs = Object.keys(result.metafile.inputs);
  const out = result.metafile.outputs[relative(process.cwd(), join(outDir, 'main.js')).replace(/\\/g, '/')];
  const bundle = join(outDir, 'main.js');
  const text = readFileSync(bundle, 'utf8');
  const bad = forbiddenInputs(inputs, text);
  if (bad.length) throw new Error(`the browser bundle pulls in Node-only code: ${bad.join(', ')}`);
  return { dir: outDir, bundle, inputs, bytes: out?.bytes ?? text.length };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const b = await buildDemo({ minify: process.argv.includes('--minify') });
  console.log(`built ${relative(root, b.bundle)} (${(b.bytes / 1024).toFixed(0)} KiB, ${b.inputs.length} inputs) + index.html, style.css`);
}
