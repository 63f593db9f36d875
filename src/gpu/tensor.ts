// GPU tensors: a storage buffer with a shape and a storage dtype, plus a tracking allocator.
import type { Gpu } from './device.js';
import { checkAlive, GpuError, gpuWait, untilLost } from './device.js';
import { f16BitsToF32, f32ToF16Bits } from './half.js';
import { shownValue as shown } from '../io/json.js';

/** Storage dtype of weights and activations on the GPU: 'f32', or 'f16' (needs shader-f16; arithmetic stays f32). */
export type DType = 'f32' | 'f16';

/** A tensor on the GPU: row-major elements of `dtype` in (a part of) a storage buffer. */
export interface Tensor {
  /** The storage buffer holding it (shared with other tensors when `offset` is set or buffers are pooled). */
  buffer: GPUBuffer;
  /** Dimensions, outermost first. */
  shape: number[];
  /** Storage dtype of the elements. */
  dtype: DType;
  /** Element count. */
  size: number;
  /** Its name in messages and profiles (a state-dict key or a scratch activation's name). */
  label: string;
  /**
   * Byte offset of element 0 in `buffer` (default 0): a part of a larger buffer, e.g. q, k or v
   * inside a fused q|k|v projection output. Bound with this offset and the tensor's own size, so
   * it must be a multiple of the device's minStorageBufferOffsetAlignment (256 on most adapters).
   */
  offset?: number;
}

export const bytesPer = (d: DType): number => (d === 'f16' ? 2 : 4);
export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
/** Storage buffers are sized to a multiple of 4 bytes (f16 tensors of odd length). */
export const storageBytes = (n: number, d: DType): number => Math.max(4, Math.ceil((n * bytesPer(d)) / 4) * 4);
export const shapeStr = (s: readonly number[]): string => `[${s.join(',')}]`;

/**
 * The `numel(shape)` elements of `t` from element `elemOffset` on, as a tensor of its own over
 * the same buffer (no copy). Throws when they run past `t`. To be bound, the byte offset must be
 * a multiple of minStorageBufferOffsetAlignment (Plan checks when recording).
 */
export function subTensor(t: Tensor, elemOffset: number, shape: number[], label = t.label): Tensor {
  const size = numel(shape);
  if (!Number.isInteger(elemOffset) || elemOffset < 0 || elemOffset + size > t.size) {
    throw new Error(`subTensor ${label}: ${size} elements at ${elemOffset} exceed ${t.label} (${t.size} elements)`);
  }
  return { buffer: t.buffer, shape: [...shape], dtype: t.dtype, size, label, offset: (t.offset ?? 0) + elemOffset * bytesPer(t.dtype) };
}

/**
 * Refuses what no tensor has: a shape that is not a list of integers ≥ 0, a dtype other than 'f32' / 'f16'.
 * @throws TypeError naming `label`.
 */
export function checkTensorArgs(shape: unknown, dtype: unknown, label: string): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new TypeError(`tensor ${label}: shape must be a list of integers ≥ 0, got ${shown(shape)}`);
  if (dtype !== 'f32' && dtype !== 'f16') throw new TypeError(`tensor ${label}: dtype 'f32' or 'f16', got ${shown(dtype)}`);
}

// The device each buffer an Allocator made lives on. A GPUBuffer does not say, and WebGPU answers a
// buffer used on another device with a validation error outside every error scope: a read of one
// resolved to zeros, with only Dawn's line on stderr. One WeakMap lookup per tensor checked.
const bufferDevice = new WeakMap<GPUBuffer, GPUDevice>();

/**
 * Whether `a` and `b` are one device: the same object, or one wrapped (a Proxy, as a test harness
 * makes) whose queue is the other's (a device's queue is the same object at every read).
 */
export const sameDevice = (a: GPUDevice, b: GPUDevice): boolean => a === b || (a.queue !== undefined && a.queue === b.queue);

/**
 * Throws GpuError ('validation') when `b` (a tensor, or a buffer) was allocated on another device than
 * `gpu`'s, in one line naming `call`, the tensor and both devices (labels `tessera#N`), before any GPU
 * work. Buffers no Allocator made (and planning Gpus, which have no device) pass.
 */
