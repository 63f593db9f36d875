// Node-only: write a file so that readers never see it half-written (temp file + rename).
import { open, rename, unlink } from 'node:fs/promises';
import { encodeOutputs, type OutputTensor } from './inputs.js';
import type { WriteTensor } from './safetensors.js';

/** Writes `data` to `path + '.tmp-<pid>'`, flushes it, then renames it over `path`. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fh = await open(tmp, 'w');
    try {
      let done = 0;
      while (done < data.byteLength) {
        const { bytesWritten } = await fh.write(data, done, data.byteLength - done);
        done += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

/** A safetensors output file, written atomically. */
export async function writeOutputAtomic(path: string, tensors: OutputTensor[] | WriteTensor[], metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, encodeOutputs(tensors, metadata));
}
