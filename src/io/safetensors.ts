// Validating safetensors reader and writer (browser-safe).
//
// Format: u64 LE header length N, then N bytes of UTF-8 JSON
//   { "__metadata__"?: {string: string}, "<name>": {dtype, shape, data_offsets: [begin, end]}, ... }
// then the data area; offsets are relative to the data area, whose tensors must tile it
// exactly (no holes, no overlaps, no trailing bytes). Every check below names the file and,
// where one is involved, the tensor. Nothing is allocated from a length before it is checked.
import { editDistance } from '../edit-distance.js';
import { f16BitsToF32, f32ToF16Bits } from '../gpu/half.js';
import type { ByteSource } from './source.js';
import { isObject, notValidJson } from './json.js';

/** Bytes per element of each safetensors dtype (the byte-sized ones; sub-byte F4/F6 are not supported). */
export const DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  F8_E8M0: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
  C64: 8,
} as const;

export type StDType = keyof typeof DTYPE_BYTES;
/** safetensors' sub-byte dtypes (valid in the format, not readable here). */
const SUB_BYTE_DTYPES: readonly string[] = ['F4', 'F6_E2M3', 'F6_E3M2'];
export type WriteDType = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32';

export function isStDType(v: unknown): v is StDType {
  return typeof v === 'string' && Object.hasOwn(DTYPE_BYTES, v);
}

/** The data-area size cap for the JSON header (what the reference implementation uses too). */
export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;

