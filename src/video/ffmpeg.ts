// Node-only: MP4 (H.264) files through the `ffmpeg` program on the PATH. Frames go to its stdin as
// raw RGB24; libx264 encodes them as yuv420p (the pixel format every player takes), converted
// with the BT.709 matrix to limited (TV) range and tagged so (colour primaries, transfer and matrix
// bt709, range tv), so a player decodes the colours the frames have; into a temporary file (src/io/node-write.ts tempPath, tracked there, so an interrupted run removes it)
// that is renamed over the target only when ffmpeg succeeded.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { folderProblem, folderWords } from '../io/node-folder.js';
import { OutputError } from '../io/output-error.js';
import { commitTemps, dropTemp, outputTarget, tempPath, trackTemp, trackWriter } from '../io/node-write.js';
import { checkFrame } from '../preview/preview.js';
import { InputError } from '../model/input-error.js';
import { rgbaToRgb, type RgbaFrames } from './frames.js';

/** No usable video encoder: ffmpeg missing from the PATH, broken, or without libx264; or the encoder failed. (Frames or options writeMp4Ffmpeg refuses are InputErrors.) */
export class EncoderError extends Error {
  override name = 'EncoderError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_ENCODER';
}

/** An ffmpeg found on the PATH that has the libx264 encoder. */
export interface Ffmpeg {
  /** The executable's path: the PATH folder it was found in, joined with `ffmpeg`. */
  path: string;
  /** e.g. "5.1.9-0+deb12u1" (from `ffmpeg -version`). */
  version: string;
}

