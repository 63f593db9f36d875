// Node-only: output files that readers never see half-written and that a failed or interrupted run
// does not leave behind. Each file is written to a temp name beside it (tempPath) and renamed over
// its name once complete. Every temp this process has on disk is tracked, with the programs writing
// one (ffmpeg) and the output folders a run created: discardOutputs() (the CLI calls it on an error
// and on SIGINT/SIGTERM) and the process's exit remove them. The files of one run can be committed
// together (OutputGroup): all renamed in one synchronous pass once all are written, or none.
// An output name that is a symlink is written through: the temp goes beside the file it leads to,
// which is replaced, and the link stays (outputTarget).
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readlinkSync, realpathSync, renameSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { encodeOutputs, type OutputTensor } from './inputs.js';
import type { WriteTensor } from './safetensors.js';
import { OutputError } from './output-error.js';

export { OutputError };

/** Longest file name (bytes) of the usual Linux/macOS file systems (NAME_MAX). */
const NAME_MAX = 255;

/**
 * `path` + `suffix` beside it; a name too long for that (over 255 bytes) keeps its first characters
 * and adds 8 hex digits of a hash of the whole name (two long names in one folder get two names).
 */
function sideName(path: string, suffix: string): string {
  const base = basename(path);
  if (Buffer.byteLength(base) + suffix.length <= NAME_MAX) return path + suffix;
  const hash = createHash('sha256').update(base).digest('hex').slice(0, 8);
  const chars = Array.from(base); // whole code points: a cut never splits a UTF-8 sequence
  const room = NAME_MAX - suffix.length - hash.length - 1;
  while (Buffer.byteLength(chars.join('')) > room) chars.pop();
  return join(dirname(path), `${chars.join('')}~${hash}${suffix}`);
}

/**
 * The temp name `path` is written to before it is renamed over `path`: `NAME.tmp-PID` beside it
 * (a long NAME is cut and hashed: sideName).
 */
export function tempPath(path: string): string {
  return sideName(path, `.tmp-${process.pid}`);
}

/**
 * The name an existing output `path` is kept under while a group is committed: `NAME.bak-PID`,
 * which no temp name (ending in .tmp-PID) can be, so a backup never takes an output's temp.
 */
function backupPath(path: string): string {
  return sideName(path, `.bak-${process.pid}`);
}

/** How an output that is no regular file is refused (notAFile before a run, commitTemps at the end). */
export const NOT_A_FILE_HINT = 'tessera writes each output as a file (to a temp beside it, renamed over it), not to a device or a stream: give a file path';

