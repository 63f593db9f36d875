// What a new user sees from the CLI (spawned, so an integration test): no Dawn start-up warnings,
// plain progress lines when stderr is not a terminal, a --seed / latents conflict refused up front,
// a reader that closes stdout early (`tessera info | head`) ends the command quietly.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { cli, filesIn, FIXTURES, ROOT, tempDir } from '../hardening/helpers.js';

const c = join(FIXTURES, 'wan_sampler_small');
const base = (out: string) => ['generate', '--model', join(c, 'model'), '--inputs', join(c, 'inputs.safetensors'), '--out', out, '--scheduler', 'flow-match-euler', '--guidance', '4', '--shift', '2'];
// One plain generate (no --quiet) of the fixture, run once for the two tests that read it: the
// --quiet test's control run after its quiet runs, and the plain-progress test (issue 8: a cold
// `npm test` ran this same command twice).
let plainRun: Promise<Awaited<ReturnType<typeof cli>> & { out: string }> | undefined;
const plain = () =>
  (plainRun ??= (async () => {
    const out = join(tempDir(), 'out.safetensors');
    return { ...(await cli([...base(out), '--steps', '2'])), out };
  })());

describe.skipIf(!hasGpu)('CLI as a new user sees it', () => {
  it('no Dawn "Warning: maxDynamic…" lines on stderr', async () => {
    const r = await cli(['info']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('stdout closed by its reader before the output (tessera info | head): exit 0, no EPIPE stack trace', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'tessera.mjs'), 'info'], { cwd: ROOT, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
    child.stdout.destroy(); // the reader is gone before the first line: every write fails with EPIPE
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('--quiet (-q): generate prints only its result line on stderr (no denoising or compiling lines), stdout empty', async () => {
    const dir = tempDir();
    const out = join(dir, 'out.safetensors');
    for (const q of ['--quiet', '-q']) {
      const r = await cli([...base(out), '--steps', '2', q]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('');
      // all of stderr (errLines would drop progress lines): the one result line
      expect(r.stderr.split('\n')).toEqual([expect.stringMatching(new RegExp(`^wrote ${out.replace(/[.]/g, '\\.')}: latents \\[1,4,2,6,8\\] after 2 steps of FlowMatchEulerDiscreteScheduler \\(wan 2 layers`)), '']);
      rmSync(out);
    }
    // without it, the progress is still there (the next test reads the same run)
    const r = await plain();
    expect(r.stderr.split('\n').filter((l) => /^(denoising|compiling kernels) /.test(l)).length).toBeGreaterThan(2);
  }, 240_000);

  it('stderr not a terminal: one plain progress line per step, no carriage returns', async () => {
    const r = await plain();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('\r');
    const lines = r.stderr.split('\n').filter((l) => /^denoising \d+\/\d+/.test(l));
    expect(lines.map((l) => l.replace(/  [\d.]+ s$/, ''))).toEqual(['denoising 1/2', 'denoising 2/2']);
    expect(existsSync(r.out)).toBe(true);
  });

  it('--quiet: generate with the embedded pipeline drops the stage lines too (encoding the prompt, decoding with), only the wrote line', async () => {
    const out = join(tempDir(), 'e.safetensors');
    const loud = await cli(['generate', '--steps', '2', '--out', out], {}, 200_000);
    expect(loud.errLines.filter((l) => /^(encoding the prompt|decoding with) /.test(l))).toHaveLength(2);
    rmSync(out);
    const r = await cli(['generate', '--steps', '2', '--out', out, '-q'], {}, 200_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toEqual([expect.stringMatching(/^wrote .*e\.safetensors: latents \[1,16,3,8,8\], video \[1,9,32,32,3\] \(F32 in \[0,1\]\) after 2 steps in [\d.]+ s \(WanPipeline, /), '']);
  }, 240_000);

  it('--quiet: tune --json with autotuning prints nothing on stderr (no "tuning on", candidate or compile lines), one JSON line on stdout', async () => {
    const cache = tempDir();
    const r = await cli(['tune', '--quick', '--rounds', '1', '--json', '--quiet'], { XDG_CACHE_HOME: cache, TESSERA_TUNE: 'auto' }, 400_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect((JSON.parse(lines[0]!) as { choices: unknown[] }).choices).toHaveLength(2);
  }, 450_000);

  it('--quiet is in the help of the commands that print progress, and refused by the others', async () => {
    for (const cmd of [['generate'], ['forward'], ['demo'], ['decode'], ['encode'], ['tune'], ['bench', 'gemm'], ['bench', 'plan']]) {
      const r = await cli([...cmd, '--help']);
      expect(r.stdout, cmd.join(' ')).toMatch(/^ {2}--quiet {2,}no progress or informational lines on stderr .*errors, warnings and the results still print \(also -q\)$/m);
    }
    const r = await cli(['info', '-q']);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual(['tessera: error: UsageError: tessera info: unexpected argument "-q"']);
  }, 240_000);

  it('counts of one are singular: demo --preset dit-tiny (an image model) wrote "1 frame", not "1 frames"', async () => {
    const dir = tempDir();
    const r = await cli(['demo', '--preset', 'dit-tiny', '--steps', '2', '--out', join(dir, 'o')], {}, 200_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${join(dir, 'o', 'clip.gif')} (1 frame 128×128, latent→RGB preview map "sd15")`);
    expect(r.stdout + r.stderr).not.toMatch(/\b1 (frames|steps|repeats|row band\(s\))\b/);
  }, 240_000);

  it('--seed with latents in the inputs file: refused before any weight is read, nothing written', async () => {
    const dir = tempDir();
    const r = await cli([...base(join(dir, 'out.safetensors')), '--steps', '2', '--seed', '3']);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([expect.stringMatching(/^tessera: error: UsageError: --seed 3 and the tensor "latents" in .*inputs\.safetensors both give the initial noise: drop --seed .* or remove "latents" from the file/)]);
    expect(filesIn(dir)).toEqual([]);
  });
});
