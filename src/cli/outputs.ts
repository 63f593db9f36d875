// Checks that make a command fail before any work: output paths that cannot be written, the
// GPU memory budget (--max-memory or TESSERA_MAX_GPU_MEMORY), and the test-only device-loss hook.
import { closeSync, existsSync, lstatSync, openSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import type { Gpu } from '../gpu/device.js';
import { readInputs, type InputTensor } from '../io/inputs.js';
import { folderProblem, folderWords, nearestFolderProblem } from '../io/node-folder.js';
import { createFailure, linkChain, makeOutputFolder, NOT_A_FILE_HINT, notRegular, outputTarget, tempPath, writeOutputAtomic } from '../io/node-write.js';
import { parseSize } from '../model/memory.js';
import { plural } from '../plural.js';
import { InputError, type TensorData } from '../model/model.js';
import { NumericsError } from '../sampler/generate.js';
import { UsageError, type FlagSpec, type Parsed } from './args.js';
import { checkPathFlags, readFiles, type ReadFile } from './paths.js';
import { embeddedPipelinePath } from '../pipeline/embedded-node.js';

export const MAX_MEMORY_FLAG: FlagSpec = {
  type: 'string',
  arg: 'SIZE',
  help: 'GPU memory budget for weights + activations + workspace, e.g. 2GiB (a number alone is bytes, 1 MiB or more); runs that need more are refused before allocating (default: $TESSERA_MAX_GPU_MEMORY, else only the adapter limits)',
};

/** The budget from --max-memory, else TESSERA_MAX_GPU_MEMORY, else none. */
export function maxMemory(p: Parsed): number | undefined {
  const flag = p['max-memory'] as string | undefined;
  const env = process.env['TESSERA_MAX_GPU_MEMORY'];
  const v = flag ?? (env === '' ? undefined : env);
  if (v === undefined) return undefined;
  return sizeFlag(v, flag !== undefined ? '--max-memory' : 'TESSERA_MAX_GPU_MEMORY');
}

/** A number with no unit below this is refused by sizeFlag: no run fits in it, and "2" most likely meant 2GiB. */
export const BARE_SIZE_FLOOR = 2 ** 20;

/**
 * A size given on the command line or in the environment (--max-memory, TESSERA_MAX_GPU_MEMORY, bench plan's
 * --max-binding) → bytes, as parseBytes reads it (parseSize), with one rule more for all of them: a number with no unit is
 * bytes, and under 1 MiB it is refused as a missing unit ("--max-memory 2" is 2 bytes, not 2 GiB); "2B" or
 * "512KiB" say small sizes on purpose.
 * @throws UsageError naming `name` and the value.
 */
export function sizeFlag(v: string, name: string): number {
  let n: ReturnType<typeof parseSize>;
  try {
    n = parseSize(v, name);
  } catch (e) {
    // the caller's flag or environment: a usage error (exit 2), the message naming which and the value
    if (e instanceof InputError) throw new UsageError(e.message, { cause: e });
    throw e;
  }
  if (!n.unit && n.bytes < BARE_SIZE_FLOOR) throw new UsageError(`${name}: ${JSON.stringify(v)} has no unit, so it is ${plural(n.bytes, 'byte')}: give a unit, e.g. ${v.trim()}GiB or ${v.trim()}MiB (a number alone is bytes, and must be 1 MiB or more; write ${v.trim()}B for bytes)`);
  return n.bytes;
}

/** Why a mkdir failed, in words. */
export function folderFailure(e: unknown, dir: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'the folder above does not take new folders (ENOENT: e.g. /proc or /sys)' : code ? createFailure(code, dir) : (e as Error).message;
}

/**
 * Proves that `path` can be written the way the writer (src/io/node-write.ts) will write it: its
 * temp file (tempPath(outputTarget(path)): beside the file a symlink leads to) is created and
 * removed, and the name itself is looked up (a name too long for the file system fails there, as
 * the final rename would). Returns the reason it cannot, or null.
 */
export function cannotCreate(path: string): string | null {
  const target = outputTarget(path);
  const tmp = tempPath(target);
  let made = true;
  try {
    closeSync(openSync(tmp, 'wx'));
  } catch (e) {
    // a file of that name is there already (not made here, so not removed): the name is creatable
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') made = false;
    else return createFailure((e as NodeJS.ErrnoException).code, tmp);
  }
  if (made) {
    try {
      unlinkSync(tmp);
    } catch {
      // gone already
    }
  }
  try {
    statSync(target, { throwIfNoEntry: false });
  } catch (e) {
    return createFailure((e as NodeJS.ErrnoException).code, target);
  }
  return null;
}

/**
 * Why output `path` is no file tessera may replace, or null: something there that is not a regular
 * file (a device such as /dev/null, a FIFO, a socket), or a link through /proc (/dev/stdout,
 * /dev/fd/N: a process's open file). A symlink to a regular file, or a dangling one, is written
 * through (outputTarget). A folder is left to the callers (their own message).
 */
export function notAFile(path: string): string | null {
  const chain = linkChain(path);
  const target = chain.at(-1)!;
  const proc = chain.slice(1).find((c) => c === '/proc' || c.startsWith('/proc/'));
  if (proc) return `a link to ${proc}, a process's open file (such as stdout), not a regular file; ${NOT_A_FILE_HINT}`;
  const link = chain.length > 1 ? `a link to ${chain[1]}${chain.length > 2 ? ` (→ ${target})` : ''}` : '';
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(target, { throwIfNoEntry: false });
  } catch {
    return null; // a bad name: cannotCreate says why
  }
  const what = notRegular(st);
  if (!what || what === 'a folder') return null;
  return `${link ? `${link}, which is` : 'is'} ${what}, not a regular file; ${NOT_A_FILE_HINT}`;
}

