// Hardening tests: spawn the CLI, and make corrupted copies of the golden fixtures (config,
// weights, inputs) in temporary folders.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { readInputs, type InputTensor } from '../../src/io/inputs.js';
import { writeSafetensors, type WriteTensor } from '../../src/io/safetensors.js';
import { killedLine } from '../helpers/cli.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';

export { FIXTURES, ROOT };

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stderr without progress lines ("denoising 2/3  1.4 s elapsed", printed when stderr is not a terminal) and any Dawn "Warning: …" line. */
  errLines: string[];
}

/**
 * Runs `node bin/tessera.mjs ...args`; never rejects (the exit code is in the result). Killed after `timeoutMs`
 * (code -1, and stderr ends with a line saying so): by default 110 s, just under the unit project's test timeout,
 * only to end a hung run. It was 60 s, which a legitimate run can reach on 2 loaded cores: `generate --steps 2` of
 * the embedded pipeline took 32 s there (cli-ux, a CPU hog beside, cold caches), one of two cli() calls of a case 19 s.
 */
export function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 110_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'tessera.mjs'), ...args], { cwd: ROOT, env: { ...process.env, XDG_RUNTIME_DIR: '/tmp', ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      if (err?.killed) stderr += `${killedLine(timeoutMs)}\n`;
      const errLines = stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Warning: ') && !/^[\w ]+ \d+\/\d+  \d+\.\d s( elapsed)?$/.test(l));
      resolve({ code, stdout, stderr, errLines });
    });
  });
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tessera-hardening-'));
  dirs.push(d);
  return d;
}

/** Every file of a temp dir (to assert that nothing, not even a temp file, was left behind). */
export const filesIn = (dir: string): string[] => readdirSync(dir);

/** A copy of tests/fixtures/<name>/model with config.json edited by `edit`. */
export function modelWithConfig(name: string, edit: (c: Record<string, unknown>) => void): string {
  const dir = join(tempDir(), 'model');
  cpSync(join(FIXTURES, name, 'model'), dir, { recursive: true });
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  edit(c);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
  return dir;
}

const toWrite = (name: string, t: InputTensor): WriteTensor =>
  t.f32 ? { name, dtype: 'F32', shape: t.shape, data: t.f32 } : { name, dtype: 'I64', shape: t.shape, data: t.i64! };

/** Rewrites a safetensors file's tensors through `edit` (a map name → tensor) into `out`. */
export async function rewriteTensors(src: string, out: string, edit: (m: Map<string, InputTensor>) => void): Promise<string> {
  const m = await readInputs(src);
  edit(m);
  writeFileSync(out, writeSafetensors([...m].map(([k, t]) => toWrite(k, t))));
  return out;
}

/** A copy of tests/fixtures/<name>/model whose weights were edited by `edit`. */
export async function modelWithWeights(name: string, edit: (m: Map<string, InputTensor>) => void): Promise<string> {
  const dir = join(tempDir(), 'model');
  cpSync(join(FIXTURES, name, 'model'), dir, { recursive: true });
  const f = join(dir, 'diffusion_pytorch_model.safetensors');
  await rewriteTensors(join(FIXTURES, name, 'model', 'diffusion_pytorch_model.safetensors'), f, edit);
  return dir;
}

/** tests/fixtures/<name>/inputs.safetensors edited by `edit`, in a temp dir. */
export function inputsWith(name: string, edit: (m: Map<string, InputTensor>) => void): Promise<string> {
  return rewriteTensors(join(FIXTURES, name, 'inputs.safetensors'), join(tempDir(), 'inputs.safetensors'), edit);
}
