// Node-only: what is wrong with a folder that a file is to be written in. One check for the library
// (writeMp4Ffmpeg: OutputError) and the CLI's flag checks (UsageError naming the flag), each of which
// words the answer in its own error class.
import { accessSync, constants, statSync } from 'node:fs';

/** Why a folder cannot take a new file; see folderProblem. */
export type FolderProblem =
  /** nothing of that name */
  | { kind: 'missing' }
  /** a folder on its path is a file (stat's ENOTDIR) */
  | { kind: 'below-file' }
  /** something that is not a folder (a file, a device …) */
  | { kind: 'not-folder' }
  /** stat failed otherwise (e.g. ELOOP, ENAMETOOLONG, EACCES on a folder above): its errno code and the OS's words */
  | { kind: 'lookup-failed'; code: string | undefined; os: string }
  /** a folder this process may not create files in (access W_OK | X_OK fails) */
  | { kind: 'not-writable' };

/** Whether this process may create files in the existing folder `dir`. */
export function writableFolder(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
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
    const { code, message } = e as NodeJS.ErrnoException;
    if (code === 'ENOTDIR') return { kind: 'below-file' };
    // the OS's own words, without Node's "CODE: " before them and ", stat '…'" after
    return { kind: 'lookup-failed', code, os: message.replace(/^[A-Z0-9_]+: /, '').replace(/, stat '.*'$/s, '') };
  }
  if (!st) return { kind: 'missing' };
  if (!st.isDirectory()) return { kind: 'not-folder' };
  return writableFolder(dir) ? null : { kind: 'not-writable' };
}
