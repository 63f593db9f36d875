// Session 23: the first denoising step of a big model on a CPU adapter ran for minutes with nothing between
// "denoising 0/N" and "1/N". generate (the embedded pipeline here; --pipeline and --model wire the same hook) now draws
// the blocks of the step under way on the bar: "denoising [....] 0/2  step 1: block 3/4  1.3 s elapsed". Run as the
// launcher's child with a terminal's TESSERA_STDERR_TTY (the bar's terminal form draws every update; off a terminal a
// block line comes only DETAIL_EVERY_S seconds after the last line, which a short step never reaches).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';

const root = join(import.meta.dirname, '..', '..');

function child(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [join(root, 'bin', 'tessera.mjs'), ...args], { cwd: root, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', TESSERA_CLI_CHILD: '1', TESSERA_STDERR_TTY: '80' } });
    let stderr = '';
    const timer = setTimeout(() => c.kill('SIGKILL'), 240_000);
    c.stdout.resume();
    c.stderr.on('data', (d) => (stderr += d));
    c.on('error', reject);
    c.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe.skipIf(!hasGpu)('CLI: the denoising bar inside a step', () => {
  it('embedded generate: step 1\'s four blocks in order, then the steps', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tessera-s23-blocks-')), 'o.safetensors');
    const r = await child(['generate', '--steps', '2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const bar = r.stderr
      .split(/[\r\n]/)
      .map((l) => l.trimEnd())
      .filter((l) => l.startsWith('denoising ['))
      .map((l) => l.replace(/^denoising \[[#.]+\] /, '').replace(/ {2}\d+\.\d s elapsed$/, ''));
    // the embedded transformer has 4 layers; step 2 follows a step of under blockProgressMinMs here, or reports its own blocks
    expect(bar.slice(0, 5)).toEqual(['0/2  step 1: block 1/4', '0/2  step 1: block 2/4', '0/2  step 1: block 3/4', '0/2  step 1: block 4/4', '1/2']);
    expect(bar.at(-1)).toBe('2/2');
    expect(bar.filter((l) => !/^(1\/2  step 2: block [1-4]\/4|2\/2)$/.test(l)).length).toBe(5);
  }, 300_000);
});
