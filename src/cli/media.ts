// The pictures `generate` writes besides its safetensors: --video (MP4, H.264 through ffmpeg),
// --preview (animated GIF), --frames-dir (one PNG per frame). From decoded pixels when the run has
// a VAE; from the fixed latent→RGB colour map (src/preview) otherwise, and every message says which.
// All paths and the encoder are checked by planMedia() before any GPU work. A run's outputs (--out
// with the pictures) are committed together: each is written to its temp name, and all are renamed
// only once all are written, so a failed run leaves none of them (src/io/node-write.ts OutputGroup).
import { readdirSync, rmdirSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { folderProblem, folderWords, nearestFolderProblem } from '../io/node-folder.js';
import { commitTemps, dropTemp, makeOutputFolder, mkdirParents, outputTarget, planOutputGroup, writeTemp, type OutputGroup, type StagedFile } from '../io/node-write.js';
import type { TensorData } from '../model/model.js';
import { encodeGif, encodePng, GIF_MAX_FPS, GIF_MIN_FPS, latentsToFrames, type Family } from '../preview/preview.js';
import { findFfmpeg, stageMp4Ffmpeg, type Ffmpeg } from '../video/ffmpeg.js';
import { videoToFrames, type RgbaFrames } from '../video/frames.js';
import { UsageError, type FlagSpec, type Parsed } from './args.js';
import { cannotCreate, checkOutputPath, folderFailure } from './outputs.js';

export const MEDIA_FLAGS: Record<string, FlagSpec> = {
  video: { type: 'string', arg: 'FILE.mp4', help: 'write the clip as an H.264 MP4 (needs ffmpeg on the PATH): decoded frames with a VAE, else the latent colour map' },
  preview: { type: 'string', arg: 'FILE.gif', help: 'write the clip as an animated GIF: decoded frames with a VAE, else the latent colour map' },
  'frames-dir': { type: 'string', arg: 'DIR', help: 'write each frame as frame-NNN.png (decoded with a VAE, else the latent colour map); created if missing; a folder already holding frame-*.png files is refused (no stale frames from an earlier run)' },
  fps: { type: 'number', help: 'frame rate of --video (up to 100) and --preview (0.00153 to 50: GIF delays are whole hundredths of a second, 65535 at most) (default 16 for Wan, as Wan2.1 clips play; 8 otherwise)' },
};

export interface MediaPlan {
  video?: string;
  preview?: string;
  framesDir?: string;
  fps?: number;
  ffmpeg?: Ffmpeg;
  /** The run's outputs, committed together (with --out when planMedia was given it). */
  group?: OutputGroup;
}

/** The group member of a --frames-dir (all its PNGs are one member). */
const framesKey = (dir: string) => `frames-dir:${resolve(dir)}`;

function checkExtension(flag: string, path: string | undefined, ext: string, what: string): void {
  if (path === undefined) return;
  if (extname(path).toLowerCase() !== ext) throw new UsageError(`--${flag} ${path}: writes ${what}, so the name must end in ${ext}${flag === 'preview' ? ' (PNG frames: --frames-dir DIR; MP4: --video FILE.mp4)' : flag === 'video' ? ' (GIF: --preview FILE.gif)' : ''}`);
}

/**
 * Checks every picture output before any GPU work: extensions (.mp4, .gif), folders that exist and
 * are writable, --frames-dir not an existing file (nor below one), no two outputs on one path
 * (`others`: the other file outputs, e.g. --out), and finds ffmpeg for --video.
 * @throws UsageError (bad paths, fps out of (0, 100], outside [0.00153, 50] with --preview, or without --video/--preview) or
 *   EncoderError (no usable ffmpeg).
 */
export function planMedia(p: Parsed, others: Record<string, string | undefined> = {}): MediaPlan {
  const plan: MediaPlan = {
    video: p.video as string | undefined,
    preview: p.preview as string | undefined,
    framesDir: p['frames-dir'] as string | undefined,
    fps: p.fps as number | undefined,
  };
  // refused, not capped: the GIF would play at another rate than the one asked for (an MP4 takes it)
  if (plan.fps !== undefined && plan.fps > GIF_MAX_FPS && plan.preview !== undefined) {
    throw new UsageError(`--fps ${plan.fps} with --preview ${plan.preview}: a GIF plays at most ${GIF_MAX_FPS} fps (its frame delays are whole hundredths of a second, and browsers play delays under 2 cs as 10 cs); give --fps ${GIF_MAX_FPS} or less, or drop --preview (--video FILE.mp4 takes up to 100)`);
  }
  if (plan.fps !== undefined && !(plan.fps > 0 && plan.fps <= 100)) throw new UsageError(`--fps must be in (0, 100] (${GIF_MAX_FPS} at most with --preview), got ${plan.fps}`);
  // a 16-bit delay: a slower GIF's delays would wrap and it would play at another rate
  if (plan.fps !== undefined && plan.fps < GIF_MIN_FPS && plan.preview !== undefined) {
    throw new UsageError(`--fps ${plan.fps} with --preview ${plan.preview}: a GIF plays at least ${GIF_MIN_FPS} fps (a frame's delay is a 16-bit count of hundredths of a second: 655.35 s at most); give --fps ${GIF_MIN_FPS} or more, or drop --preview (--video FILE.mp4 takes it)`);
  }
  // the rate of the clips only: without one it would be ignored silently
  if (plan.fps !== undefined && plan.video === undefined && plan.preview === undefined) {
    throw new UsageError(`--fps ${plan.fps}: the frame rate of --video and --preview, and neither is given${plan.framesDir !== undefined ? ' (--frames-dir writes PNG frames, which have no rate)' : ''}: add --video FILE.mp4 or --preview FILE.gif, or drop --fps`);
  }
  const files: Record<string, string | undefined> = { ...others, video: plan.video, preview: plan.preview };
  // checkOutputPath checks each file's folder too (there, a folder, writable)
  const targets = new Map<string, string>();
  for (const [flag, path] of Object.entries(files)) {
    checkOutputPath(flag, path);
    if (path !== undefined) targets.set(flag, resolve(outputTarget(path))); // a symlink names the file it leads to
  }
  checkExtension('video', plan.video, '.mp4', 'an H.264 MP4');
  checkExtension('preview', plan.preview, '.gif', 'an animated GIF');
  const seen = new Map<string, string>();
  for (const [flag, r] of targets) {
    const path = files[flag]!;
    if (seen.has(r)) throw new UsageError(`--${flag} and --${seen.get(r)} both name ${path}: give each output its own file`);
    seen.set(r, flag);
  }
  if (plan.framesDir !== undefined) {
    const d = plan.framesDir;
    if (d === '') throw new UsageError('--frames-dir needs a folder name');
    const here = folderProblem(d);
    if (here?.kind === 'not-folder') throw new UsageError(`--frames-dir ${d}: ${folderWords(d, here)}`);
    if (seen.has(resolve(d))) throw new UsageError(`--frames-dir ${d} is also the path of --${seen.get(resolve(d))}`);
    // frames of an earlier (longer) run would stay beside this run's and read as one clip: refused, not deleted
    if (!here || here.kind === 'not-writable') {
      const old = readdirSync(d).filter((f) => /^frame-\d+\.png$/.test(f)).sort();
      if (old.length) throw new UsageError(`--frames-dir ${d}: already holds ${old.length} frame PNG${old.length > 1 ? 's' : ''} (${old[0]}${old.length > 1 ? ` … ${old[old.length - 1]}` : ''}) from an earlier run; give a new or empty folder, or remove them first`);
    }
    // the nearest existing folder must take new ones (mkdir -p happens after the GPU work)
    const near = nearestFolderProblem(d);
    if (near) throw new UsageError(`--frames-dir ${d}: ${folderWords(near.folder, near.problem)}`);
    probeFramesDir(d);
  }
  if (plan.video !== undefined) plan.ffmpeg = findFfmpeg();
  const members = [...Object.values(files).filter((f): f is string => f !== undefined).map((f) => resolve(f)), ...(plan.framesDir !== undefined ? [framesKey(plan.framesDir)] : [])];
  if (plan.video || plan.preview || plan.framesDir) plan.group = planOutputGroup(members);
  return plan;
}

/**
 * Proves a frame PNG can be written in --frames-dir before any GPU work (the folder is created, if
 * missing, only when the frames are written): the missing folders are made, a frame's temp file
 * created and removed (cannotCreate), and the folders made here removed again.
 * @throws UsageError `--frames-dir DIR: <reason>`.
 */
function probeFramesDir(d: string): void {
  let made: string[] = [];
  try {
    try {
      made = mkdirParents(d);
    } catch (e) {
      made = (e as { made?: string[] }).made ?? [];
      throw new UsageError(`--frames-dir ${d}: cannot create the folder: ${folderFailure(e, d)}`);
    }
    const why = cannotCreate(join(d, 'frame-000.png'));
    if (why) throw new UsageError(`--frames-dir ${d}: cannot write frame-000.png there: ${why}`);
  } finally {
    for (const m of made) {
      try {
        rmdirSync(m);
      } catch {
        break;
      }
    }
  }
}

/** What a run hands to writeMedia: decoded frames ([B,F,H,W,3] or [B,H,W,3] in [0, 1]) when there is a VAE, and the latents. */
export interface MediaSource {
  family: Family;
  latents: TensorData;
  /** diffusers' output_type="np" frames; absent for latent-only runs. */
  pixels?: TensorData;
}

/** The frames the picture outputs show: batch item 0, decoded, or through the latent colour map (upscaled 8×, a VAE's spatial factor). */
export function mediaFrames(src: MediaSource): RgbaFrames & { what: string } {
  if (src.pixels) return { ...videoToFrames(src.pixels, 0), what: 'decoded by the VAE' };
  const s = src.latents.shape;
  const one = src.latents.data.subarray(0, src.latents.data.length / s[0]!);
  const fr = latentsToFrames(one, s.slice(1), src.family, { upscale: 8 });
  return { width: fr.width, height: fr.height, frames: fr.frames, what: `latent colour map "${fr.map}", NOT decoded pixels (no VAE)` };
}

/**
 * Writes the planned pictures; returns one line per file for the CLI to print (the order of the
 * flags: --video, --preview, --frames-dir). With plan.group (planMedia), each is written to its
 * temp name and all the run's outputs are renamed together once all are written; when one fails
 * none is left, and the error is thrown.
 */
export async function writeMedia(plan: MediaPlan, src: MediaSource): Promise<string[]> {
  if (!plan.video && !plan.preview && !plan.framesDir) return [];
  const group = plan.group;
  const stage = (key: string, files: StagedFile[]): Promise<void> => (group ? group.stage(key, files) : Promise.resolve(commitTemps(files)));
  try {
    const clip = mediaFrames(src);
    const fps = plan.fps ?? (src.family === 'wan' ? 16 : 8);
    const B = (src.pixels ?? src.latents).shape[0]!;
    const item = B > 1 ? `, batch item 0 of ${B}` : '';
    const size = `${clip.frames.length} frame${clip.frames.length === 1 ? '' : 's'} ${clip.width}×${clip.height}`;
    const jobs: Promise<string>[] = [];
    if (plan.preview) {
      const path = plan.preview;
      const tmp = writeTemp(path, encodeGif(clip.frames, clip.width, clip.height, { fps }));
      jobs.push(stage(resolve(path), [{ tmp, path }]).then(() => `wrote ${path}: ${size} at ${fps} fps${item}, ${clip.what}; animated GIF via gifenc (256 colours per frame)`));
    }
    if (plan.framesDir) {
      const dir = plan.framesDir;
      makeOutputFolder(dir);
      const frameName = (i: number) => `frame-${String(i).padStart(3, '0')}.png`;
      const names = clip.frames.map((_, i) => join(dir, frameName(i)));
      const files: StagedFile[] = [];
      try {
        clip.frames.forEach((f, i) => files.push({ tmp: writeTemp(names[i]!, encodePng(f, clip.width, clip.height)), path: names[i]! }));
      } catch (e) {
        for (const f of files) dropTemp(f.tmp);
        throw e;
      }
      jobs.push(stage(framesKey(dir), files).then(() => `wrote ${names[0]}${names.length > 1 ? ` … ${frameName(names.length - 1)}` : ''}: ${size}${item}, ${clip.what}; PNG via fast-png`));
    }
    if (plan.video) {
      const path = plan.video;
      // the last one started: the pictures above are staged while ffmpeg encodes
      jobs.unshift(
        stageMp4Ffmpeg(plan.ffmpeg ?? findFfmpeg(), path, clip, { fps }).then(async ({ tmp, written: w }) => {
          await stage(resolve(path), [{ tmp, path }]);
          return `wrote ${path}: ${size}${w.padded ? ` (padded to ${w.width}×${w.height}: H.264 4:2:0 needs even sizes)` : ''} at ${fps} fps${item}, ${clip.what}; ${w.encoder}`;
        }),
      );
    }
    return await Promise.all(jobs);
  } catch (e) {
    group?.fail(e);
    throw e;
  }
}