/** Short, quoted rendering of an untrusted value for messages. */
function show(v: unknown, max = 80): string {
  let s: string;
  try {
    s = v === undefined ? 'missing' : JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > max ? s.slice(0, max) + '…' : s;
}

/** "1 byte", "8 bytes": a byte count in a message. */
const byteCount = (n: number | bigint): string => `${n} ${n == 1 ? 'byte' : 'bytes'}`;

/**
 * Why a tensor's data_offsets run past the file's end, in words: the file is shorter than the size its header
 * describes (the largest data_offsets end among the entries, after the 8-byte length and the header), most often
 * an interrupted download or copy. `json`: the parsed header; `size`: the file's bytes; `dataStart`: 8 + header.
 */
function truncation(json: Record<string, unknown>, size: number, dataStart: number): string {
  let last = 0;
  for (const [k, v] of Object.entries(json)) {
    const off = k !== '__metadata__' && isObject(v) ? (v as Record<string, unknown>)['data_offsets'] : undefined;
    if (Array.isArray(off) && Number.isSafeInteger(off[1]) && (off[1] as number) > last) last = off[1] as number;
  }
  const need = dataStart + last;
  return `truncated: the file is ${byteCount(size)}, its header needs ${byteCount(need)} (${byteCount(need - size)} missing; an interrupted download or copy? fetch the file again)`;
}

/** A corrupt or malformed .safetensors file (header, dtypes, offsets, sizes); the message names the file and tensor. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_SAFETENSORS';
  /** The message without the file/tensor prefix. */
  readonly detail: string;
  constructor(
    message: string,
    /** The file (its source's name). */
    readonly file: string,
    /** The tensor at fault, when one is. */
    readonly tensor?: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${tensor !== undefined ? `tensor ${show(tensor, 200)}: ` : ''}${message}`, options);
    this.detail = message;
  }
}

export interface TensorInfo {
  name: string;
  dtype: StDType;
  shape: number[];
  /** Absolute byte offsets in the file. */
  begin: number;
  end: number;
  file: string;
}

export interface SafetensorsHeader {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Absolute offset of the data area (8 + header length). */
  dataStart: number;
}

/** `src.read` with its failures (I/O, short reads) turned into SafetensorsError. */
async function readExact(src: ByteSource, offset: number, length: number, tensor?: string): Promise<Uint8Array> {
  let b: Uint8Array;
  try {
    b = await src.read(offset, length);
  } catch (e) {
    // a source's own errors already start with its name (httpSource's do); SafetensorsError puts it first once
    const why = e instanceof Error ? e.message : String(e);
    const own = why.startsWith(`${src.name}: `) ? why.slice(src.name.length + 2) : why;
    throw new SafetensorsError(`read of ${byteCount(length)} at offset ${offset} failed: ${own}`, src.name, tensor, { cause: e });
  }
  if (b.byteLength !== length) throw new SafetensorsError(`short read: ${b.byteLength} of ${byteCount(length)} at offset ${offset}`, src.name, tensor);
  return b;
}


/**
 * JSON.parse keeps the last of duplicated keys silently; this scans (already valid) JSON text
 * for a key repeated within one object, at any depth. Returns the key and the top-level key
 * it is under (the tensor), or null.
 */
export function findDuplicateKey(text: string): { key: string; tensor: string } | null {
  const stack: { keys: Set<string> | null; expectKey: boolean }[] = [];
  let topKey = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (;;) {
        const d = text.charCodeAt(j);
        if (d === 0x22) break;
        if (d === 0x5c) {
          escaped = true;
          j += 2;
        } else j++;
      }
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (stack.length === 1) topKey = key;
        if (top.keys.has(key)) return { key, tensor: topKey };
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) stack.push({ keys: new Set(), expectKey: true });
    else if (c === 0x5b /* [ */) stack.push({ keys: null, expectKey: false });
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    }
  }
  return null;
}

// First bytes of the formats most often given in place of safetensors (a PyTorch .bin/.pt above
// all), so a wrong file is named by what it is rather than by the length its first 8 bytes spell.
// `at` is the offset of `magic`; `what` is the format in words.
const bytesOf = (...parts: (string | number)[]): number[] => parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : [p]));
const PICKLE = 'a Python pickle (convert it with safetensors.torch.save_file)';
const KNOWN_MAGIC: readonly { magic: number[]; at?: number; what: string }[] = [
  { magic: bytesOf('PK', 3, 4), what: 'a zip archive; a PyTorch .bin/.pt from torch.save is one (convert it with safetensors.torch.save_file)' },
  { magic: [0x80, 0x02], what: 'a Python pickle; an old PyTorch .bin/.pt is one (convert it with safetensors.torch.save_file)' },
  { magic: [0x80, 0x03], what: PICKLE },
  { magic: [0x80, 0x04], what: PICKLE },
  { magic: [0x80, 0x05], what: PICKLE },
  { magic: bytesOf('GIF87a'), what: 'a GIF image' },
  { magic: bytesOf('GIF89a'), what: 'a GIF image' },
  { magic: bytesOf(0x89, 'PNG', 0x0d, 0x0a, 0x1a, 0x0a), what: 'a PNG image' },
  { magic: [0xff, 0xd8, 0xff], what: 'a JPEG image' },
  { magic: bytesOf('ftyp'), at: 4, what: 'an MP4/MOV video' },
  { magic: [0x1a, 0x45, 0xdf, 0xa3], what: 'a WebM/Matroska video' },
  { magic: bytesOf('RIFF'), what: 'a RIFF file (WAV/AVI/WebP)' },
  { magic: [0x1f, 0x8b], what: 'a gzip archive' },
  { magic: bytesOf(0x93, 'NUMPY'), what: 'a NumPy .npy array' },
  { magic: bytesOf(0x89, 'HDF'), what: 'an HDF5 file (a Keras .h5?)' },
  { magic: bytesOf('GGUF'), what: 'a GGUF model' },
];

/** The format `first8` (a file's first 8 bytes) announces, with the bytes shown, or null. */
function knownFormat(first8: Uint8Array): string | null {
  for (const k of KNOWN_MAGIC) {
    const at = k.at ?? 0;
    if (k.magic.every((b, i) => first8[at + i] === b)) {
      const bytes = first8.subarray(0, at + k.magic.length);
      // printable bytes as text, others as \xNN (what `xxd`/Python show)
      const shown = [...bytes].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
      return `starts with "${shown}": ${k.what}`;
    }
  }
  return null;
}

/**
 * Reads and validates the header (only the header: two reads, 8 bytes then N bytes).
 * Throws SafetensorsError naming the file (and tensor) on any violation of the format.
 */
export async function readSafetensorsHeader(src: ByteSource, opts?: { maxHeaderBytes?: number }): Promise<SafetensorsHeader> {
  const file = src.name;
  const cap = opts?.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const size = src.size;
  if (!Number.isSafeInteger(size) || size < 0) throw new SafetensorsError(`invalid file size ${size}`, file);
  if (size < 8) throw new SafetensorsError(`file is ${byteCount(size)}, too short for the 8-byte header length`, file);

  const lenBytes = await readExact(src, 0, 8);
  const n64 = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  // A bad length whose 8 bytes are printable text is a text file (a config.json given as weights,
  // say): say so rather than quote the length its first characters spell.
  const text8 = lenBytes.every((c) => (c >= 0x20 && c < 0x7f) || c === 0x09 || c === 0x0a || c === 0x0d);
  const notSafetensors = () =>
    new SafetensorsError(`not a safetensors file: it begins with text (${show(new TextDecoder().decode(lenBytes))}), where a safetensors file begins with its JSON header's length as an 8-byte little-endian integer`, file);
  // Checked before the length arithmetic: a GIF's or a pickle's first bytes spell a huge "length".
  // Only when the length is impossible, so a real file that happens to start so is never refused.
  const format = knownFormat(lenBytes);
  const badLength = n64 < 2n || n64 > BigInt(cap) || n64 > BigInt(size - 8);
  if (badLength && format) throw new SafetensorsError(`not a safetensors file (${format})`, file);
  if (n64 < 2n) throw new SafetensorsError(`header length ${n64} is too small (a header is at least "{}")`, file);
  if (n64 > BigInt(cap)) throw text8 ? notSafetensors() : new SafetensorsError(`header length ${n64} exceeds the limit of ${cap} bytes`, file);
  if (n64 > BigInt(size - 8)) throw text8 ? notSafetensors() : new SafetensorsError(`header length ${n64} runs past the end of the file (${byteCount(size)})`, file);
  const n = Number(n64);
  const dataStart = 8 + n;
  const dataSize = size - dataStart;

  const headerBytes = await readExact(src, 8, n);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError('header is not valid UTF-8', file);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`header is ${notValidJson(e)}`, file);
  }
  if (!isObject(json)) throw new SafetensorsError(`header JSON must be an object, got ${Array.isArray(json) ? 'an array' : show(json)}`, file);
  const dup = findDuplicateKey(text);
  if (dup) {
    const where = dup.key === dup.tensor ? 'header' : `entry of ${show(dup.tensor)}`;
    throw new SafetensorsError(`key ${show(dup.key)} is duplicated in the ${where}`, file, dup.tensor);
  }

  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(json)) {
    const fail = (msg: string): never => {
      throw new SafetensorsError(msg, file, name);
    };
    if (name === '__metadata__') {
      // The header's metadata, not a tensor. safetensors (Rust: Option<HashMap<String, String>>)
      // reads null as "no metadata"; files written by some tools carry `"__metadata__": null`.
      const failMeta = (msg: string): never => {
        throw new SafetensorsError(msg, file);
      };
      if (v === null) continue;
      if (!isObject(v)) failMeta(`header field __metadata__ must be an object of strings (or null), got ${show(v)}`);
      const entries = Object.entries(v as Record<string, unknown>);
      for (const [k, s] of entries) if (typeof s !== 'string') failMeta(`header field __metadata__: the value of ${show(k)} must be a string, got ${show(s)}`);
      metadata = Object.fromEntries(entries) as Record<string, string>;
      continue;
    }
    // a key one or two edits from __metadata__ is a damaged metadata key, not a tensor
    const metaHint = name.startsWith('__') && editDistance(name, '__metadata__') <= 2 ? ` (is this a damaged "__metadata__" key? the header is corrupt)` : '';
    if (!isObject(v)) fail(`entry must be an object with dtype, shape and data_offsets, got ${show(v)}${metaHint}`);
    const e = v as Record<string, unknown>;
    const dtype = e['dtype'];
    if (dtype === undefined) fail(`entry has no dtype (its keys: ${Object.keys(e).map((k) => show(k)).join(', ') || 'none'}; a tensor entry has dtype, shape and data_offsets)${metaHint}`);
    if (!isStDType(dtype)) {
      if (typeof dtype === 'string' && SUB_BYTE_DTYPES.includes(dtype)) fail(`dtype ${dtype} (packed sub-byte floats) is not supported (tessera reads ${Object.keys(DTYPE_BYTES).join(', ')})`);
      fail(`unknown dtype ${show(dtype)} (safetensors dtypes are spelled ${Object.keys(DTYPE_BYTES).join(', ')})`);
    }
    const shapeV = e['shape'];
    if (!Array.isArray(shapeV)) fail(`shape must be an array, got ${show(shapeV)}`);
    const shape: number[] = [];
    for (const d of shapeV as unknown[]) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) fail(`shape ${show(shapeV)} has dimension ${show(d)}: dimensions must be non-negative integers`);
      shape.push((d as number) + 0); // -0 -> 0
    }
    const off = e['data_offsets'];
    if (!Array.isArray(off) || off.length !== 2) fail(`data_offsets must be [begin, end], got ${show(off)}`);
    const [b, en] = off as unknown[];
    for (const x of [b, en]) {
      if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) fail(`data_offsets ${show(off)}: ${show(x)} is not a non-negative integer`);
    }
    const begin = (b as number) + 0;
    const end = (en as number) + 0;
    if (begin > end) fail(`data_offsets [${begin}, ${end}] are reversed (begin > end)`);
    if (end > dataSize) fail(`data_offsets [${begin}, ${end}] end past the data area (${byteCount(dataSize)}: file ${byteCount(size)}, header ${byteCount(n)}): ${truncation(json, size, dataStart)}`);
    const eb = DTYPE_BYTES[dtype as StDType];
    // Element count, stopping once it exceeds the range (so no overflow), unless a dim is 0.
    let numel = shape.includes(0) ? 0 : 1;
    for (const d of shape) {
      if (numel === 0 || numel > end - begin) break;
      numel *= d;
    }
    if (numel * eb !== end - begin) {
      fail(`shape [${shape.join(', ')}] × ${dtype} (${byteCount(eb)}) = ${numel > end - begin ? `more than ${end - begin}` : numel * eb} bytes, but data_offsets [${begin}, ${end}] span ${end - begin} bytes`);
    }
    tensors.set(name, { name, dtype: dtype as StDType, shape, begin: dataStart + begin, end: dataStart + end, file });
  }

  // The ranges must tile [0, dataSize) exactly. Zero-size tensors sort first at their offset.
  const sorted = [...tensors.values()].sort((x, y) => x.begin - y.begin || x.end - y.end);
  let cursor = dataStart;
  let prev: TensorInfo | undefined;
  for (const t of sorted) {
    const rel = `[${t.begin - dataStart}, ${t.end - dataStart}]`;
    if (t.begin < cursor) throw new SafetensorsError(`data_offsets ${rel} overlap tensor ${show(prev!.name)} [${prev!.begin - dataStart}, ${prev!.end - dataStart}]`, file, t.name);
    if (t.begin > cursor) throw new SafetensorsError(`data_offsets ${rel} leave a hole of ${byteCount(t.begin - cursor)} at data offset ${cursor - dataStart}${prev ? ` after tensor ${show(prev.name)}` : ''}`, file, t.name);
    cursor = t.end;
    if (t.end > t.begin || !prev) prev = t;
  }
  if (cursor !== size) {
    throw new SafetensorsError(
      `${size - cursor} trailing ${size - cursor === 1 ? 'byte' : 'bytes'} after the last tensor: data area is ${byteCount(dataSize)} but tensors cover ${cursor - dataStart}`,
      file,
      prev?.name,
    );
  }
  return { tensors, metadata, dataStart };
}

