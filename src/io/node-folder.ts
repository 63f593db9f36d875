// Node-only: what is wrong with a folder that a file is to be written in, and the one wording of it. One check for
// the library (writeMp4Ffmpeg: OutputError) and the CLI's flag checks (UsageError naming the flag); each caller
// adds only its prefix (`cannot write PATH: `, `--flag PATH: `) and its error class.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Why a folder cannot take a new file; see folderProblem. `code`: the errno code a file created there fails with
 * (the OS's own: stat's or access()'s, e.g. EACCES, EROFS, ELOOP), for an error's `code`.
 */
export type FolderProblem =
  /** nothing of that name */
  | { kind: 'missing'; code: 'ENOENT' }
  /** a folder on its path is a file (stat's ENOTDIR): `file`, the first such part */
  | { kind: 'below-file'; code: 'ENOTDIR'; file: string }
  /** something that is not a folder (a file, a device …) */
  | { kind: 'not-folder'; code: 'ENOTDIR' }
  /** stat failed otherwise (e.g. ELOOP, ENAMETOOLONG, EACCES on a folder above): its errno code and the OS's words */
  | { kind: 'lookup-failed'; code: string | undefined; os: string }
  /** a folder this process may not create files in (access W_OK | X_OK fails): its errno code and the OS's words */
  | { kind: 'not-writable'; code: string | undefined; os: string };

/** A failed fs call's errno code and the OS's own words, without Node's "CODE: " before them and ", call 'path'" after. */
function osError(e: unknown): { code: string | undefined; os: string } {
  const { code, message } = e as NodeJS.ErrnoException;
  return { code, os: message.replace(/^[A-Z0-9_]+: /, '').replace(/, \w+ '.*'$/s, '') };
}

/** Whether this process may create files in the existing folder `dir`. */
export function writableFolder(dir: string): boolean {
  return cannotWrite(dir) === null;
}

/** Why this process may not create files in the existing folder `dir` (access()'s error), or null. */
function cannotWrite(dir: string): { code: string | undefined; os: string } | null {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return null;
  } catch (e) {
    return osError(e);
  }
}

/** The first part of `path` (from the top) that exists and is not a folder; `path` itself when none is found. */
function fileOnPath(path: string): string {
  const parts: string[] = [];
  for (let p = dirname(path); p !== dirname(p); p = dirname(p)) parts.unshift(p);
  for (const p of parts) {
    try {
      if (statSync(p, { throwIfNoEntry: false })?.isDirectory() === false) return p;
    } catch {
      // a part that cannot be looked up: one above it is the file
    }
  }
  return path;
}

/**
 * What is wrong with `dir` as the folder of a file about to be written, or null when it is an
 * existing folder this process may create files in. Reads only (stat, access); the first problem
 * found, in this order: the lookup fails (below-file, lookup-failed), missing, not-folder, not-writable.
 */
export function folderProblem(dir: string): FolderProblem | null {
  let st;
  try {
    st = statSync(dir, { throwIfNoEntry: false });
  } catch (e) {
    const os = osError(e);
    if (os.code === 'ENOTDIR') return { kind: 'below-file', code: 'ENOTDIR', file: fileOnPath(dir) };
    return { kind: 'lookup-failed', ...os };
  }
  if (!st) return { kind: 'missing', code: 'ENOENT' };
  if (!st.isDirectory()) return { kind: 'not-folder', code: 'ENOTDIR' };
  const denied = cannotWrite(dir);
  return denied && { kind: 'not-writable', ...denied };
}

/**
 * For a folder that is created with its parents when missing (mkdir -p): the nearest existing
 * folder at or above `dir` (resolved) and what is wrong with it, or null when it takes new folders.
 * A file at or above `dir` is not-folder when it is `dir` itself, else below-file (`file` names it).
 * A name too long to exist (ENAMETOOLONG) counts as missing: the mkdir then says which and by how much.
 */
export function nearestFolderProblem(dir: string): { folder: string; problem: FolderProblem } | null {
  const abs = resolve(dir);
  let folder = abs;
  let problem = folderProblem(folder);
  const absent = (p: FolderProblem | null) => p?.kind === 'missing' || (p?.kind === 'lookup-failed' && p.code === 'ENAMETOOLONG');
  while (absent(problem) && folder !== dirname(folder)) problem = folderProblem((folder = dirname(folder)));
  if (problem?.kind === 'not-folder' && folder !== abs) problem = { kind: 'below-file', code: 'ENOTDIR', file: folder };
  return problem && { folder, problem };
}

/**
 * The one wording of a folder problem of `dir` (what folderProblem or nearestFolderProblem answered for it), for
 * a message's end: `the folder DIR does not exist`, `FILE (a part of the path) is a file, expected a folder`,
 * `DIR is a file, expected a folder`, `the folder DIR cannot be looked up (ELOOP: too many symbolic links
 * encountered)`, `the folder DIR is not writable (EACCES: permission denied)`.
 */
export function folderWords(dir: string, bad: FolderProblem): string {
  switch (bad.kind) {
    case 'missing':
      return `the folder ${dir} does not exist`;
    case 'below-file':
      return `${bad.file} (a part of the path) is a file, expected a folder`;
    case 'not-folder':
      return `${dir} is a file, expected a folder`;
    case 'lookup-failed':
      return `the folder ${dir} cannot be looked up (${bad.code ?? 'unknown error'}: ${bad.os})`;
    case 'not-writable':
      return `the folder ${dir} is not writable (${bad.code ?? 'unknown error'}: ${bad.os})`;
  }
}
