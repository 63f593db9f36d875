// Output names on the command line, spawned: an existing output that is not a regular file (a FIFO,
// a link to a device, a link through /proc such as /dev/stdout) is refused before any GPU work
// with one line and exit 2, and is left as it was; a symlink output is written through (its target
// replaced, the link kept); names ffmpeg would read as an option or a protocol (-x.mp4, file:z.mp4,
// pipe:1.gif) are written under exactly those names; a failed ffmpeg (a full disk) is quoted by
// the line that says why and leaves none of the run's outputs and no temp file.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { fakeFfmpeg, hasFfmpeg } from '../helpers/media.js';
import { ROOT, tempDir } from '../hardening/helpers.js';

const BIN = join(ROOT, 'bin', 'tessera.mjs');
const HINT = 'tessera writes each output as a file (to a temp beside it, renamed over it), not to a device or a stream: give a file path';

/** `tessera ...args` run in folder `cwd` (relative output names land there). */
function cliIn(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, XDG_RUNTIME_DIR: '/tmp', ...env } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const errors = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('tessera: error'));
// CI installs ffmpeg (scripts/setup.sh) and fails without it; elsewhere a missing ffmpeg skips with a warning.
const runFfmpeg = hasFfmpeg || !!process.env['CI'];
if (!runFfmpeg) console.warn('\n*** tests/integration/output-paths-cli.test.ts: no ffmpeg on the PATH, -x.mp4 / file:z.mp4 written by ffmpeg SKIPPED (bash scripts/setup.sh installs it) ***\n');
const temps = (d: string) => readdirSync(d).filter((f) => f.includes('.tmp-'));