function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Re-checks a TensorInfo against the source before reading (infos can be hand-made). */
function checkInfo(src: ByteSource, info: TensorInfo): number {
  const fail = (msg: string): never => {
    throw new SafetensorsError(msg, src.name, info.name);
  };
  if (!isStDType(info.dtype)) fail(`unknown dtype ${show(info.dtype)}`);
  if (!info.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`bad shape ${show(info.shape)}`);
  const numel = numelOf(info.shape);
  const bytes = numel * DTYPE_BYTES[info.dtype];
  if (!Number.isSafeInteger(info.begin) || !Number.isSafeInteger(info.end) || info.begin < 0 || info.end > src.size || info.end - info.begin !== bytes) {
    fail(`byte range [${info.begin}, ${info.end}) does not hold shape [${info.shape.join(', ')}] ${info.dtype} inside the file (${byteCount(src.size)})`);
  }
  return numel;
}

let f16Table: Uint32Array | undefined;
/** The f32 bit patterns of all 65536 f16 values (exact; copied as bits so NaN payloads survive). */
function f16ToF32BitsTable(): Uint32Array {
  if (!f16Table) {
    const t = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) t[h] = f16BitsToF32(h);
    f16Table = new Uint32Array(t.buffer);
    // f16BitsToF32 returns a canonical NaN; keep the payload: sign, quiet bit and mantissa shifted up.
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) f16Table[h] = ((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13);
    }
  }
  return f16Table;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Read in pieces so a large tensor never needs its raw bytes and its f32 copy whole at once. */
