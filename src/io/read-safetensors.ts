// One call that reads a whole safetensors file into typed arrays (for porting checkpoints and checking
// tensors), where readSafetensorsHeader + readTensorF32/readTensorInt read one tensor at a time.
import { resolveFolder } from '../model/model.js';
import { readSafetensorsHeader, readTensorF32, readTensorInt, SafetensorsError, type StDType } from './safetensors.js';
import { FileAccessError, type ByteSource } from './source.js';

/** A tensor of readSafetensors: its stored dtype and shape, and its values as a typed array (row-major). */
export interface SafetensorsTensor {
  /** The dtype stored in the file ('F16' and 'BF16' tensors come widened to a Float32Array: this says which they were). */
  dtype: StDType;
  shape: number[];
  /** F32, F16, BF16: Float32Array (exact); I64: BigInt64Array; I32, I16, U16, I8, U8, BOOL: Int32Array. */
  data: Float32Array | BigInt64Array | Int32Array;
}

/** What readSafetensors returns: the header's `__metadata__` (strings) and every tensor by name, in file order. */
export interface SafetensorsContents {
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsTensor>;
}

const FLOATS = new Set<string>(['F32', 'F16', 'BF16']);
const INTS = new Set<string>(['I64', 'I32', 'I16', 'U16', 'I8', 'U8', 'BOOL']);

/**
 * Opens a string as a file the way the loaders open a folder (resolveFolder: in Node a path, a file:// URL or
 * an http(s):// URL; in the browser a URL), by its folder and name. A missing local file (ENOENT) is a
 * FileAccessError naming `s` (errno 'ENOENT'), not Node's raw error.
 */
async function openFile(s: string): Promise<ByteSource> {
  const cut = Math.max(s.lastIndexOf('/'), s.lastIndexOf('\\'));
  const dir = cut < 0 ? '.' : cut === 0 ? s.slice(0, 1) : s.slice(0, cut);
  const name = s.slice(cut + 1);
  try {
    return await (await resolveFolder(dir)).open(name);
  } catch (e) {
    if ((e as { code?: unknown } | null)?.code !== 'ENOENT') throw e;
    throw new FileAccessError(s, 'no such file (readSafetensors expects a .safetensors file at this path)', 'ENOENT', { cause: e });
  }
}

/**
 * Reads a whole .safetensors file (as `safetensors.torch.load_file` does): its metadata and every tensor as a
 * typed array. F32/F16/BF16 come as Float32Array (F16 and BF16 widened exactly; `dtype` says what was stored),
 * I64 as BigInt64Array (exact), I32/I16/U16/I8/U8/BOOL as Int32Array. `source`: a path, a file:// URL or an
 * http(s):// URL (Node; a URL in the browser; HTTP range requests), or a ByteSource (bytesSource, blobSource,
 * fileSource). `opts.only`: read just these tensors (the others' data is not read). Every tensor is held in host
 * memory at once (4 bytes a value for floats): for a checkpoint larger than memory, read one tensor at a time with
 * readSafetensorsHeader and readTensorF32 / readTensorInt.
 * @throws SafetensorsError naming the file (and tensor) for a malformed file, a name of `only` the file does not
 *   hold, or a dtype with no exact typed array here (F64, U32, U64, F8_*: readTensorF32 reads them rounded);
 *   FileAccessError naming the path for a file that is missing (`errno` 'ENOENT': `x.safetensors: no such file (readSafetensors
 *   expects a .safetensors file at this path)`) or cannot be read (a folder, no permission); an HTTP source's errors as they are.
 */
export async function readSafetensors(source: string | ByteSource, opts: { only?: readonly string[] } = {}): Promise<SafetensorsContents> {
  const src = typeof source === 'string' ? await openFile(source) : source;
  try {
    const { tensors, metadata } = await readSafetensorsHeader(src);
    for (const name of opts.only ?? []) if (!tensors.has(name)) throw new SafetensorsError(`no tensor ${JSON.stringify(name)} (the file holds ${tensors.size}: ${[...tensors.keys()].slice(0, 5).join(', ')}${tensors.size > 5 ? ', …' : ''})`, src.name);
    const out = new Map<string, SafetensorsTensor>();
    for (const [name, info] of tensors) {
      if (opts.only && !opts.only.includes(name)) continue;
      if (!FLOATS.has(info.dtype) && !INTS.has(info.dtype)) throw new SafetensorsError(`is ${info.dtype}, which readSafetensors has no exact typed array for (F32/F16/BF16 → Float32Array, I64 → BigInt64Array, I32 and narrower → Int32Array); readTensorF32 reads it rounded to f32`, src.name, name);
      const data = FLOATS.has(info.dtype) ? await readTensorF32(src, info) : await readTensorInt(src, info);
      out.set(name, { dtype: info.dtype, shape: info.shape, data });
    }
    return { metadata, tensors: out };
  } finally {
    if (typeof source === 'string') await src.close?.();
  }
}
