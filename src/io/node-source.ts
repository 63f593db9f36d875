// Node-only byte sources: positional FileHandle reads, never the whole file in memory.
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkRange, checkRelPath, type ByteSource, type FolderSource } from './source.js';

/** A file on disk. Keep it until `close()`; reads at any Number offset (files > 4 GB work). */
export async function fileSource(path: string): Promise<ByteSource> {
  const fh = await open(path, 'r');
  let size: number;
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`${path}: not a regular file`);
    size = st.size;
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

/** A folder on disk. Relative paths may not escape it. */
export function nodeFolder(dir: string): FolderSource {
  const path = (rel: string) => {
    checkRelPath(dir, rel);
    return join(dir, rel);
  };
  return {
    name: dir,
    async readText(rel) {
      try {
        return await readFile(path(rel), 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
    open: async (rel) => fileSource(path(rel)),
    list: async (sub?: string) => readdir(sub ? path(sub) : dir),
  };
}