const CHUNK_BYTES = 64 << 20;

/** The float dtypes readTensorF32 reads (F64 rounded to f32): the set weights and inputs files may use for float tensors. */
export const FLOAT_DTYPES: ReadonlySet<StDType> = new Set(['F32', 'F16', 'BF16', 'F64']);
const INT_DTYPES: ReadonlySet<StDType> = new Set(['BOOL', 'U8', 'I8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64']);

/**
 * A tensor as f32: F32 exactly, F16/BF16 exactly (every value is representable), F64 rounded.
 * Integer dtypes throw unless `allowInt` (then converted to the nearest f32); readTensorInt reads
 * them exactly. Reads go in pieces of `chunkBytes` (default 64 MiB).
 * @param info a TensorInfo of readSafetensorsHeader(src).tensors (a Map by tensor name).
 * @throws SafetensorsError naming the file and tensor: an integer dtype without allowInt, a dtype
 *   with no f32 reading, offsets outside the file or a short read.
 */
export async function readTensorF32(src: ByteSource, info: TensorInfo, opts?: { allowInt?: boolean; chunkBytes?: number }): Promise<Float32Array> {
  const numel = checkInfo(src, info);
  const dt = info.dtype;
  if (!FLOAT_DTYPES.has(dt) && !(opts?.allowInt && INT_DTYPES.has(dt))) {
    throw new SafetensorsError(
      INT_DTYPES.has(dt) ? `is ${dt}, not a float tensor (use readTensorInt, or allowInt)` : `dtype ${dt} cannot be read as f32`,
      src.name,
      info.name,
    );
  }
  const eb = DTYPE_BYTES[dt];
  const out = new Float32Array(numel);
  const outU32 = new Uint32Array(out.buffer);
  const step = Math.max(1, Math.floor((opts?.chunkBytes ?? CHUNK_BYTES) / eb)) * eb;
  const total = info.end - info.begin;
  for (let off = 0; off < total; off += step) {
    const len = Math.min(step, total - off);
    const bytes = await readExact(src, info.begin + off, len, info.name);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const i0 = off / eb;
    const cnt = len / eb;
    switch (dt) {
      case 'F32':
        if (LITTLE_ENDIAN) new Uint8Array(out.buffer, i0 * 4, len).set(bytes);
        else for (let i = 0; i < cnt; i++) out[i0 + i] = dv.getFloat32(4 * i, true);
        break;
      case 'F16': {
        const tab = f16ToF32BitsTable();
        for (let i = 0; i < cnt; i++) outU32[i0 + i] = tab[dv.getUint16(2 * i, true)]!;
        break;
      }
      case 'BF16':
        for (let i = 0; i < cnt; i++) outU32[i0 + i] = dv.getUint16(2 * i, true) << 16;
        break;
      case 'F64':
        for (let i = 0; i < cnt; i++) out[i0 + i] = dv.getFloat64(8 * i, true);
        break;
      case 'BOOL':
      case 'U8':
        for (let i = 0; i < cnt; i++) out[i0 + i] = bytes[i]!;
        break;
      case 'I8':
        for (let i = 0; i < cnt; i++) out[i0 + i] = dv.getInt8(i);
        break;
      case 'I16':
        for (let i = 0; i < cnt; i++) out[i0 + i] = dv.getInt16(2 * i, true);
        break;
      case 'U16':
        for (let i = 0; i < cnt; i++) out[i0 + i] = dv.getUint16(2 * i, true);
        break;
      case 'I32':
        for (let i = 0; i < cnt; i++) out[i0 + i] = dv.getInt32(4 * i, true);
        break;
      case 'U32':
        for (let i = 0; i < cnt; i++) out[i0 + i] = dv.getUint32(4 * i, true);
        break;
      case 'I64':
        for (let i = 0; i < cnt; i++) out[i0 + i] = Number(dv.getBigInt64(8 * i, true));
        break;
      case 'U64':
        for (let i = 0; i < cnt; i++) out[i0 + i] = Number(dv.getBigUint64(8 * i, true));
        break;
    }
  }
  return out;
}

