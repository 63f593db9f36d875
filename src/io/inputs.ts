// CLI inputs: a safetensors file of named tensors (latents, class labels, timesteps) read
// into f32 or i64 arrays. Browser-safe apart from the path form, which loads the fs source
// on demand.
import { FLOAT_DTYPES, readSafetensorsHeader, readTensorF32, readTensorInt, SafetensorsError, writeSafetensors, type ArrayBufferBytes, type StDType, type TensorInfo, type WriteTensor } from './safetensors.js';
import type { ByteSource } from './source.js';

export interface InputTensor {
  dtype: StDType;
  shape: number[];
  /** Float tensors (F32/F16/BF16/F64), as f32. */
  f32?: Float32Array;
  /** Integer tensors (I64, and I32/I16/I8/U8/U16/BOOL widened), as i64. */
  i64?: BigInt64Array;
}

/** The dtypes readInputs reads as f32 (InputTensor.f32); the other supported ones (INTS) as i64. */
export const FLOATS: ReadonlySet<StDType> = FLOAT_DTYPES;
const INTS = new Set<StDType>(['I64', 'I32', 'I16', 'I8', 'U8', 'U16', 'BOOL']);

/** A tensor of an inputs file as its header describes it: what the size checks need before any data is read. */
export type InputHeader = Pick<InputTensor, 'dtype' | 'shape'>;

async function withSource<T>(path: string | ByteSource, use: (src: ByteSource) => Promise<T>): Promise<T> {
  let src: ByteSource;
  if (typeof path === 'string') {
    const { fileSource } = await import('./node-source.js');
    src = await fileSource(path);
  } else src = path;
  try {
    return await use(src);
  } finally {
    if (typeof path === 'string') await src.close?.();
  }
}

async function headerOf(src: ByteSource) {
  const { tensors } = await readSafetensorsHeader(src);
  for (const [name, info] of tensors) {
    if (!FLOATS.has(info.dtype) && !INTS.has(info.dtype)) throw new SafetensorsError(`dtype ${info.dtype} is not supported for inputs (floats or signed/small integers)`, src.name, name);
  }
  return tensors;
}

/** readInputsHeader's answers, with the header they came from (and the file's name and size then), for readInputs to read the data by. */
const headers = new WeakMap<ReadonlyMap<string, InputHeader>, { name: string; size: number; tensors: Map<string, TensorInfo> }>();

/**
 * The dtype and shape of every tensor of a safetensors inputs file, by name, from its header alone
 * (no tensor data is read: a header claiming huge latents can be refused first). `path` needs Node.
 * Pass the answer to readInputs to read the data without parsing the header again.
 * @throws SafetensorsError for a malformed header or a dtype inputs cannot hold (as readInputs).
 */
export async function readInputsHeader(path: string | ByteSource): Promise<Map<string, InputHeader>> {
  return withSource(path, async (src) => {
    const tensors = await headerOf(src);
    const out = new Map([...tensors].map(([name, info]) => [name, { dtype: info.dtype, shape: info.shape }]));
    headers.set(out, { name: src.name, size: src.size, tensors });
    return out;
  });
}

/**
 * Every tensor of a safetensors file, by name (with `only`, just the tensors of those names). `path` needs Node; pass
 * a ByteSource elsewhere. `header`: readInputsHeader's answer for this file, whose parsed header is used for the data
 * (the header is read afresh when the file's name or size is not what it was).
 */
export async function readInputs(path: string | ByteSource, header?: ReadonlyMap<string, InputHeader>, only?: readonly string[]): Promise<Map<string, InputTensor>> {
  return withSource(path, async (src) => {
    const read = header && headers.get(header);
    const tensors = read && read.name === src.name && read.size === src.size ? read.tensors : await headerOf(src);
    const out = new Map<string, InputTensor>();
    for (const [name, info] of tensors) {
      if (only && !only.includes(name)) continue;
      if (FLOATS.has(info.dtype)) {
        out.set(name, { dtype: info.dtype, shape: info.shape, f32: await readTensorF32(src, info) });
      } else {
        const v = await readTensorInt(src, info);
        out.set(name, { dtype: info.dtype, shape: info.shape, i64: v instanceof BigInt64Array ? v : BigInt64Array.from(v, (x) => BigInt(x)) });
      }
    }
    return out;
  });
}

/** Output tensors for the CLI: f32 data (stored as F32/F16/BF16) or i64. */
export interface OutputTensor {
  name: string;
  shape: number[];
  dtype?: 'F32' | 'F16' | 'BF16' | 'I64';
  data: Float32Array | BigInt64Array;
}

/** The bytes of an output file (see node-write.ts for writing it atomically). */
export function encodeOutputs(tensors: OutputTensor[] | WriteTensor[], metadata?: Record<string, string>): ArrayBufferBytes {
  const list: WriteTensor[] = tensors.map((t) => ({
    name: t.name,
    shape: t.shape,
    dtype: t.dtype ?? (t.data instanceof BigInt64Array ? 'I64' : t.data instanceof Int32Array ? 'I32' : 'F32'),
    data: t.data,
  }));
  return writeSafetensors(list, metadata);
}