export function checkDevice(gpu: Gpu, b: Tensor | GPUBuffer, call: string): void {
  if (typeof b !== 'object' || b === null) return;
  const buf = 'buffer' in b ? b.buffer : b;
  const owner = bufferDevice.get(buf);
  if (owner === undefined || !gpu.device || sameDevice(owner, gpu.device)) return;
  const what = 'buffer' in b ? `tensor ${b.label}` : `buffer ${buf.label}`;
  throw new GpuError(`${call} on device "${gpu.device.label}": ${what} belongs to device "${owner.label}" (a tensor is used only on the device that allocated it: use that Gpu, or upload its values to this one)`, 'validation', what);
}

/** Tracks every buffer tessera allocates: live bytes, peak bytes, and destroys them all. */
export class Allocator {
  /** A planning allocator (src/gpu/memory-plan.ts DryAllocator): buffers are placeholders, plans on it record no GPU objects. */
  readonly dry: boolean = false;
  /** Bytes of the buffers allocated and not yet freed (each rounded up to 16 bytes, 16 at least). */
  liveBytes = 0;
  /** The most liveBytes has been. */
  peakBytes = 0;
  private live = new Map<GPUBuffer, number>();

  constructor(readonly gpu: Gpu) {}

  /**
   * A tracked GPU buffer of at least `bytes` (rounded up to 16, 16 at least) with `usage`, named `label`.
   * @throws GpuError ('out-of-memory') above the adapter's maxBufferSize; ('lost') when the device is lost.
   */
  buffer(bytes: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    checkAlive(this.gpu, `allocating ${label}`);
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const max = this.gpu.limits.maxBufferSize;
    if (size > max) {
      throw new GpuError(`buffer ${label} needs ${fmtBytes(size)}, the adapter's maxBufferSize is ${fmtBytes(max)}: use fewer frames, a smaller resolution or dtype: 'f16'`, 'out-of-memory', label);
    }
    // A storage buffer may exceed maxStorageBufferBindingSize when it is bound in parts (a shared
    // activation buffer, FFN row chunks, q|k|v planes): Plan checks each binding against it.
    const b = this.gpu.device.createBuffer({ size, usage, label });
    bufferDevice.set(b, this.gpu.device);
    this.live.set(b, size);
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    return b;
  }

  /**
   * A storage tensor of `shape` (integers ≥ 0; a 0 dim makes an empty tensor) in `dtype` ('f32' or
   * 'f16'), uninitialised (zeros on WebGPU), tracked by this allocator.
   * @throws TypeError naming `label` for a shape that is not a list of integers ≥ 0 (a negative one
   *   made a tensor of size -6) or a dtype other than 'f32' / 'f16' (a 'bf16' was stored as f32);
   *   GpuError when the buffer exceeds maxBufferSize or the device is lost.
   */
  tensor(shape: number[], dtype: DType, label: string): Tensor {
    checkTensorArgs(shape, dtype, label);
    const size = numel(shape);
    const buffer = this.buffer(storageBytes(size, dtype), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label);
    return { buffer, shape: [...shape], dtype, size, label };
  }

  /**
   * A tensor as tensor() makes, holding `data` (f32 values, converted to `dtype` storage): exactly
   * numel(shape) of them.
   * @throws TypeError as tensor(), and for data of another length (short data was padded with zeros,
   *   long data refused), before anything is allocated.
   */
  upload(data: Float32Array | number[], shape: number[], dtype: DType, label: string): Tensor {
    checkTensorArgs(shape, dtype, label);
    if (data?.length !== numel(shape)) {
      throw new TypeError(`upload ${label}: ${data?.length ?? shown(data)} values for shape ${shapeStr(shape)}, which holds ${numel(shape)}`);
    }
    const t = this.tensor(shape, dtype, label);
    writeTensor(this.gpu, t, data);
    return t;
  }