/** Why creating or writing a file failed, in words, for errno `code` (`path`: the file tried). */
export function createFailure(code: string | undefined, path: string): string {
  switch (code) {
    case 'ENAMETOOLONG': {
      const name = basename(path);
      const bytes = Buffer.byteLength(name);
      return bytes > NAME_MAX ? `the file name is too long for the file system (${bytes} bytes; at most ${NAME_MAX})` : `the path is too long for the file system (${Buffer.byteLength(resolve(path))} bytes; at most 4095)`;
    }
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'EROFS':
      return 'the file system is read-only (EROFS)';
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left on the device (${code})`;
    case 'EIO':
      return 'an input/output error of the device (EIO)';
    case 'EFBIG':
      return 'the file is too large for the file system (EFBIG)';
    case 'ENOENT':
      return 'the folder does not take new files (ENOENT: e.g. /proc or /sys)';
    default:
      return `cannot create a file there (${code ?? 'unknown error'})`;
  }
}

/** The error `e` of writing output `path`, as one line naming the file (an OutputError; other errors as they are). */
function writeError(e: unknown, path: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (!code || e instanceof OutputError) return e;
  const why = code === 'ENOENT' ? 'its folder (or its temp file) is gone (ENOENT)' : createFailure(code, path).replace(/^cannot create a file there/, 'the write failed');
  return new OutputError(`cannot write ${path}: ${why}`, code);
}

/** Hops followed before a chain of symlinks counts as a loop (Linux's own limit). */
const MAX_LINKS = 40;

/**
 * The names writing `path` goes through: `[path]`, or for a symlink `[path, its target, …]` up to
 * the first name that is not a link (a missing one for a dangling link), each target taken
 * relative to its link's folder (that folder's real path). Stops after 40 links (a loop: the open then fails with ELOOP).
 */
export function linkChain(path: string): string[] {
  const chain = [path];
  for (let p = path; chain.length <= MAX_LINKS; ) {
    let link = false;
    try {
      link = lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
    } catch {
      // a bad name (ENOTDIR, ENAMETOOLONG …): the writer's own error says why
    }
    if (!link) break;
    let folder = dirname(p);
    try {
      folder = realpathSync(folder); // the folder the link is really in (a link in /dev/fd is in /proc/PID/fd)
    } catch {
      // unresolvable: as written
    }
    p = resolve(folder, readlinkSync(p));
    chain.push(p);
  }
  return chain;
}

/**
 * Where writing output `path` lands: `path` itself, or for a symlink the file it leads to (so the
 * linked file is replaced, the link kept, as a shell's `>` would; a dangling link's target is
 * created). The temp goes beside that file, as the rename must stay in one folder.
 */
export function outputTarget(path: string): string {
  return linkChain(path).at(-1)!;
}

/** Temps on disk (or being created) that are neither renamed nor removed yet. */
const temps = new Set<string>();
/** Programs writing a temp (ffmpeg): killed when the outputs are discarded. */
const writers = new Set<ChildProcess>();
/** Output folders a run created, each as the chain of folders mkdir made, deepest first. */
const createdDirs: string[][] = [];
/** Set when the process is going down on a signal: no temp is written or renamed after it. */
let stopped: string | null = null;
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // the last resort (an error path that did not discard, a library user): synchronous, as 'exit' needs
  process.on('exit', () => removeLeftovers());
}

/** Tracks a temp this process is about to create (removed by discardOutputs and at exit unless committed or dropped). */
export function trackTemp(tmp: string): void {
  if (stopped) throw new Error(`not writing ${tmp}: ${stopped}`);
  hookExit();
  temps.add(tmp);
}

/** Removes a temp (if there) and stops tracking it. */
export function dropTemp(tmp: string): void {
  try {
    unlinkSync(tmp);
  } catch {
    // not created, or already gone
  }
  temps.delete(tmp);
}

/** Tracks a program writing a temp: discardOutputs kills it (and waits for it) before removing the temps. */
export function trackWriter(child: ChildProcess): void {
  hookExit();
  writers.add(child);
  child.once('exit', () => writers.delete(child));
}

/**
 * mkdir -p, one level at a time; returns the folders it created, deepest first. Not
 * mkdirSync(recursive): Node's loops forever where a folder refuses a new entry with ENOENT
 * (/proc/x: ENOENT, then EEXIST for /proc, then ENOENT again).
 * @throws the first mkdir error (the folders created before it stay; they are returned with it as `made`).
 */
export function mkdirParents(dir: string): string[] {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      statSync(d);
      break; // there (a file there makes the mkdir below fail: ENOTDIR)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (d === dirname(d)) break;
    missing.push(d);
  }
  const made: string[] = [];
  try {
    for (const d of missing.reverse()) {
      mkdirSync(d);
      made.unshift(d);
    }
  } catch (e) {
    throw Object.assign(e as Error, { made });
  }
  return made;
}

/**
 * Creates the output folder `dir` with its parents and records the folders that were created, so
 * a run that fails or is interrupted removes them again if they are empty (never a folder that
 * was there before the run). Returns whether `dir` was created.
 * @throws the mkdir error (the caller words it); the folders made before it are recorded too.
 */
export function makeOutputFolder(dir: string): boolean {
  let made: string[];
  try {
    made = mkdirParents(dir);
  } catch (e) {
    const partial = (e as { made?: string[] }).made;
    if (partial?.length) {
      hookExit();
      createdDirs.push(partial);
    }
    throw e;
  }
  if (!made.length) return false;
  hookExit();
  createdDirs.push(made);
  return true;
}

/**
 * Writes `data` to tempPath(outputTarget(path)) and flushes it to disk; returns the temp's name,
 * tracked until commitTemps renames it or dropTemp removes it (on an error it is removed before the
 * throw). Synchronous, so a signal handler never runs while a temp is half-created.
 * @throws OutputError `cannot write PATH: <cause>` (e.g. `no space left on the device (ENOSPC)`).
 */
export function writeTemp(path: string, data: Uint8Array): string {
  const tmp = tempPath(outputTarget(path));
  trackTemp(tmp);
  try {
    const fd = openSync(tmp, 'w');
    try {
      let done = 0;
      while (done < data.byteLength) done += writeSync(fd, data, done, data.byteLength - done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    dropTemp(tmp);
    throw writeError(e, path);
  }
  return tmp;
}

export interface StagedFile {
  /** The written temp (tempPath(path)). */
  tmp: string;
  /** The name it is renamed to. */
  path: string;
}

/** What a file that is not a regular one is, in words (`a character device`), or null for a regular file or none. */
export function notRegular(st: { isFile(): boolean; isDirectory(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isFIFO(): boolean; isSocket(): boolean; isSymbolicLink(): boolean } | undefined): string | null {
  if (!st || st.isFile()) return null;
  if (st.isSymbolicLink()) return 'a loop of symlinks'; // still a link after linkChain's 40 hops
  if (st.isDirectory()) return 'a folder';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Renames written temps over their names (each name's outputTarget), all in one synchronous pass
 * (no signal handler or other task runs between them). Before the first rename every name is
 * checked to be a regular file or none (never a device, FIFO or folder replaced). With several
 * files, each one there is kept under a backup name (a hard link) until the pass ends: on a failed
 * rename the files already renamed are put back as they were (or removed, where none was there),
 * the temps not yet renamed are removed, and the error thrown, so the names hold all new files or
 * all old ones. (On a file system without hard links an old file cannot be put back: that new one stays.)
 * @throws OutputError `cannot write PATH: <cause>`; the Error of a stopped process.
 */
export function commitTemps(files: StagedFile[]): void {
  const targets: string[] = [];
  const backups: (string | null)[] = [];
  const existed: boolean[] = [];
  let renamed = 0; // files[0 .. renamed) are renamed
  let at = 0; // the file the pass is at: the one an error names
  try {
    if (stopped) throw new Error(`outputs not written: ${stopped}`);
    // inside the try: a link that cannot be read still drops every temp
    for (at = 0; at < files.length; at++) targets.push(outputTarget(files[at]!.path));
    for (at = 0; at < files.length; at++) {
      const t = targets[at]!;
      const st = lstatSync(t, { throwIfNoEntry: false });
      const what = notRegular(st);
      if (what) throw new OutputError(`cannot write ${files[at]!.path}: ${t === files[at]!.path ? 'it' : t} is ${what}, not a regular file; ${NOT_A_FILE_HINT}`);
      existed[at] = st !== undefined;
      backups[at] = null;
      if (st && files.length > 1) {
        const b = backupPath(t);
        try {
          linkSync(t, b);
        } catch {
          continue; // no hard links here (or the name is taken): this old file cannot be put back
        }
        trackTemp(b); // only once linked: a failed link never untracks a name that is someone else's
        backups[at] = b;
      }
    }
    for (at = 0; at < files.length; at++, renamed++) {
      renameSync(files[at]!.tmp, targets[at]!);
      temps.delete(files[at]!.tmp);
    }
  } catch (e) {
    for (let k = 0; k < renamed; k++) {
      try {
        if (backups[k]) renameSync(backups[k]!, targets[k]!);
        else if (!existed[k]) unlinkSync(targets[k]!);
      } catch {
        // cannot be undone: that new file stays
      }
    }
    for (const f of files.slice(renamed)) dropTemp(f.tmp);
    for (const b of backups) if (b) dropTemp(b);
    throw writeError(e, files[Math.min(at, files.length - 1)]?.path ?? '');
  }
  for (const b of backups) if (b) dropTemp(b);
}

/** The group planned by the running command (planOutputGroup): writeFileAtomic to one of its files stages it there. */
let current: OutputGroup | null = null;

/**
 * The outputs of one run, committed together: each member (a file, or several such as a folder of
 * frames) is staged as written temps; when the last member is staged all temps are renamed in one
 * synchronous pass and every stage() resolves. When a member fails, or the group is discarded,
 * every staged temp is removed and every stage() rejects, so the run leaves none of its files.
 */
export class OutputGroup {
  private readonly pending: Set<string>;
  private readonly staged: StagedFile[] = [];
  private readonly waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private failure: { error: unknown } | null = null;
  private committed = false;

  /** `members`: one key per output (for a single file, its resolve()d path). */
  constructor(members: string[]) {
    this.pending = new Set(members);
  }

  /** Whether `key` is a member that is not staged yet. */
  expects(key: string): boolean {
    return !this.failure && !this.committed && this.pending.has(key);
  }

  /**
   * Stages member `key`'s written temps; resolves once every member is staged and all are renamed.
   * @throws (rejects) the first member's failure, the rename error, or an Error for an unknown key.
   */
  stage(key: string, files: StagedFile[]): Promise<void> {
    if (this.failure || !this.pending.has(key)) {
      for (const f of files) dropTemp(f.tmp);
      return Promise.reject(this.failure ? this.failure.error : new Error(`output group: "${key}" is not an output of this run, or is staged twice`));
    }
    this.pending.delete(key);
    this.staged.push(...files);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.pending.size === 0) {
      try {
        commitTemps(this.staged);
        this.committed = true;
        if (current === this) current = null;
        for (const w of this.waiters) w.resolve();
      } catch (e) {
        this.fail(e);
      }
    }
    return done;
  }

  /** Ends the group as failed: its staged temps are removed and every stage() rejects with `error`. No effect once committed. */
  fail(error: unknown): void {
    if (this.failure || this.committed) return;
    this.failure = { error };
    if (current === this) current = null;
    for (const f of this.staged) dropTemp(f.tmp);
    for (const w of this.waiters) w.reject(error);
  }
}

/**
 * Plans the outputs of the running command as one group (see OutputGroup), replacing any earlier
 * plan: writeFileAtomic/writeOutputAtomic to a member path then stages instead of renaming alone.
 * `members`: file paths (keyed by resolve()) and other keys (e.g. a frames folder's).
 */
export function planOutputGroup(members: string[]): OutputGroup {
  current?.fail(new Error('output group replaced by a later plan'));
  current = new OutputGroup(members);
  return current;
}

/** Writes `data` to `path + '.tmp-<pid>'` (tempPath), flushes it, then renames it over `path`; in a planned group, renamed with the group's other files. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const group = current;
  const key = resolve(path);
  if (group?.expects(key)) {
    let tmp: string;
    try {
      tmp = writeTemp(path, data);
    } catch (e) {
      group.fail(e);
      throw e;
    }
    return group.stage(key, [{ tmp, path }]);
  }
  commitTemps([{ tmp: writeTemp(path, data), path }]);
}

/** A safetensors output file, written atomically (as writeFileAtomic). */
export async function writeOutputAtomic(path: string, tensors: OutputTensor[] | WriteTensor[], metadata?: Record<string, string>): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = encodeOutputs(tensors, metadata);
  } catch (e) {
    if (current?.expects(resolve(path))) current.fail(e);
    throw e;
  }
  await writeFileAtomic(path, bytes);
}

/** Synchronous part of the clean-up: kills the writers, removes every temp and the created folders left empty. */
function removeLeftovers(): void {
  for (const w of writers) w.kill('SIGKILL');
  for (const t of [...temps]) dropTemp(t);
  while (createdDirs.length) {
    for (const d of createdDirs.pop()!) {
      try {
        rmdirSync(d); // only an empty folder goes
      } catch {
        break; // not empty (or gone): its parents stay too
      }
    }
  }
}

/**
 * Removes what an unfinished run left: the planned group fails (its waiting writers reject), the
 * programs writing temps are killed and waited for (at most `waitMs`), then every tracked temp is
 * removed, and the output folders the run created that are empty. With `stop` (the process is
 * going down on a signal) no temp is written or renamed afterwards. Files already renamed stay.
 */
export async function discardOutputs(o: { stop?: string; waitMs?: number } = {}): Promise<void> {
  if (o.stop) stopped ??= o.stop;
  current?.fail(new Error(o.stop ?? 'the run failed'));
  const exits = [...writers].map((w) => new Promise<void>((r) => (w.exitCode !== null || w.signalCode !== null ? r() : w.once('exit', () => r()))));
  for (const w of writers) w.kill('SIGKILL');
  if (exits.length) await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, o.waitMs ?? 2000).unref())]);
  removeLeftovers();
}