describe('an output that is not a regular file is refused before any work, exit 2, and left as it was', () => {
  const d = tempDir();
  execFileSync('mkfifo', [join(d, 'fifo')]);
  symlinkSync('/dev/null', join(d, 'null.safetensors'));
  symlinkSync('/proc/self/fd/1', join(d, 'stdout.safetensors'));
  execFileSync('mkfifo', [join(d, 'v.mp4')]);
  mkdirSync(join(d, 'demo'));
  execFileSync('mkfifo', [join(d, 'demo', 'clip.gif')]);
  mkdirSync(join(d, 'demo-folder', 'trace.json'), { recursive: true });

  it.each([
    [['generate', '--steps', '1', '--out', 'fifo'], `--out fifo: is a FIFO (named pipe), not a regular file; ${HINT}`],
    [['generate', '--steps', '1', '--out', 'null.safetensors'], `--out null.safetensors: a link to /dev/null, which is a character device, not a regular file; ${HINT}`],
    [['generate', '--steps', '1', '--out', 'stdout.safetensors'], `--out stdout.safetensors: a link to /proc/self/fd/1, a process's open file (such as stdout), not a regular file; ${HINT}`],
    [['generate', '--steps', '1', '--out', 'o.safetensors', '--video', 'v.mp4'], `--video v.mp4: is a FIFO (named pipe), not a regular file; ${HINT}`],
    [['bench', 'gemm', '--m', '64', '--k', '64', '--n', '64', '--trace', 'null.safetensors'], `--trace null.safetensors: a link to /dev/null, which is a character device, not a regular file; ${HINT}`],
    [['demo', '--steps', '1', '--out', 'demo'], `--out demo: cannot write clip.gif there: is a FIFO (named pipe), not a regular file; ${HINT}`],
    [['demo', '--steps', '1', '--out', 'demo-folder'], '--out demo-folder: cannot write trace.json there: is a folder, expected a file name'],
  ])('tessera %j', async (args, line) => {
    const r = await cliIn(d, args);
    expect(errors(r.stderr)).toEqual([`tessera: error: UsageError: ${line}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/denoising|compiling/); // before any GPU work
    expect(lstatSync(join(d, 'fifo')).isFIFO()).toBe(true);
    expect(lstatSync(join(d, 'v.mp4')).isFIFO()).toBe(true);
    expect(lstatSync(join(d, 'demo', 'clip.gif')).isFIFO()).toBe(true);
    expect(readlinkSync(join(d, 'null.safetensors'))).toBe('/dev/null');
    expect(readlinkSync(join(d, 'stdout.safetensors'))).toBe('/proc/self/fd/1');
    expect(readdirSync(join(d, 'demo-folder'))).toEqual(['trace.json']);
    expect(readdirSync(d).sort()).toEqual(['demo', 'demo-folder', 'fifo', 'null.safetensors', 'stdout.safetensors', 'v.mp4']);
  });
});

describe.skipIf(!hasGpu)('output names are written as given', () => {
  it.skipIf(!runFfmpeg)('a symlink --out is written through (the link stays); --video -x.mp4, file:z.mp4 and --preview pipe:1.gif land under those names', async () => {
    const d = tempDir();
    mkdirSync(join(d, 'real'));
    writeFileSync(join(d, 'real', 't.safetensors'), 'OLD');
    symlinkSync('real/t.safetensors', join(d, 'link.safetensors'));
    const a = await cliIn(d, ['generate', '--steps', '1', '-q', '--out', 'link.safetensors', '--video=-x.mp4']);
    expect(errors(a.stderr)).toEqual([]);
    expect(a.code).toBe(0);
    expect(readlinkSync(join(d, 'link.safetensors'))).toBe('real/t.safetensors');
    expect(readFileSync(join(d, 'real', 't.safetensors')).length).toBeGreaterThan(1000); // the safetensors, not 'OLD'
    const b = await cliIn(d, ['generate', '--steps', '1', '-q', '--out', 'o.safetensors', '--video', 'file:z.mp4', '--preview', 'pipe:1.gif']);
    expect(errors(b.stderr)).toEqual([]);
    expect(b.code).toBe(0);
    expect(readdirSync(d).sort()).toEqual(['-x.mp4', 'file:z.mp4', 'link.safetensors', 'o.safetensors', 'pipe:1.gif', 'real']);
    expect(temps(join(d, 'real'))).toEqual([]);
    for (const f of ['-x.mp4', 'file:z.mp4']) {
      const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,color_space,color_primaries,color_transfer,color_range', '-of', 'json', `./${f}`], { cwd: d, encoding: 'utf8' });
      expect(JSON.parse(out).streams[0]).toEqual({ color_range: 'tv', color_space: 'bt709', color_transfer: 'bt709', color_primaries: 'bt709', nb_read_frames: '9' });
    }
  });

  it('ffmpeg failing on a full disk: the line with the cause is quoted, and no output of the run nor a temp is left', async () => {
    const d = tempDir();
    // a stand-in ffmpeg that fails as Debian's ffmpeg 5.1 does on a full disk (the cause, then its consequence)
    const bin = fakeFfmpeg(d, [
      ': > "$last"',
      'cat > /dev/null',
      'echo "[mp4 @ 0x5581] Could not write header for output file #0 (incorrect codec parameters ?): No space left on device" >&2',
      'echo "Error initializing output stream 0:0 -- " >&2',
      'exit 1',
    ]);
    const w = join(d, 'w');
    mkdirSync(w);
    writeFileSync(join(w, 'old.safetensors'), 'OLD');
    const r = await cliIn(w, ['generate', '--steps', '1', '-q', '--out', 'old.safetensors', '--video', 'v.mp4', '--preview', 'p.gif', '--frames-dir', 'fr'], { PATH: `${bin}:${process.env['PATH']}` });
    expect(errors(r.stderr)).toEqual(['tessera: error: EncoderError: ffmpeg 0.0-fake failed to encode v.mp4 (exit 1): [mp4 @ 0x5581] Could not write header for output file #0 (incorrect codec parameters ?): No space left on device']);
    expect(r.code).toBe(1);
    expect(readdirSync(w)).toEqual(['old.safetensors']);
    expect(readFileSync(join(w, 'old.safetensors'), 'utf8')).toBe('OLD');
    expect(existsSync(join(w, 'fr'))).toBe(false);
  });
});