  /** Upload raw u32/i32 data (e.g. class labels) as a storage tensor of 4-byte words. */
  uploadU32(data: Uint32Array | Int32Array, label: string): Tensor {
    const buffer = this.buffer(Math.max(4, data.byteLength), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label);
    this.gpu.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return { buffer, shape: [data.length], dtype: 'f32', size: data.length, label };
  }

  /** Destroys one buffer this allocator made (a tensor's whole buffer); one it does not track is left alone. */
  free(b: GPUBuffer | Tensor): void {
    const buf = 'buffer' in b ? b.buffer : b;
    const size = this.live.get(buf);
    if (size === undefined) return;
    this.live.delete(buf);
    this.liveBytes -= size;
    buf.destroy();
  }

  /** Destroys every buffer still live; peakBytes is kept. */
  destroyAll(): void {
    for (const b of this.live.keys()) b.destroy();
    this.live.clear();
    this.liveBytes = 0;
  }
}

/** Bytes for messages: `512 B`, `1.5 KiB`, `128.0 MiB`, `2.33 GiB` (binary units). */
export function fmtBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

/** Encode f32 values into a tensor's storage dtype (padded to 4 bytes). */
export function encodeData(data: Float32Array | number[], dtype: DType): ArrayBuffer {
  const n = data.length;
  if (dtype === 'f32') {
    const a = new Float32Array(n);
    a.set(data);
    return a.buffer;
  }
  const h = new Uint16Array(Math.ceil(n / 2) * 2);
  for (let i = 0; i < n; i++) h[i] = f32ToF16Bits(data[i]!);
  return h.buffer;
}

/**
 * Writes f32 `data` into `t` from element `elemOffset` on.
 * @throws GpuError ('validation') for a tensor of another device (checkDevice); Error past its end.
 */
export function writeTensor(gpu: Gpu, t: Tensor, data: Float32Array | number[], elemOffset = 0): void {
  checkDevice(gpu, t, `writeTensor ${t.label}`);
  if (elemOffset + data.length > t.size) throw new Error(`writeTensor ${t.label}: ${data.length} values at ${elemOffset} exceed ${t.size}`);
  const bytes = encodeData(data, t.dtype);
  const off = (t.offset ?? 0) + elemOffset * bytesPer(t.dtype);
  if (off % 4 !== 0) throw new Error(`writeTensor ${t.label}: f16 offset must be even`);
  gpu.device.queue.writeBuffer(t.buffer, off, bytes, 0, bytes.byteLength);
}

/** How a read-back gets its staging buffer. */
export interface ReadOptions {
  /**
   * Allocate a one-off staging buffer from this allocator (counted in its live and peak bytes) and
   * free it once read, as the autotuner does so that nothing stays on the device. Default: one of
   * the staging buffers kept per device.
   */
  staging?: Allocator;
}

/**
 * Copy a tensor back to the CPU as f32.
 * @throws GpuError 'lost' when the device is lost before or during the read; 'validation' for a tensor of
 *   another device (checkDevice, before any GPU work) or when WebGPU refuses the copy (readBuffer).
 */
export async function readTensor(gpu: Gpu, t: Tensor, opts: ReadOptions = {}): Promise<Float32Array> {
  checkDevice(gpu, t, `readTensor ${t.label}`);
  const raw = await readBuffer(gpu, t.buffer, storageBytes(t.size, t.dtype), t.label, t.offset ?? 0, opts);
  if (t.dtype === 'f32') return new Float32Array(raw, 0, t.size);
  const h = new Uint16Array(raw, 0, t.size);
  const out = new Float32Array(t.size);
  for (let i = 0; i < t.size; i++) out[i] = f16BitsToF32(h[i]!);
  return out;
}

// Staging buffers for read-backs, kept per device once used: a fresh MAP_READ buffer costs more
// than the copy into it (on lavapipe 6–30 ms for 1.5 MiB, its memory allocated and zeroed per
// call, against 0.2–8 ms for a kept one; bench/RESULTS.md "Read-back staging"). A buffer is
// taken out of the idle list while it is mapped, so concurrent reads never share one.
const STAGING_KEEP = 4;                  // idle staging buffers kept per device
const STAGING_MAX_BYTES = 32 * 2 ** 20;  // larger read-backs get a buffer of their own, destroyed after
const idleStaging = new WeakMap<GPUDevice, GPUBuffer[]>();

