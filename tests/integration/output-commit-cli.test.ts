// How the CLI writes its outputs, spawned: paths that cannot be created are refused before any GPU
// work (the writer's own temp name is created and removed there); all outputs of a run are renamed
// together once all are written, so a failed run leaves none (nor a folder it created) and its
// retry is not blocked; SIGINT/SIGTERM while writing remove every temp, stop ffmpeg, remove the
// folders the run created and end the command by the signal (exit 130/143); the GIF lasts
// frames/fps. (demo's "wrote:" list, in a fixed order, saying "no clip.mp4" once: demo-cli.test.ts.)
// A stand-in ffmpeg on the PATH (answers -version/-encoders, then writes its output and fails or
// hangs) holds a run in the writing stage for as long as the test needs.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tesseraCli, tesseraInProcess } from '../helpers/cli.js';
import { hasGpu } from '../helpers/gpu.js';
import { fakeFfmpeg, hasFfmpeg, probeClip } from '../helpers/media.js';
import { ROOT, tempDir } from '../hardening/helpers.js';

/** stderr lines that are not progress ("denoising 1/1  3.6 s elapsed", "compiling kernels 9/9  0.4 s", the stage lines). */
const errors = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('tessera: error'));

// CI installs ffmpeg (scripts/setup.sh) and fails without it; elsewhere a missing ffmpeg skips the GIF's ffprobe check with a warning.
const runFfmpeg = hasFfmpeg || !!process.env['CI'];
if (!runFfmpeg) console.warn('\n*** tests/integration/output-commit-cli.test.ts: no ffmpeg on the PATH, ffprobe of the --preview GIF SKIPPED (bash scripts/setup.sh installs it) ***\n');

/**
 * A stand-in ffmpeg in DIR/bin: writes "partial" to its output, then records its pid in DIR/ffmpeg.pid
 * (written whole, then renamed: it appears with the pid in it), then fails (mode 'fail') or sleeps.
 */
function partialFfmpeg(d: string, mode: 'fail' | 'hang'): string {
  const pid = join(d, 'ffmpeg.pid');
  return fakeFfmpeg(d, ['echo partial > "$last"', `echo $$ > ${pid}.part && mv ${pid}.part ${pid}`, mode === 'fail' ? 'echo "Conversion failed: fake" >&2; exit 1' : 'exec sleep 300']);
}

/** Whether process `pid` is gone (or a zombie waiting to be reaped). */
function gone(pid: number): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ')'));
  } catch {
    return true;
  }
}

/**
 * Runs `tessera ...args` under bash, sends `sig` to it once the stand-in ffmpeg has started (its
 * `pidFile` is there), and gives the exit status bash saw ($? of the command) and the first file
 * named like `watch` (a find -name pattern) under `under` at that moment. Not on the temp's name
 * itself: the CLI's pre-flight check makes and removes that same name before any GPU work.
 */
function interrupt(args: string[], o: { pidFile: string; under: string; watch: string; sig: 'INT' | 'TERM'; path: string }): Promise<{ status: number; stderr: string; seen: string }> {
  const script = [
    'node bin/tessera.mjs "$@" 2>"$ERR" & P=$!',
    'until [ -e "$PIDFILE" ]; do kill -0 $P 2>/dev/null || break; sleep 0.02; done',
    'find "$UNDER" -name "$WATCH" | head -1 >&2',
    'kill -$SIG $P; wait $P; echo "status=$?"',
  ].join('\n');
  const err = join(tempDir(), 'stderr');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script, 'bash', ...args], { cwd: ROOT, env: { ...process.env, XDG_RUNTIME_DIR: '/tmp', PATH: o.path, ERR: err, PIDFILE: o.pidFile, UNDER: o.under, WATCH: o.watch, SIG: o.sig } });
    let out = '';
    let seen = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (seen += d));
    child.on('error', reject);
    child.on('close', () => resolve({ status: Number(/status=(\d+)/.exec(out)?.[1] ?? NaN), stderr: existsSync(err) ? readFileSync(err, 'utf8') : '', seen: seen.trim() }));
  });
}