/** The first executable `ffmpeg` on `PATH` (null when none). */
export function whichFfmpeg(pathVar = process.env['PATH'] ?? ''): string | null {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'ffmpeg');
    try {
      if (!statSync(p).isFile()) continue;
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Finds ffmpeg and checks it can encode H.264 (libx264), before any GPU work (the CLI's --video and the
 * demo's MP4 call it; library users call it before writeMp4Ffmpeg). The messages name no CLI flag
 * first: a library caller has none.
 * @throws EncoderError naming what is missing and how to get it (no ffmpeg on the PATH, an ffmpeg whose `-version`
 *   fails, or one without libx264).
 */
export function findFfmpeg(): Ffmpeg {
  const path = whichFfmpeg();
  if (!path) throw new EncoderError('writing an MP4 (H.264) needs the ffmpeg program and none is on the PATH: install it (Debian/Ubuntu: apt-get install ffmpeg; in a tessera checkout, `npm run setup` does), or write a GIF or PNG frames instead (CLI: --preview clip.gif / --frames-dir DIR)');
  const v = spawnSync(path, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 20_000 });
  notStopped(v, path, '-version');
  if (v.status !== 0) throw new EncoderError(`${path} -version failed (${spawnCause(v)}): is it a working ffmpeg?`);
  const version = /ffmpeg version (\S+)/.exec(v.stdout)?.[1] ?? 'unknown version';
  const enc = spawnSync(path, ['-hide_banner', '-encoders'], { encoding: 'utf8', timeout: 20_000 });
  notStopped(enc, path, '-encoders');
  if (enc.status !== 0 || !/\blibx264\b/.test(enc.stdout)) throw new EncoderError(`${path} (ffmpeg ${version}) has no libx264 encoder, which writing an MP4 (H.264) needs: install a build with it (Debian's ffmpeg package has it)`);
  return { path, version };
}

/**
 * A probe ended by a signal is no fault of ffmpeg's: Ctrl-C reaches the whole process group, so ffmpeg dies
 * of it while this process, blocked in spawnSync, has yet to run its own handler. The EncoderError says it
 * was stopped by SIG and carries `signal`, for a caller that lets its signal handling win (the CLI's main).
 */
function notStopped(r: SpawnSyncReturns<string>, path: string, what: string): void {
  if (r.signal === null || r.error) return;
  throw Object.assign(new EncoderError(`${path} ${what} was stopped by ${r.signal} (not an ffmpeg fault: this process is being interrupted, or something killed ffmpeg)`), { signal: r.signal });
}

/** Why a probe failed: its spawn error, else the last line of its stderr that says something, else its exit status. */
function spawnCause(r: SpawnSyncReturns<string>): string {
  return r.error?.message ?? (r.stderr.split('\n').map((l) => l.trim()).findLast((l) => l !== '') || `exit ${r.status}`);
}

export interface Mp4Options {
  /** Frames per second (> 0, ≤ 240). */
  fps: number;
  /** libx264 constant rate factor, an integer 0 (lossless) … 51; default 18 (visually near-lossless). */
  crf?: number;
}

export interface Mp4Written {
  frames: number;
  /** Size of the encoded picture: odd sizes are padded by one black row/column (yuv420p needs even sizes). */
  width: number;
  height: number;
  padded: boolean;
  /** What encoded it, for the CLI's message. */
  encoder: string;
}

/**
 * The line of ffmpeg's stderr that says why it failed: the last one naming a system error
 * (`Could not write header … : No space left on device`) when there is one, as ffmpeg's final
 * line is often only its consequence (`Error initializing output stream 0:0 --`); else the last line.
 */
export function ffmpegCause(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const cause = /No space left|Disk quota|Permission denied|Read-only file system|Input\/output error|File too large|No such file or directory|Is a directory|Not a directory/i;
  return lines.findLast((l) => cause.test(l)) ?? lines.at(-1) ?? '';
}

/**
 * Encodes RGBA frames as an H.264 MP4 (yuv420p BT.709, limited range, tagged so; +faststart) at `path`, atomically.
 * `clip.frames`: at least one, each 8-bit RGBA of clip.width·clip.height·4 bytes (width and height integers in [1, 65535]).
 * @throws InputError `writeMp4Ffmpeg…: …` before ffmpeg starts (nothing spawned, no file made) for no frames, a bad size,
 *   a frame of another length (`writeMp4Ffmpeg frame 1: frame has 128 bytes, 4x4 RGBA needs 64`), fps outside (0, 240]
 *   (`option` 'fps') or crf not an integer in [0, 51] (`option` 'crf'); a missing argument (plain JS) names it
 *   (`writeMp4Ffmpeg: argument 4 missing: the options ({ fps })`).
 * @throws EncoderError when ffmpeg fails (the stderr line with the cause is quoted: ffmpegCause); no file is left behind.
 * @throws OutputError `cannot write PATH: the folder DIR does not exist` (or DIR is a file, lies below one, cannot be
 *   looked up, or is not writable: node-folder.ts folderWords), before ffmpeg starts; its `code` 'ERR_OUTPUT', its
 *   `errno` the OS's code (ENOENT, ENOTDIR, ELOOP, EACCES, EROFS …);
 *   `cannot write PATH: <cause>` when the encoded file cannot be renamed over `path`:
 *   something there that is not a regular file (a folder, a FIFO, a device), or a failed rename
 *   (e.g. its folder is gone); the temp is removed.
 */
export async function writeMp4Ffmpeg(ff: Ffmpeg, path: string, clip: RgbaFrames, opts: Mp4Options): Promise<Mp4Written> {
  const { tmp, written } = await stageMp4Ffmpeg(ff, path, clip, opts);
  commitTemps([{ tmp, path }]);
  return written;
}

/**
 * writeMp4Ffmpeg without the rename: encodes into tempPath(path) and returns its name (tracked by
 * node-write, for a caller that renames it with other files: commitTemps / OutputGroup).
 * @throws InputError for the clip and options writeMp4Ffmpeg refuses (before any file is made), OutputError for
 *   its output folder, EncoderError when ffmpeg fails; the temp is removed first.
 */
export async function stageMp4Ffmpeg(ff: Ffmpeg, path: string, clip: RgbaFrames, opts: Mp4Options): Promise<{ tmp: string; written: Mp4Written }> {
  // plain JS callers: a missing argument is named, not a TypeError reading one of its fields
  const given: [unknown, string][] = [[ff, 'the Ffmpeg from findFfmpeg()'], [path, 'the MP4 file path'], [clip, 'the clip ({ width, height, frames })'], [opts, 'the options ({ fps })']];
  const missing = given.findIndex(([a]) => a === undefined || a === null);
  if (missing >= 0) throw new InputError(`writeMp4Ffmpeg: argument ${missing + 1} missing: ${given[missing]![1]}`);
  const { width, height, frames } = clip;
  // all checked before ffmpeg starts: it reads the frames as one byte stream, so a frame of another
  // length would shift every frame after it (or add frames) instead of failing
  if (frames.length === 0) throw new InputError('writeMp4Ffmpeg: no frames to encode');
  frames.forEach((f, i) => checkFrame(f, width, height, `writeMp4Ffmpeg frame ${i}`));
  if (!(opts.fps > 0 && opts.fps <= 240)) throw new InputError(`writeMp4Ffmpeg: fps must be in (0, 240], got ${opts.fps}`, { option: 'fps' });
  const crf = opts.crf ?? 18;
  if (!(Number.isInteger(crf) && crf >= 0 && crf <= 51)) throw new InputError(`writeMp4Ffmpeg: crf must be an integer in [0, 51] (libx264's constant rate factor), got ${crf}`, { option: 'crf' });
  const padded = width % 2 === 1 || height % 2 === 1;
  const target = outputTarget(path);
  // ffmpeg would say only `No such file or directory`: the folder is named, before it starts
  const folder = dirname(resolve(target));
  const bad = folderProblem(folder);
  if (bad) throw new OutputError(`cannot write ${path}: ${folderWords(folder, bad)}`, bad.code);
  const tmp = tempPath(target);
  // the RGB -> YUV matrix and range set here, where the conversion happens, and the same tagged on the stream
  const filters = [...(padded ? ['pad=ceil(iw/2)*2:ceil(ih/2)*2'] : []), 'scale=out_color_matrix=bt709:out_range=tv', 'format=yuv420p'];
  const args = [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(opts.fps), '-i', 'pipe:0',
    '-vf', filters.join(','),
    '-c:v', 'libx264', '-preset', 'medium', '-crf', String(crf), '-pix_fmt', 'yuv420p',
    '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv',
    '-movflags', '+faststart',
    // absolute: a name such as -x.mp4 is no option to ffmpeg, nor pipe:1.mp4 / file:z.mp4 a protocol
    '-f', 'mp4', resolve(tmp),
  ];
  trackTemp(tmp);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(ff.path, args, { stdio: ['pipe', 'ignore', 'pipe'] });
      trackWriter(child);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      child.on('error', (e) => reject(new EncoderError(`${ff.path}: ${e.message}`)));
      child.on('close', (code, signal) => {
        if (code === 0) resolve();
        else reject(new EncoderError(`ffmpeg ${ff.version} failed to encode ${path} (${signal ?? `exit ${code}`}): ${ffmpegCause(stderr)}`));
      });
      // a closed stdin (ffmpeg died early) is reported by 'close' above
      child.stdin.on('error', () => {});
      (async () => {
        for (const f of frames) {
          if (!child.stdin.write(rgbaToRgb(f))) await new Promise((r) => child.stdin.once('drain', r));
        }
        child.stdin.end();
      })().catch(() => {});
    });
  } catch (e) {
    dropTemp(tmp);
    throw e;
  }
  return {
    tmp,
    written: {
      frames: frames.length,
      width: width + (width % 2),
      height: height + (height % 2),
      padded,
      encoder: `H.264 (libx264, yuv420p, crf ${crf}) via ffmpeg ${ff.version} (${ff.path})`,
    },
  };
}
