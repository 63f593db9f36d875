// What a new user sees from the CLI (spawned, so an integration test): no Dawn start-up warnings,
// plain progress lines when stderr is not a terminal, a --seed / latents conflict refused up front,
// a reader that closes stdout early (`tessera info | head`) ends the command quietly.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { cli, filesIn, FIXTURES, ROOT, tempDir } from '../hardening/helpers.js';
import { tesseraInProcess } from '../helpers/cli.js';
import { parseArgs } from '../../src/cli/args.js';
import { loadCommands } from '../../src/cli/main.js';

// every command's module (tessera's own run imports only the one it runs: main.ts)
const commands = await loadCommands();

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
    const r0 = await cli([...base(out), '--steps', '2', '--quiet']);
    expect(r0.code, r0.stderr).toBe(0);
    expect(r0.stdout).toBe('');
    // all of stderr (errLines would drop progress lines): the one result line
    expect(r0.stderr.split('\n')).toEqual([expect.stringMatching(new RegExp(`^wrote ${out.replace(/[.]/g, '\\.')}: latents \\[1,4,2,6,8\\] after 2 steps of FlowMatchEulerDiscreteScheduler \\(wan 2 layers`)), '']);
    // -q: the parse main() acts on is --quiet's (main reads only p.quiet; a second generate run checked the same)
    const spec = commands.find((c) => c.spec.name === 'generate')!.spec;
    expect(parseArgs(spec, [...base(out).slice(1), '--steps', '2', '-q'])).toEqual(parseArgs(spec, [...base(out).slice(1), '--steps', '2', '--quiet']));
    expect(parseArgs(spec, [...base(out).slice(1), '-q']).quiet).toBe(true);
    // without it, the progress is still there (the next test reads the same run)
    const r = await plain();
    expect(r.stderr.split('\n').filter((l) => /^(denoising|compiling kernels) /.test(l)).length).toBeGreaterThan(2);
  }, 240_000);

  it('stderr not a terminal: one plain progress line per step, no carriage returns', async () => {
    const r = await plain();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('\r');
    const lines = r.stderr.split('\n').filter((l) => /^denoising \d+\/\d+/.test(l));
    expect(lines.map((l) => l.replace(/  [\d.]+ s elapsed$/, ''))).toEqual(['denoising 1/2', 'denoising 2/2']);
    expect(existsSync(r.out)).toBe(true);
  });

  it('--quiet: generate with the embedded pipeline drops the stage lines too (encoding the prompt, decoding with), only the wrote line', async () => {
    // (that a run without --quiet prints the two stage lines is checked on generate-flags-cli.test.ts's
    // embedded --batch 2 run, which this test spawned a second time here)
    const out = join(tempDir(), 'e.safetensors');
    // one frame: the stages are the same, the VAE decodes one latent frame instead of three
    const r = await cli(['generate', '--steps', '2', '--frames', '1', '--out', out, '-q'], {}, 200_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toEqual([expect.stringMatching(/^wrote .*e\.safetensors: latents \[1,16,1,8,8\], video \[1,1,32,32,3\] \(F32 in \[0,1\]\) after 2 steps in [\d.]+ s \(WanPipeline, /), '']);
  }, 240_000);

  it('--quiet is in the help of the commands that print progress, and refused by the others', async () => {
    // through the CLI's entry in this process: a help text or a refusal needs no process of its own
    for (const cmd of [['generate'], ['forward'], ['demo'], ['decode'], ['encode'], ['tune'], ['bench', 'gemm'], ['bench', 'plan']]) {
      const r = await tesseraInProcess([...cmd, '--help']);
      expect(r.code, cmd.join(' ')).toBe(0);
      expect(r.stdout, cmd.join(' ')).toMatch(/^ {2}--quiet {2,}no progress or informational lines on stderr .*errors, warnings and the results still print \(also -q\)$/m);
    }
    const r = await tesseraInProcess(['info', '-q']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('tessera: error: UsageError: tessera info: unexpected argument "-q"\n');
  }, 240_000);

  it('counts of one are singular: demo --preset dit-tiny (an image model) wrote "1 frame", not "1 frames"', async () => {
    const dir = tempDir();
    // one step and one profiled repeat: less work, and two more counts of one that must be singular
    const r = await cli(['demo', '--preset', 'dit-tiny', '--steps', '1', '--repeats', '1', '--out', join(dir, 'o')], {}, 200_000);
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
