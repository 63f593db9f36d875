// Node-only byte sources: positional FileHandle reads, never the whole file in memory.
import { readFileSync, statSync, type Stats } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../model/input-error.js';
import { checkRange, checkRelPath, FileAccessError, httpFolder, type ByteSource, type FolderSource } from './source.js';

/** What errno `code` means for reading a file, in words (the path is named by the caller). */
function accessReason(code: string | undefined, e: unknown): string {
  switch (code) {
    case 'EISDIR':
      return 'is a folder, not a file';
    case 'EACCES':
    case 'EPERM':
      return `cannot be read: permission denied (${code})`;
    case 'ENOTDIR':
      return 'cannot be read: a folder on its path is a file (ENOTDIR)';
    case 'ELOOP':
      return 'cannot be read: a loop of symbolic links (ELOOP)';
    case 'ENAMETOOLONG':
      return 'cannot be read: the path is too long for the file system (ENAMETOOLONG)';
    default:
      return `cannot be read (${code ?? (e instanceof Error ? e.message : String(e))})`;
  }
}

/** A failed read of `path` as the error to throw: ENOENT stays as it is (callers test it as "missing"), any other is a FileAccessError naming the path. */
function accessError(path: string, e: unknown): unknown {
  if (e instanceof FileAccessError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? e : new FileAccessError(path, accessReason(code, e), code, { cause: e });
}

/** `st` of `path` when it is a regular file; one that is not (a folder, a FIFO that would block a read, a device) is a FileAccessError. */
function regularFile(path: string, st: Stats): Stats {
  if (st.isFile()) return st;
  throw st.isDirectory() ? new FileAccessError(path, 'is a folder, not a file', 'EISDIR') : new FileAccessError(path, 'is not a regular file');
}

/** A failed text read of `path` (readTextFileSync, nodeFolder's readText): null for a missing file, else the error to throw (accessError). */
function noText(path: string, e: unknown): null {
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
  throw accessError(path, e);
}

/**
 * A local file's text (UTF-8), or null when there is none (ENOENT).
 * @throws FileAccessError naming `path` when it is there but cannot be read (a folder, no permission).
 */
export function readTextFileSync(path: string): string | null {
  try {
    regularFile(path, statSync(path));
    return readFileSync(path, 'utf8');
  } catch (e) {
    return noText(path, e);
  }
}

/**
 * A file on disk. Keep it until `close()`; reads at any Number offset (files > 4 GB work).
 * @throws the ENOENT error when there is no such file; FileAccessError naming `path` when it cannot be read (a folder, no permission, not a regular file).
 */
export async function fileSource(path: string): Promise<ByteSource> {
  // stat first: opening a FIFO would wait for a writer
  regularFile(path, await stat(path).catch((e: unknown) => Promise.reject(accessError(path, e))));
  const fh = await open(path, 'r').catch((e: unknown) => Promise.reject(accessError(path, e)));
  let size: number;
  try {
    size = regularFile(path, await fh.stat()).size;
  } catch (e) {
    await fh.close();
    throw e;
  }
  let closed = false;
  return {
    name: path,
    size,
    async read(offset, length) {
      checkRange(path, size, offset, length);
      if (closed) throw new Error(`${path}: read after close`);
      const out = new Uint8Array(length);
      let done = 0;
      // FileHandle.read may return fewer bytes than asked (large reads, pipes): loop.
      while (done < length) {
        const { bytesRead } = await fh.read(out, done, Math.min(length - done, 1 << 30), offset + done);
        if (bytesRead === 0) throw new Error(`${path}: unexpected end of file at offset ${offset + done} (file shrank while open?)`);
        done += bytesRead;
      }
      return out;
    },
    async close() {
      if (closed) return;
      closed = true;
      await fh.close();
    },
  };
}

/**
 * What a string model source names in Node (the loaders' strings): an http:// or https:// URL is an
 * httpFolder, a file:// URL and anything else a folder on disk (nodeFolder).
 */
export function nodeStringFolder(s: string): FolderSource {
  if (/^https?:\/\//i.test(s)) return httpFolder(s);
  if (!/^file:\/\//i.test(s)) return nodeFolder(s);
  let dir: string;
  try {
    dir = fileURLToPath(s);
  } catch (e) {
    // Node's own TypeError (ERR_INVALID_FILE_URL_HOST, …) names neither the source nor what was expected
    throw new InputError(`${s}: not a file:// URL of a local folder (${(e as Error).message}); expected file:///absolute/path or a path`, { cause: e });
  }
  return nodeFolder(dir);
}

/**
 * A folder on disk. Relative paths may not escape it. `readText` answers null for a missing file;
 * `readText` and `open` throw FileAccessError naming the path for one that is there but cannot be read.
 */
export function nodeFolder(dir: string): FolderSource {
  const path = (rel: string) => {
    checkRelPath(dir, rel);
    return join(dir, rel);
  };
  return {
    name: dir,
    async readText(rel) {
      const p = path(rel);
      try {
        regularFile(p, await stat(p));
        return await readFile(p, 'utf8');
      } catch (e) {
        return noText(p, e);
      }
    },
    open: async (rel) => fileSource(path(rel)),
    list: async (sub?: string) => readdir(sub ? path(sub) : dir),
  };
}