describe('outputs that cannot be created are refused before any GPU work, naming the flag, the path and why', () => {
  const long = 'd'.repeat(250);
  it.each([
    [['generate', '--steps', '1', '--out', `DIR/${long}.safetensors`], `--out DIR/${long}.safetensors: cannot write it: the file name is too long for the file system (262 bytes; at most 255)`],
    [['generate', '--steps', '1', '--out', '/proc/x.safetensors'], '--out /proc/x.safetensors: cannot write it: the folder does not take new files (ENOENT: e.g. /proc or /sys)'],
    [['generate', '--steps', '1', '--out', 'DIR/o.safetensors', '--preview', '/proc/p.gif'], '--preview /proc/p.gif: cannot write it: the folder does not take new files (ENOENT: e.g. /proc or /sys)'],
    [['generate', '--steps', '1', '--out', 'DIR/o.safetensors', '--frames-dir', '/proc/tessera-frames/sub'], '--frames-dir /proc/tessera-frames/sub: cannot create the folder: the folder above does not take new folders (ENOENT: e.g. /proc or /sys)'],
    [['bench', 'gemm', '--m', '64', '--k', '64', '--n', '64', '--trace', '/proc/t.json'], '--trace /proc/t.json: cannot write it: the folder does not take new files (ENOENT: e.g. /proc or /sys)'],
    [['demo', '--out', '/proc/tessera-demo'], '--out /proc/tessera-demo: cannot create the folder: the folder above does not take new folders (ENOENT: e.g. /proc or /sys)'],
    [['demo', '--out', `DIR/${'e'.repeat(256)}`], `--out DIR/${'e'.repeat(256)}: cannot create the folder: the file name is too long for the file system (256 bytes; at most 255)`],
  ])('%j', async (args, message) => {
    // through the CLI's entry in this process (main(), whose return the launcher exits with): the refusal
    // comes before any GPU work, where a spawn only added two Node starts and a module load; the first case
    // is also spawned below, for the exit status and stderr a shell sees
    const d = tempDir();
    const r = await tesseraInProcess(args.map((a) => a.replace('DIR', d)));
    expect(r.stderr.trim(), r.stderr).toBe(`tessera: error: UsageError: ${message.replace('DIR', d)}`);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(readdirSync(d)).toEqual([]);
  });

  it('spawned: exit 2, the one line on stderr, nothing left in the folder', async () => {
    const d = tempDir();
    const r = await tesseraCli(['generate', '--steps', '1', '--out', join(d, `${long}.safetensors`)]);
    expect(r.stderr.trim(), r.stderr).toBe(`tessera: error: UsageError: --out ${join(d, long)}.safetensors: cannot write it: the file name is too long for the file system (262 bytes; at most 255)`);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(readdirSync(d)).toEqual([]);
  });
});