/** Whether output `target` (an outputTarget) is an existing folder; a bad name is none (cannotCreate says why). */
function isFolder(target: string): boolean {
  try {
    return statSync(target, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

/** Picture and video formats by extension: the format in words, and the generate flag that writes it. */
const MEDIA_OUT: Readonly<Record<string, readonly [string, string]>> = {
  '.gif': ['an animated GIF', '--preview FILE.gif'],
  '.mp4': ['an MP4', '--video FILE.mp4'],
  '.png': ['PNG frames', '--frames-dir DIR'],
  ...Object.fromEntries(['.webm', '.mov', '.mkv', '.avi', '.m4v'].map((e) => [e, ['a video', '--video FILE.mp4 (H.264 MP4)']])),
  ...Object.fromEntries(['.jpg', '.jpeg', '.webp', '.bmp', '.apng'].map((e) => [e, ['pictures', '--frames-dir DIR (PNG frames) or --preview FILE.gif']])),
};

/**
 * --out of forward, generate, decode and encode writes safetensors: a name with another extension would be a
 * safetensors file under another type's name (as --preview and --video refuse names not ending in theirs), so it is
 * refused: a picture or video extension (.gif, .mp4, .png, .webm, .jpg …) naming the flag of generate that writes
 * that format (`command`: the one run), any other (.txt, .bin, .pt …) asking for .safetensors. A name with no
 * extension (`out`, scripts' temp names) is taken as it is.
 * @throws UsageError `--out PATH: --out writes safetensors (name it .safetensors); for <format> give <flag>`
 *   (other commands: `…; for <format>, tessera generate takes <flag>`), or `--out PATH: --out writes safetensors,
 *   so the name must end in .safetensors (not .EXT)`.
 */
export function checkOutIsSafetensors(command: string, path: string | undefined): void {
  const ext = path === undefined ? '' : extname(path).toLowerCase();
  if (ext === '' || ext === '.safetensors') return;
  const media = MEDIA_OUT[ext];
  if (!media) throw new UsageError(`--out ${path}: --out writes safetensors, so the name must end in .safetensors (not ${extname(path!)})`);
  const [format, flag] = media;
  throw new UsageError(`--out ${path}: --out writes safetensors (name it .safetensors); for ${format}${command === 'generate' ? ' give' : ', tessera generate takes'} ${flag}`);
}

/**
 * CommandSpec.first of forward, generate, decode and encode: the path flags (checkPathFlags: a path
 * that does not exist is one line naming the flag and the path) and --out's extension
 * (checkOutIsSafetensors), before the other flag checks. @throws UsageError.
 */
export const pathAndOutChecks = (command: string) => (p: Parsed): void => {
  checkPathFlags(p);
  checkOutIsSafetensors(command, p.out as string | undefined);
};

/**
 * The folder of an output file must exist and be writable, the path must not be a folder nor
 * anything but a regular file (notAFile: a device, FIFO, socket, /dev/stdout), and a file must be
 * creatable under that name there (cannotCreate: the writer's own temp name is created and
 * removed): checked before any work. A symlink is checked as the file it leads to, which the
 * writer replaces (the link stays).
 * @throws UsageError `--flag PATH: <reason>` (`--flag PATH (a link to TARGET): <reason>` for a link's target).
 */
export function checkOutputPath(flag: string, path: string | undefined): void {
  if (path === undefined) return;
  if (path === '') throw new UsageError(`--${flag} needs a file name`);
  const special = notAFile(path);
  if (special) throw new UsageError(`--${flag} ${path}: ${special}`);
  const target = outputTarget(path);
  const shown = target === path ? path : `${path} (a link to ${target})`;
  // a folder named as the file: its own folder is one, so this is said before the folder's checks
  if (isFolder(target)) throw new UsageError(`--${flag} ${shown}: is a folder, expected a file name`);
  const dir = dirname(resolve(target));
  const bad = folderProblem(dir);
  if (bad) throw new UsageError(`--${flag} ${shown}: ${folderWords(dir, bad)}`);
  const why = cannotCreate(path);
  if (why) throw new UsageError(`--${flag} ${shown}: cannot write it: ${why}`);
}

/**
 * Why the output folder `dir` (created with its parents if missing) cannot be written, or null:
 * it is a file, a part of its path is a file, a folder on the way cannot be looked up (ELOOP, EACCES
 * above it: the OS's words), or the nearest existing folder is not writable. Read-only checks
 * (nearestFolderProblem; nothing is created), in folderWords' words, for messages naming a flag or a setting.
 */
export function unwritableDir(dir: string): string | null {
  const near = nearestFolderProblem(dir);
  return near && folderWords(near.folder, near.problem);
}

/**
 * Checks an output folder flag (e.g. demo's --out DIR) before any work: created if missing, so it
 * may not exist yet, but it must not be a file, lie below a file or below an unwritable folder.
 * @throws UsageError `--flag DIR: <reason>`.
 */
export function checkOutputDir(flag: string, dir: string | undefined): void {
  if (dir === undefined) return;
  if (dir === '') throw new UsageError(`--${flag} needs a folder name`);
  // a device, FIFO or socket (through links) in words as generate's --out says them (notRegular), not "a file"
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(dir, { throwIfNoEntry: false });
  } catch {
    st = undefined; // a link loop or an unreadable path: unwritableDir says why
  }
  const what = notRegular(st);
  if (what && what !== 'a folder') throw new UsageError(`--${flag} ${dir}: is ${what}, expected a folder`);
  const why = unwritableDir(dir);
  if (why) throw new UsageError(`--${flag} ${dir}: ${why}`);
}

/**
 * checkOutputDir, then creates the folder (with its parents) at once, before any GPU work: some
 * folders pass every check and still refuse a mkdir (e.g. below /sys, even for root); then proves
 * that `names` (the files the run writes there) can be created (cannotCreate). A folder created
 * here is removed again by a run that fails or is interrupted while it is still empty
 * (src/io/node-write.ts discardOutputs).
 * @throws UsageError `--flag DIR: <reason>`, `--flag DIR: cannot create the folder: <reason>` or
 *   `--flag DIR: cannot write NAME there: <reason>` (e.g. `is a folder, expected a file name`).
 */
export function makeOutputDir(flag: string, dir: string, names: string[] = []): void {
  checkOutputDir(flag, dir);
  try {
    makeOutputFolder(dir);
  } catch (e) {
    throw new UsageError(`--${flag} ${dir}: cannot create the folder: ${folderFailure(e, dir)}`);
  }
  for (const name of names) {
    const path = join(dir, name);
    // a folder there passes cannotCreate (its temp goes beside it) and would fail only at the final rename
    const why = notAFile(path) ?? (isFolder(outputTarget(path)) ? 'is a folder, expected a file name' : null) ?? cannotCreate(path);
    if (why) throw new UsageError(`--${flag} ${dir}: cannot write ${name} there: ${why}`);
  }
}

/**
 * Removes `dir/name` left by an earlier run when this run does not write it (a stale file beside
 * this run's outputs would read as part of them); returns whether one was removed.
 */
export function removeStale(dir: string, name: string): boolean {
  const path = join(dir, name);
  if (!existsSync(path) || !statSync(path).isFile()) return false;
  rmSync(path);
  return true;
}

/** A file's identity: device and inode of what the path leads to (symlinks followed; hard links alike), or undefined when nothing is there. */
function fileId(path: string): string | undefined {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    return st?.isFile() ? `${st.dev}:${st.ino}` : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the --pipeline of `p` is the embedded tessera-shapes pipeline (generate without a folder sets it). */
function isEmbeddedPipeline(p: Parsed): boolean {
  if (typeof p.pipeline !== 'string') return false;
  try {
    return resolve(embeddedPipelinePath()) === resolve(p.pipeline);
  } catch {
    return false;
  }
}

/**
 * No output (--out, --video, --preview) may be a file the run reads (readFiles: --inputs, the weights,
 * shards, configs and other files of --model, --vae and --pipeline's components): the result would
 * silently replace it. The same path or, for a file that exists, the same device and inode (a symlink
 * or hard link to it). An output not there yet is no file the run reads. --frames-dir writes new
 * frame-NNN.png files only (planMedia refuses a folder holding some), so it replaces nothing read.
 * @throws UsageError `--out PATH is <what>: writing the result would overwrite it; give another --out`
 * (for --inputs: `… is the --inputs file: writing the result would overwrite the inputs; …`).
 */
function checkOutputsNotRead(p: Parsed): void {
  const outs = (['out', 'video', 'preview'] as const).filter((f) => typeof p[f] === 'string' && p[f] !== '');
  if (!outs.length) return;
  const ids = new Map<string, ReadFile>();
  for (const f of readFiles(p, { embedded: isEmbeddedPipeline(p) })) {
    const id = f.id ?? fileId(f.path); // readFiles stat'd a folder's files already
    if (id !== undefined && !ids.has(id)) ids.set(id, f);
  }
  for (const flag of outs) {
    const path = p[flag] as string;
    const id = fileId(path);
    const read = id === undefined ? undefined : ids.get(id);
    if (!read) continue;
    if (read.what === 'the --inputs file') throw new UsageError(`--${flag} ${path} is the --inputs file: writing the result would overwrite the inputs; give another --${flag}`);
    throw new UsageError(`--${flag} ${path} is ${read.what}${resolve(read.path) === resolve(path) ? '' : ` (${read.path}, the same file)`}: writing the result would overwrite it; give another --${flag}`);
  }
}

/**
 * The prologue of the file-in, file-out commands (forward, decode, encode, generate), all before
 * any GPU work: --out checked (unless `outChecked`: generate's media plan checks every output
 * itself), every path flag checked (--inputs, --model, --vae, --pipeline), every output refused when it is a file
 * the run reads (checkOutputsNotRead: --inputs, weights, configs), then the --inputs file read; an empty map without --inputs.
 * @throws UsageError naming the flag; InputError / SafetensorsError for an unreadable inputs file.
 */
export async function commandInputs(p: Parsed, o: { outChecked?: boolean } = {}): Promise<Map<string, InputTensor>> {
  checkCommandFiles(p, o);
  return p.inputs ? readInputs(p.inputs as string) : new Map();
}

/** commandInputs' checks of --out and the path flags, without reading --inputs (generate reads its header first). */
export function checkCommandFiles(p: Parsed, o: { outChecked?: boolean } = {}): void {
  if (!o.outChecked) checkOutputPath('out', p.out as string);
  checkPathFlags(p);
  checkOutputsNotRead(p);
}

/**
 * Writes `sample` (f32, diffusers' layout) to `out` atomically as the tensor "sample", after
 * refusing a non-finite value: NumericsError `<producer> produced a non-finite value (v) at flat
 * index i of "sample"`, then `; <where()>` (the layer, when the caller can locate it) and the f16
 * hint when `f16`. Prints `wrote OUT: sample [shape] (<about>)` to stderr.
 */
export async function writeSample(out: string, sample: TensorData, o: { producer: string; about: string; f16: boolean; where?: () => Promise<string> }): Promise<void> {
  const i = sample.data.findIndex((v) => !Number.isFinite(v));
  if (i >= 0) {
    const where = o.where ? `; ${await o.where()}` : '';
    throw new NumericsError(`${o.producer} produced a non-finite value (${sample.data[i]}) at flat index ${i} of "sample"${where}${o.f16 ? ' (f16 overflow? try --dtype f32)' : ''}`);
  }
  await writeOutputAtomic(out, [{ name: 'sample', shape: sample.shape, data: sample.data }]);
  console.error(`wrote ${out}: sample [${sample.shape.join(',')}] (${o.about})`);
}

/**
 * Test hook (documented in README "Errors"): TESSERA_TEST_LOSE_DEVICE_AT_STEP=N destroys the
 * GPU device after denoising step N, to prove a lost device ends the command cleanly.
 */
export function deviceLossHook(gpu: Gpu): (step: number) => void {
  const at = Number(process.env['TESSERA_TEST_LOSE_DEVICE_AT_STEP'] ?? NaN);
  return (step) => {
    if (step === at) gpu.device.destroy();
  };
}
