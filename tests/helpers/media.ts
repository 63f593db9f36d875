// Reading written clips back: MP4 through ffprobe/ffmpeg (the programs, as a player would),
// GIF through omggif, PNG through fast-png. For tests that check frame count, size and content.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode as pngDecode } from 'fast-png';
import { GifReader } from 'omggif';
import { whichFfmpeg } from '../../src/video/ffmpeg.js';

export const hasFfmpeg = whichFfmpeg() !== null;

/**
 * A stand-in ffmpeg in DIR/bin (put DIR/bin first on PATH): it answers the CLI's -version and -encoders
 * probes as a libx264 build, then runs `body` (sh lines) with $last set to its output path. Returns DIR/bin.
 */
export function fakeFfmpeg(dir: string, body: string[]): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const probes = ['#!/bin/sh', 'case "$2" in -version) echo "ffmpeg version 0.0-fake"; exit 0;; -encoders) echo " V..... libx264 fake"; exit 0;; esac', 'for a; do last=$a; done'];
  writeFileSync(join(bin, 'ffmpeg'), [...probes, ...body].join('\n') + '\n', { mode: 0o755 });
  return bin;
}

export interface Probed {
  codec: string;
  pixFmt: string;
  width: number;
  height: number;
  /** Frames counted by decoding (ffprobe -count_frames). */
  frames: number;
  /** r_frame_rate as a number. */
  fps: number;
}

/** ffprobe's view of the first video stream of `path`. */
export function probeMp4(path: string): Probed {
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,pix_fmt,width,height,nb_read_frames,r_frame_rate', '-of', 'json', path], { encoding: 'utf8' });
  const s = JSON.parse(out).streams[0];
  const [n, d] = String(s.r_frame_rate).split('/').map(Number);
  return { codec: s.codec_name, pixFmt: s.pix_fmt, width: s.width, height: s.height, frames: Number(s.nb_read_frames), fps: n! / (d ?? 1) };
}

/** ffprobe's duration of the whole file (s), its first video stream's r_frame_rate ("16/1") and frame count: any container (GIF, MP4). */
export function probeClip(path: string): { duration: number; rFrameRate: string; frames: number } {
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'format=duration:stream=r_frame_rate,nb_read_frames', '-of', 'json', path], { encoding: 'utf8' });
  const j = JSON.parse(out);
  return { duration: Number(j.format.duration), rFrameRate: String(j.streams[0].r_frame_rate), frames: Number(j.streams[0].nb_read_frames) };
}

/** Every frame of `path` decoded by ffmpeg to RGB24 (width·height·3 bytes each). */
export function decodeMp4(path: string, width: number, height: number): Uint8Array[] {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 28 });
  const per = width * height * 3;
  const frames: Uint8Array[] = [];
  for (let o = 0; o + per <= raw.length; o += per) frames.push(new Uint8Array(raw.buffer, raw.byteOffset + o, per));
  return frames;
}

/** Every frame of an animated GIF as RGBA. */
export function decodeGif(path: string): { width: number; height: number; frames: Uint8Array[]; delays: number[] } {
  const r = new GifReader(readFileSync(path));
  const frames: Uint8Array[] = [];
  const delays: number[] = [];
  for (let i = 0; i < r.numFrames(); i++) {
    const px = new Uint8Array(r.width * r.height * 4);
    r.decodeAndBlitFrameRGBA(i, px);
    frames.push(px);
    delays.push(r.frameInfo(i).delay);
  }
  return { width: r.width, height: r.height, frames, delays };
}

export function decodePngFile(path: string): { width: number; height: number; data: Uint8Array } {
  const p = pngDecode(readFileSync(path));
  return { width: p.width, height: p.height, data: p.data as Uint8Array };
}

/** Largest minus smallest byte value over a frame's colour channels (0 = a constant frame). */
export function spread(frame: Uint8Array, channels: 3 | 4): number {
  let lo = 255;
  let hi = 0;
  for (let i = 0; i < frame.length; i++) {
    if (channels === 4 && i % 4 === 3) continue;
    lo = Math.min(lo, frame[i]!);
    hi = Math.max(hi, frame[i]!);
  }
  return hi - lo;
}