describe.skipIf(!hasGpu)('outputs of one run are committed together', () => {
  // One test, two runs (a third generate, of the same outputs, ran for the 250-character name alone): the failed
  // --video run, then its retry without --video, which writes the 250-character --out beside --preview and --frames-dir.
  it('a failed --video leaves no output, nor the --frames-dir it created, and keeps the earlier --out; the retry is not blocked and writes a 250-character --out (its temp name cut to fit) beside --preview and --frames-dir; the GIF lasts frames/fps', async () => {
    const d = tempDir();
    const bin = partialFfmpeg(d, 'fail');
    const name = 'd'.repeat(250);
    const out = join(d, name);
    writeFileSync(out, 'an earlier run');
    const args = ['generate', '--steps', '1', '--out', out, '--preview', join(d, 'p.gif'), '--frames-dir', join(d, 'fd', 'sub')];
    const r = await tesseraCli([...args, '--video', join(d, 'v.mp4')], { env: { ...process.env, XDG_RUNTIME_DIR: '/tmp', PATH: `${bin}:${process.env.PATH}` } });
    expect(errors(r.stderr)).toEqual([`tessera: error: EncoderError: ffmpeg 0.0-fake failed to encode ${join(d, 'v.mp4')} (exit 1): Conversion failed: fake`]);
    expect(r.code).toBe(1);
    expect(readdirSync(d).sort()).toEqual(['bin', name, 'ffmpeg.pid']);
    expect(readFileSync(out, 'utf8')).toBe('an earlier run');
    // the same command without --video: no "already holds 9 frame PNGs from an earlier run"
    const again = await tesseraCli(args);
    expect(errors(again.stderr), again.stderr).toEqual([]);
    expect(again.code).toBe(0);
    expect(readdirSync(d).sort()).toEqual(['bin', name, 'fd', 'ffmpeg.pid', 'p.gif']);
    expect(readdirSync(join(d, 'fd', 'sub'))).toHaveLength(9);
    expect(readFileSync(out).subarray(8, 9).toString()).toBe('{'); // safetensors header now
    expect(again.stderr).toContain(`wrote ${join(d, 'p.gif')}: 9 frames 32×32 at 16 fps, decoded by the VAE; animated GIF via gifenc`);
    // GIF delays are centiseconds: 6/7 alternate, so 9 frames at 16 fps last 0.5625 s to within 1 cs (6 cs each: 0.54 s, 16.67 fps)
    if (runFfmpeg) {
      const f = probeClip(join(d, 'p.gif'));
      expect(Math.abs(f.duration - 9 / 16), `${f.duration} s`).toBeLessThanOrEqual(0.01);
      expect(f).toMatchObject({ frames: 9, rFrameRate: '16/1' });
    }
  }, 300_000);
});

describe.skipIf(!hasGpu)('a signal while the outputs are written', () => {
  it('SIGINT while ffmpeg encodes: exit 130, no temp and no output left, the created --frames-dir gone, ffmpeg stopped', async () => {
    const d = tempDir();
    const bin = partialFfmpeg(d, 'hang');
    const w = join(d, 'w');
    mkdirSync(w);
    const r = await interrupt(['generate', '--steps', '1', '--out', join(w, 'o.safetensors'), '--preview', join(w, 'p.gif'), '--frames-dir', join(w, 'fd', 'sub'), '--video', join(w, 'v.mp4')], { pidFile: join(d, 'ffmpeg.pid'), under: w, watch: 'v.mp4.tmp-*', sig: 'INT', path: `${bin}:${process.env.PATH}` });
    expect(r.seen).toMatch(/\/v\.mp4\.tmp-\d+$/); // the signal came while the temps were there
    expect(errors(r.stderr), r.stderr).toEqual([]);
    expect(r.status).toBe(130);
    expect(readdirSync(w)).toEqual([]);
    expect(gone(Number(readFileSync(join(d, 'ffmpeg.pid'), 'utf8')))).toBe(true);
  }, 300_000);

  // (that a demo without ffmpeg then lists its files in a fixed order, saying "no clip.mp4" once, is checked on
  // demo-cli.test.ts's run without ffmpeg: this test ran a second demo for it)
  it('SIGTERM during demo\'s writes: exit 143, the --out folders it created are removed with the temps', async () => {
    const d = tempDir();
    const bin = partialFfmpeg(d, 'hang');
    const out = join(d, 'new', 'out');
    const r = await interrupt(['demo', '--steps', '1', '--repeats', '1', '--out', out], { pidFile: join(d, 'ffmpeg.pid'), under: d, watch: 'clip.mp4.tmp-*', sig: 'TERM', path: `${bin}:${process.env.PATH}` });
    expect(r.seen).toMatch(/\/new\/out\/clip\.mp4\.tmp-\d+$/);
    expect(errors(r.stderr), r.stderr).toEqual([]);
    expect(r.status).toBe(143);
    expect(readdirSync(d).sort()).toEqual(['bin', 'ffmpeg.pid']);
    expect(gone(Number(readFileSync(join(d, 'ffmpeg.pid'), 'utf8')))).toBe(true);
  }, 300_000);
});
