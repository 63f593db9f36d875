// Decode progress on stderr (audit H item 3: a long `tessera decode` printed nothing after "compiling kernels"):
// `tessera decode` shows "decoding frames i/N" (images for image latents), plain lines off a terminal (the
// first, at most one a second, the last), and nothing with --quiet, which still writes the output.
import '../helpers/optimised-compile.js'; // first: the optimised lavapipe compile (run time dominates here)
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'tessera-decode-progress-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function tessera(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    // stderr is a pipe here: the plain-line form (TESSERA_STDERR_TTY cleared in case the runner's is a terminal)
    const r = await run(process.execPath, [join(ROOT, 'bin', 'tessera.mjs'), ...args], { cwd: ROOT, env: { ...process.env, XDG_RUNTIME_DIR: '/tmp', TESSERA_STDERR_TTY: '' } });
    return { code: 0, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

const decodeArgs = (fixture: string, out: string) => ['decode', '--vae', join(FIXTURES, fixture, 'vae'), '--inputs', join(FIXTURES, fixture, 'inputs.safetensors'), '--out', out];
const progressLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('decoding '));

describe.skipIf(!hasGpu)('decode progress (CLI)', () => {
  it('tessera decode, video latents (wan_vae_small: 3 latent frames, 9 frames): "decoding frames 1/9" … "9/9"; --quiet: none', async () => {
    const out = join(tmp, 'wan.safetensors');
    let r = await tessera(decodeArgs('wan_vae_small', out));
    expect(r.code, r.stderr).toBe(0);
    const lines = progressLines(r.stderr);
    expect(lines[0]).toMatch(/^decoding frames 1\/9  \d+\.\d s$/);
    expect(lines.at(-1)).toMatch(/^decoding frames 9\/9  \d+\.\d s$/);
    // after the kernels compile, before the result line
    expect(r.stderr.indexOf('decoding frames 1/9')).toBeGreaterThan(r.stderr.indexOf('compiling kernels'));
    expect(r.stderr.indexOf('decoding frames 9/9')).toBeLessThan(r.stderr.indexOf(`wrote ${out}`));
    rmSync(out);
    r = await tessera([...decodeArgs('wan_vae_small', out), '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/decoding|compiling kernels/);
    expect(r.stderr).toMatch(/^wrote .*wan\.safetensors: sample \[1,3,9,32,32\]/m);
    expect(existsSync(out)).toBe(true);
  }, 300_000);

  it('tessera decode, image latents (sd_vae_small [1,4,H,W]): "decoding images 1/1"', async () => {
    const r = await tessera(decodeArgs('sd_vae_small', join(tmp, 'sd.safetensors')));
    expect(r.code, r.stderr).toBe(0);
    expect(progressLines(r.stderr)).toEqual([expect.stringMatching(/^decoding images 1\/1  \d+\.\d s$/)]);
  }, 300_000);
});