/**
 * An integer tensor, exactly: I64 as BigInt64Array (e.g. diffusers' int64 class_labels, which
 * Pipeline.generate and generate() take as they are), I32 as Int32Array; the narrower ones (I16,
 * U16, I8, U8, BOOL) widened to Int32Array. Read whole (no chunking), in tensor order.
 * @param info a TensorInfo of readSafetensorsHeader(src).tensors (a Map by tensor name).
 * @throws SafetensorsError naming the file and tensor: a float dtype, U32 or U64 (values an
 *   Int32Array / BigInt64Array cannot hold exactly; readTensorF32 with allowInt reads them rounded),
 *   offsets outside the file or a short read.
 */
export async function readTensorInt(src: ByteSource, info: TensorInfo): Promise<BigInt64Array | Int32Array> {
  const numel = checkInfo(src, info);
  const dt = info.dtype;
  const bytes = await readExact(src, info.begin, info.end - info.begin, info.name);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dt) {
    case 'I64': {
      const out = new BigInt64Array(numel);
      if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
      else for (let i = 0; i < numel; i++) out[i] = dv.getBigInt64(8 * i, true);
      return out;
    }
    case 'I32': {
      const out = new Int32Array(numel);
      if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
      else for (let i = 0; i < numel; i++) out[i] = dv.getInt32(4 * i, true);
      return out;
    }
    case 'I16':
    case 'U16':
    case 'I8':
    case 'U8':
    case 'BOOL': {
      const out = new Int32Array(numel);
      for (let i = 0; i < numel; i++) {
        out[i] = dt === 'I16' ? dv.getInt16(2 * i, true) : dt === 'U16' ? dv.getUint16(2 * i, true) : dt === 'I8' ? dv.getInt8(i) : bytes[i]!;
      }
      return out;
    }
    default:
      throw new SafetensorsError(`is ${dt}, not an integer tensor readable as I64/I32`, src.name, info.name);
  }
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
/** f32 -> bfloat16 bits, round to nearest even; NaN stays NaN (quiet). */
export function f32ToBf16Bits(v: number): number {
  f32buf[0] = v;
  const x = u32buf[0]!;
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

export interface WriteTensor {
  name: string;
  dtype: WriteDType;
  shape: number[];
  data: Float32Array | BigInt64Array | Int32Array;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Bytes over a plain ArrayBuffer, as `new Blob([...])` and fetch bodies take them: `Uint8Array<ArrayBuffer>`
 * on TypeScript 5.7 and later, plain `Uint8Array` before. Written as Uint8Array.of's return type because the
 * shipped declarations keep this text, and `Uint8Array<ArrayBuffer>` itself is an error (TS2315, not generic)
 * on TypeScript < 5.7, whose typed arrays take no type argument; plain `Uint8Array` would be
 * `Uint8Array<ArrayBufferLike>` on 5.7+, which Blob refuses (it may be a SharedArrayBuffer's).
 */
export type ArrayBufferBytes = ReturnType<Uint8ArrayConstructor['of']>;

/**
 * A complete safetensors file. F32 data may be stored as F32, F16 or BF16 (rounded to nearest
 * even); I64 takes a BigInt64Array, I32 an Int32Array. The header is space-padded so the data
 * area starts at a multiple of 8. Tensors are laid out in the order given.
 */
export function writeSafetensors(tensors: WriteTensor[], metadata?: Record<string, string>): ArrayBufferBytes {
  const file = '(writeSafetensors)';
  const names = new Set<string>();
  const entries: string[] = [];
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`metadata value of ${show(k)} must be a string`, file, '__metadata__');
      if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) throw new SafetensorsError(`metadata ${show(k)} is not well-formed Unicode`, file, '__metadata__');
    }
    entries.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  const layout: { t: WriteTensor; begin: number }[] = [];
  for (const t of tensors) {
    const fail = (msg: string): never => {
      throw new SafetensorsError(msg, file, t.name);
    };
    if (t.name === '__metadata__') fail('"__metadata__" is reserved');
    if (LONE_SURROGATE.test(t.name)) fail('name is not well-formed Unicode');
    if (names.has(t.name)) fail('name given twice');
    names.add(t.name);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`bad shape ${show(t.shape)}`);
    const numel = numelOf(t.shape);
    const want = t.dtype === 'I64' ? BigInt64Array : t.dtype === 'I32' ? Int32Array : t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16' ? Float32Array : null;
    if (!want) fail(`dtype ${show(t.dtype)} cannot be written (F32, F16, BF16, I64, I32)`);
    if (!(t.data instanceof want!)) fail(`${t.dtype} needs a ${want!.name}, got ${t.data?.constructor?.name}`);
    if (t.data.length !== numel) fail(`data has ${t.data.length} elements, shape [${t.shape.join(', ')}] needs ${numel}`);
    const nbytes = numel * DTYPE_BYTES[t.dtype];
    entries.push(`${JSON.stringify(t.name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + nbytes] })}`);
    layout.push({ t, begin: offset });
    offset += nbytes;
  }
  let header = new TextEncoder().encode(`{${entries.join(',')}}`);
  const padded = Math.ceil((8 + header.length) / 8) * 8 - 8;
  if (padded > header.length) {
    const h = new Uint8Array(padded).fill(0x20);
    h.set(header);
    header = h;
  }
  const out = new Uint8Array(8 + header.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  const base = 8 + header.length;
  for (const { t, begin } of layout) {
    const p = base + begin;
    const d = t.data;
    if (t.dtype === 'F16') {
      for (let i = 0; i < d.length; i++) dv.setUint16(p + 2 * i, f32ToF16Bits(d[i] as number), true);
    } else if (t.dtype === 'BF16') {
      for (let i = 0; i < d.length; i++) dv.setUint16(p + 2 * i, f32ToBf16Bits(d[i] as number), true);
    } else if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), p);
    } else if (t.dtype === 'F32') {
      for (let i = 0; i < d.length; i++) dv.setFloat32(p + 4 * i, d[i] as number, true);
    } else if (t.dtype === 'I32') {
      for (let i = 0; i < d.length; i++) dv.setInt32(p + 4 * i, d[i] as number, true);
    } else {
      for (let i = 0; i < d.length; i++) dv.setBigInt64(p + 8 * i, d[i] as bigint, true);
    }
  }
  return out;
}