function takeStaging(d: GPUDevice, size: number, label: string): GPUBuffer {
  const idle = idleStaging.get(d);
  if (idle && size <= STAGING_MAX_BYTES) {
    // the smallest idle buffer that holds `size`
    let best = -1;
    for (let i = 0; i < idle.length; i++) if (idle[i]!.size >= size && (best < 0 || idle[i]!.size < idle[best]!.size)) best = i;
    if (best >= 0) return idle.splice(best, 1)[0]!;
  }
  return d.createBuffer({ size, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ, label: `${label}:readback` });
}

/** Back to the idle list (unmapped) when small enough, else destroyed; the largest idle one goes when the list is full. */
function returnStaging(d: GPUDevice, b: GPUBuffer): void {
  if (b.size > STAGING_MAX_BYTES || b.mapState === 'pending') {
    b.destroy();
    return;
  }
  if (b.mapState === 'mapped') b.unmap();
  let idle = idleStaging.get(d);
  if (!idle) idleStaging.set(d, (idle = []));
  idle.push(b);
  if (idle.length > STAGING_KEEP) {
    idle.sort((x, y) => x.size - y.size);
    idle.pop()!.destroy();
  }
}

/**
 * `bytes` of `src` from byte `offset` (a multiple of 4) back to the CPU.
 * @throws GpuError 'lost' when the device is lost before or during the read; 'validation' for a buffer of
 *   another device (checkDevice) or any copy WebGPU refuses (caught in the read's own error scope: the
 *   staging buffer then held no data, and the read resolved to its zeros).
 */
export async function readBuffer(gpu: Gpu, src: GPUBuffer, bytes: number, label: string, offset = 0, opts: ReadOptions = {}): Promise<ArrayBuffer> {
  checkAlive(gpu, `reading ${label}`);
  checkDevice(gpu, src, `reading ${label}`);
  const d = gpu.device;
  const size = Math.ceil(bytes / 4) * 4;
  const own = opts.staging;
  const staging = own ? own.buffer(size, GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ, `${label}:readback`) : takeStaging(d, size, label);
  let ok = false;
  try {
    // pushed and popped with no await between: concurrent reads (and a plan's scopes) keep their own errors
    d.pushErrorScope('validation');
    let scope: Promise<GPUError | null>;
    try {
      const enc = d.createCommandEncoder({ label: `${label}:readback` });
      enc.copyBufferToBuffer(src, offset, staging, 0, size);
      d.queue.submit([enc.finish()]);
    } finally {
      scope = d.popErrorScope().catch(() => null);   // a lost device is mapWithLoss's to report
    }
    await mapWithLoss(gpu, staging, label);
    const err = await scope;
    if (err) throw new GpuError(`WebGPU validation error while reading ${label}: ${err.message.split('\n')[0]}`, 'validation', `reading ${label}`);
    const out = staging.getMappedRange(0, size).slice(0, bytes);
    ok = true;
    return out;
  } finally {
    // after a failure the buffer's state is unknown: never reuse it
    if (own) own.free(staging);
    else if (ok) returnStaging(d, staging);
    else staging.destroy();
  }
}

/** mapAsync (gpuWait: no busy core in Node) that rejects (instead of hanging) when the device is lost meanwhile. */
async function mapWithLoss(gpu: Gpu, b: GPUBuffer, label: string): Promise<void> {
  const lost = (i: GPUDeviceLostInfo) => new GpuError(`GPU device lost (${i.reason}) while reading ${label}: ${i.message}`, 'lost', label);
  try {
    await gpuWait(gpu, untilLost(gpu, b.mapAsync(GPUMapMode.READ), lost));
  } catch (e) {
    if (e instanceof GpuError) throw e;
    throw new GpuError(`reading ${label} failed: ${(e as Error).message}${gpu.lost ? ` (${gpu.lost})` : ''}`, gpu.lost ? 'lost' : 'internal', label);
  }
}
