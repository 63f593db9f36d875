// The model as a plan of kernel dispatches: recorded once per input shape (pipelines, uniform
// buffers and bind groups made here), replayed per sampling step into one command buffer.
import type { Gpu } from './device.js';
import { checkAlive, GpuError, gpuWait, untilLost, withErrorScopes } from './device.js';
import { DisposedError } from './serial.js';
import type { KernelSpec, Variant } from './kernel.js';
import type { Hook } from '../hook.js';
import { checkVariantSupported, compilePipelines, getKernel, kernelCached, kernelLayout, resolveVariant, variantKey } from './kernel.js';
import type { Allocator, DType, Tensor } from './tensor.js';
import { checkDevice, fmtBytes, sameDevice, readTensor, shapeStr, storageBytes } from './tensor.js';

/** One recorded dispatch, with what the profiler needs to know about it. */
export interface Dispatch {
  /** Kernel variant key, e.g. `attention[F16]{BQ=16}`. */
  kernel: string;
  /** Kernel family (file) name, e.g. `attention`. */
  family: string;
  /** Where in the model, e.g. `blocks.3.attn1`. */
  layer: string;
  /** Human-readable shapes, e.g. `x[2,256,384] w[1152,384]`. */
  shapes: string;
  /** Floating-point operations of the dispatch, by the op's formula (a multiply-add counts 2). */
  flops: number;
  /** Bytes the dispatch reads and writes in storage buffers, by the op's formula (the roofline's memory traffic). */
  bytes: number;
  /** The compiled pipeline of the variant (created by `compile`, or at the first encode). */
  pipeline: GPUComputePipeline;
  /** Its bindings: the uniform buffer (binding 0), then the storage buffers in binding order. */
  bindGroup: GPUBindGroup;
  /** The workgroup grid dispatched (x, y, z; grid1D folds large counts into y). */
  workgroups: [number, number, number];
  /** The tensor the dispatch writes (its last read_write binding), for locating non-finite values. */
  output?: Tensor;
  /** The strategy a tuned op chose (e.g. `tiled-128`), for reports. */
  choice?: string;
  /** The storage bindings, in binding order: what liveness (src/gpu/memory-plan.ts) and binding-size reports read. */
  bound: Bound[];
  /** Work that depends on a key-fold table the host writes after recording (see KeyFoldWork). */
  keyFold?: KeyFoldWork;
  /** A dry run's note of a count this dispatch cannot hold (a real recording throws LimitError instead). */
  overflow?: CountOverflow;
  /** Its uniform buffer (a real recording), freed when the tuner replaces the dispatch. */
  params?: GPUBuffer;
}

/** The largest count a kernel's u32 parameter, element index or invocation id holds: 2^32 − 1. */
export const U32_MAX = 0xffffffff;

/** Bytes of the largest binding a kernel indexes, elements of `bytes` bytes: maxStorageBufferBindingSize, or 2^32 − 1 elements where less (bindings past 4 GiB). */
export const maxBindingBytes = (gpu: Gpu, bytes: number): number => Math.min(gpu.limits.maxStorageBufferBindingSize, U32_MAX * bytes);

/**
 * A run too large for the device or the budget: a buffer or binding above the adapter's limits,
 * the total above maxMemory, or a count above what a kernel's 32-bit parameters and the workgroup
 * grid hold. Thrown before anything runs, with the numbers and what to change (src/model/memory.ts
 * re-exports it; the CLI prints `LimitError: …`, exit 1).
 */
export class LimitError extends Error {
  override name = 'LimitError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_LIMIT';
}

/**
 * A count of one dispatch that WebGPU cannot express: a u32 parameter (an element or pair count)
 * or a bound tensor's element count above 2^32 − 1, or a workgroup grid above the adapter's
 * maxComputeWorkgroupsPerDimension in a dimension. Every such count grows with the request's tokens.
 */
export interface CountOverflow {
  /** The kernel and layer, e.g. `rope@blocks.0.attn1`. */
  where: string;
  /** What overflows, e.g. `uniform pairs`, `the element count of ffn_hidden [2,4096,8960]`, `the workgroup count along y (… in all)`. */
  what: string;
  value: number;
  limit: number;
}

/** One line for a CountOverflow: the op, the count, the limit and what to reduce. */
export function describeOverflow(o: CountOverflow): string {
  const why = o.limit === U32_MAX ? 'the 2^32 − 1 a WebGPU kernel counts to in 32 bits' : "the adapter's maxComputeWorkgroupsPerDimension";
  return `${o.where}: ${o.what} is ${o.value}, above ${o.limit} (${why})`;
}

/** What a request changes to make its counts smaller (tokens drive them all). */
export const REDUCE_SIZE = 'use fewer frames, a smaller resolution or a smaller batch';

/**
 * A dispatch whose keys visited per batch item are data (attention with AttentionArgs.keyFold):
 * item b visits min(fold[b] + 1, lk) keys, fold[b] the u32 at byte `offset + 4b` of `buffer`.
 * Its flops and bytes are `flopsPerKey · keys` and `bytesFixed + bytesPerKey · keys` over the
 * items, set by `Plan.keyFoldWritten` when the host writes the table (until then: every key).
 */
export interface KeyFoldWork {
  buffer: GPUBuffer;
  offset: number;
  batch: number;
  lk: number;
  flopsPerKey: number;
  bytesPerKey: number;
  bytesFixed: number;
}

/** One storage binding of a dispatch: a byte range of a buffer, and whether the kernel may write it. */
export interface Bound {
  buffer: GPUBuffer;
  offset: number;
  size: number;
  write: boolean;
}

/**
 * Where a plan's scratch activations come from (src/model/layers.ts `Scratch`): set on plans whose
 * activation buffers are shared by liveness (src/gpu/memory-plan.ts). Each call is a new activation.
 */
export interface ActivationSource {
  take(shape: number[], dtype: DType, label: string): Tensor;
}

/**
 * An op call with alternatives (src/gpu/tune.ts): the strategies to time, the heuristic one,
 * how to record a strategy on the call's own buffers, and how to record it on scratch inputs.
 */
export interface TuneRequest {
  /** Kernel family, e.g. `gemm`. */
  family: string;
  /** Shape bucket sharing one decision, e.g. `f32 M4096 N2048 K2048`. */
  bucket: string;
  /** Strategy names, the reference one (the heuristic) first. */
  candidates: string[];
  heuristic: string;
  /** The call's floating-point operations (2 per multiply-add): a first run times only calls of at least TUNE_MIN_FLOPS (tune.ts). */
  flops: number;
  args(name: string): RecordArgs;
  /** Records strategy `name` on seeded scratch inputs allocated from `p.alloc`; returns its output. */
  bench(p: Plan, name: string): Tensor;
}

interface TuneSite extends TuneRequest {
  index: number;
  chosen: string;
}

/** Set by src/gpu/tune.ts when loaded: cached lookups while recording, tuning before the first run. */
export interface TuneHook {
  cached(gpu: Gpu, family: string, bucket: string): string | null;
  tune(plan: Plan): Promise<void>;
}
let tuneHook: TuneHook | null = null;
export function setTuneHook(h: TuneHook | null): void {
  tuneHook = h;
}

/** Where a replay first found a non-finite value: the dispatch and the flat index in its output. */
export interface NonFinite {
  index: number;
  dispatch: Dispatch;
  flatIndex: number;
  value: number;
}

/** `blocks.3.attn1 (attention[F16]{BQ=16}, dispatch 41/130)`: names a dispatch in messages. */
export function describeDispatch(p: Plan, i: number): string {
  const d = p.dispatches[i]!;
  return `${d.layer || '(top level)'} (${d.kernel}, dispatch ${i + 1}/${p.dispatches.length})`;
}

/** A uniform struct of 4-byte scalars, packed in declaration order (matches a WGSL struct of u32/i32/f32). */
export type UniformField = [name: string, type: 'u32' | 'i32' | 'f32', value: number];

/**
 * The uniform buffer of `fields` (4 bytes each, padded to 16-byte rows). `where` names the dispatch
 * in errors (e.g. `rope@blocks.0.attn1`).
 * @throws LimitError when a u32 field is an integer above 2^32 − 1 (a request too large for the
 * kernel's counts); Error for a non-finite value or a negative or fractional u32 (a bug in the op).
 */
export function packUniforms(fields: UniformField[], where = 'kernel'): ArrayBuffer {
  const buf = new ArrayBuffer(uniformBytes(fields));
  const dv = new DataView(buf);
  fields.forEach(([name, type, value], i) => {
    if (!Number.isFinite(value)) throw new Error(`${where}: uniform ${name} is not finite: ${value}`);
    if (type === 'u32') {
      if (Number.isInteger(value) && value > U32_MAX) throw new LimitError(`${describeOverflow({ where, what: `uniform ${name}`, value, limit: U32_MAX })}: ${REDUCE_SIZE}`);
      if (value < 0 || !Number.isInteger(value)) throw new Error(`${where}: uniform ${name}=${value} is not a u32`);
      dv.setUint32(i * 4, value, true);
    } else if (type === 'i32') dv.setInt32(i * 4, value, true);
    else dv.setFloat32(i * 4, value, true);
  });
  return buf;
}

/** Bytes of the uniform buffer packUniforms makes for `fields`. */
function uniformBytes(fields: UniformField[]): number {
  return Math.max(4, Math.ceil(fields.length / 4) * 4) * 4;
}

/**
 * The first count of a dispatch WebGPU cannot express (see CountOverflow), or undefined: checked as
 * it is recorded, so that a request too large is refused by name before any kernel runs.
 */
export function countOverflow(gpu: Gpu, a: RecordArgs, where: string): CountOverflow | undefined {
  for (const [name, type, value] of a.uniforms ?? []) {
    if (type === 'u32' && Number.isInteger(value) && value > U32_MAX) return { where, what: `uniform ${name}`, value, limit: U32_MAX };
  }
  // kernels index a binding's elements with u32 (element counts of bindings that fit in bytes can still pass 2^32 in f16)
  for (const b of a.buffers) {
    if ('buffer' in b && b.size > U32_MAX) return { where, what: `the element count of ${b.label} ${shapeStr(b.shape)}`, value: b.size, limit: U32_MAX };
  }
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  const axis = a.workgroups.findIndex((n) => n > max);
  if (axis >= 0) return { where, what: `the workgroup count along ${'xyz'[axis]} (${a.workgroups.reduce((x, y) => x * y, 1)} workgroups in all)`, value: a.workgroups[axis]!, limit: max };
  return undefined;
}

/**
 * Split a 1-D workgroup count over x and y so that neither exceeds the per-dimension limit.
 * Kernels recover the flat id as `wid.x + wid.y * nwg.x` (guarding against overshoot), or the
 * invocation's as `gid.x + gid.y * nwg.x * WG` in u32. x is the smallest power of two that brings
 * y within the limit, so the overshoot is under x workgroups and the grid's x·y·WG invocations stay
 * within 2^32 whenever the kernel's count (≤ 2^32 − 1) does, WG being a power of two: a split
 * x·y past it wrapped the last invocations' ids to 0, 1, … (inside the count: the work of the
 * first elements done twice: 4294958080 elements at WG 256 made a grid of 65281 × 257 workgroups,
 * 2^32 + 256 invocations). Past the largest such x times max (32768 × 65535 workgroups, about
 * 2^31 at WebGPU's default limit: no 1-D kernel's count gets there) the even split takes over;
 * past max × max y exceeds the limit: Plan.record refuses that dispatch with a LimitError naming
 * it (a dry run notes it: the memory check reports it with the run's numbers).
 */
export function grid1D(gpu: Gpu, groups: number): [number, number, number] {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [Math.max(1, groups), 1, 1];
  let x = 1;
  while (x * max < groups && x * 2 <= max) x *= 2;
  if (Math.ceil(groups / x) <= max) return [x, Math.ceil(groups / x), 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y, 1];
}

export interface RecordArgs {
  spec: KernelSpec;
  variant?: Partial<Variant>;
  uniforms?: UniformField[];
  /** Storage buffers in binding order after the uniform (binding 0 when `uniforms` is given). */
  buffers: (Tensor | GPUBuffer)[];
  workgroups: [number, number, number];
  layer?: string;
  shapes: string;
  flops: number;
  bytes: number;
  keyFold?: KeyFoldWork;
}

/**
 * The binding offset alignment of `gpu`: its device's minStorageBufferOffsetAlignment, or 256 (the
 * largest WebGPU lets an adapter require) for a planning Gpu, which has no device.
 */
export function offsetAlignment(gpu: Gpu): number {
  return gpu.device?.limits.minStorageBufferOffsetAlignment ?? 256;
}

/**
 * Throws GpuError ('validation') when tensor `b` starts at a byte offset of its buffer that is not a
 * multiple of offsetAlignment(gpu): WebGPU would refuse its bind group. A dry run checks it as a
 * real recording does, so that a memory check never accepts a run whose recording fails.
 */
export function checkBindingOffset(gpu: Gpu, b: Tensor | GPUBuffer, kernel: string): void {
  if (!('buffer' in b) || b.offset === undefined) return;
  const align = offsetAlignment(gpu);
  if (b.offset % align !== 0) throw new GpuError(`${kernel}: tensor ${b.label} starts at byte ${b.offset} of its buffer, not a multiple of the adapter's minStorageBufferOffsetAlignment ${align}`, 'validation', b.label);
}

/**
 * The byte range a dispatch binds of `b`: a raw buffer whole; a tensor only its own bytes, never the
 * rest of its buffer. A part of a buffer (Tensor.offset set: a q|k|v plane, an item's rows) is bound as
 * storageBytes from its offset; a tensor at the start of its buffer (offset unset) as storageBytes rounded
 * up to 16 (what an Allocator buffer of its own holds, so a vec4 kernel sees the same arrayLength), within
 * the buffer. The latter matters for the shared activation buffers (PooledActivations): a tensor in one
 * is as small as itself, while its buffer is sized for the largest activation sharing it. Binding the whole
 * buffer bound that largest size, past maxStorageBufferBindingSize on Wan's 146 MiB slot (the text
 * embedder's [2,512,1536] output bound as 146 MiB: Dawn's uncaptured 'Binding size (153354240) of
 * [Buffer "shared.0"]'), while the plan's own check (`bound`) saw the tensor's size. Both read this.
 */
export function bindRange(b: Tensor | GPUBuffer): { buffer: GPUBuffer; offset: number; size: number } {
  if (!('buffer' in b)) return { buffer: b, offset: 0, size: b.size };
  const bytes = storageBytes(b.size, b.dtype);
  if (b.offset !== undefined) return { buffer: b.buffer, offset: b.offset, size: bytes };
  return { buffer: b.buffer, offset: 0, size: Math.min(Math.ceil(bytes / 16) * 16, b.buffer.size ?? Infinity) };
}

/** A storage binding of `b`: the range bindRange gives, its offset checked against the adapter's alignment. */
function bufferBinding(gpu: Gpu, b: Tensor | GPUBuffer, kernel: string): GPUBufferBinding {
  checkBindingOffset(gpu, b, kernel);
  const r = bindRange(b);
  return { buffer: r.buffer, offset: r.offset, size: r.size };
}

/** Records dispatches; `run` replays them. Ops call `plan.record(...)`. */
export class Plan {
  readonly dispatches: Dispatch[] = [];
  /** Layer name prefix applied to dispatches recorded while set (e.g. 'blocks.3'). */
  layer = '';

  /** What the plan is, for messages (a workload sets its label); unset: the plan is described by its dispatches. */
  name?: string;

  /** Tune pending requests before the first run (src/gpu/tune.ts); the tuner's own scratch plans set false. */
  tuning = true;

  /**
   * GPU bytes the tuning before the first run may allocate for scratch (TuneOptions.maxScratchBytes):
   * set by the model to what its maxMemory leaves; undefined: no limit.
   */
  tuneBudget?: number;

  /** The key-fold tables written so far, by buffer: u32 values from byte `offset` (see keyFoldWritten). */
  private readonly keyFolds = new Map<GPUBuffer, { offset: number; table: Uint32Array }>();

  /** Scratch activations of this plan, when they are shared by liveness; else Scratch keeps one buffer per name. */
  activations?: ActivationSource;

  private dummyBuf: GPUBuffer | null = null;
  /** Variants recorded before their pipeline exists (see `compile`). */
  private uncompiled = new Map<string, { spec: KernelSpec; variant: Variant }>();
  private tunables: TuneSite[] = [];

  /**
   * A plan recording on `gpu`, its uniform buffers (and the tuner's scratch) allocated from `alloc`.
   * @throws GpuError ('validation') when `alloc` allocates on another device than `gpu`'s: every bind group
   *   would have mixed the two devices' buffers.
   */
  constructor(
    readonly gpu: Gpu,
    readonly alloc: Allocator,
  ) {
    const own = alloc?.dry ? undefined : alloc?.gpu?.device;
    if (own && gpu?.device && !sameDevice(own, gpu.device)) throw new GpuError(`new Plan on device "${gpu.device.label}": its Allocator allocates on device "${own.label}" (a plan and its allocator share one Gpu: new Plan(gpu, new Allocator(gpu)))`, 'validation', 'Plan');
  }

  /** A small buffer bound to bindings a variant does not use. */
  get dummy(): GPUBuffer {
    if (!this.dummyBuf) this.dummyBuf = this.alloc.buffer(16, 0x80 /* GPUBufferUsage.STORAGE, without the WebGPU globals a dry run lacks */, 'dummy');
    return this.dummyBuf;
  }

  /**
   * Records one dispatch of `a.spec` (its uniforms written, its bind group made; the pipeline is created by
   * `compile`, or at the first encode). In a dry run (memory planning) only the buffers are noted.
   * @throws LimitError for a count past what the kernel's u32 parameters or the workgroup grid hold (a dry run
   *   notes it instead); GpuError ('out-of-memory') for a binding above maxStorageBufferBindingSize, ('validation')
   *   for a tensor offset off the adapter's alignment or a tensor allocated on another device than the plan's
   *   (before anything is recorded); ShaderError for a variant the spec does not declare.
   */
  record(a: RecordArgs): Dispatch {
    // a dry run (src/gpu/memory-plan.ts) only notes the buffers: no pipelines, no bind groups
    const d = this.alloc.dry ? this.dryBuild(a) : this.build(a);
    this.dispatches.push(d);
    return d;
  }

  /**
   * Record an op call with alternatives: the cached choice for its bucket when there is one,
   * else the heuristic, left pending for the tuner (which may `replace` it before the first run).
   */
  recordTuned(r: TuneRequest): Dispatch {
    if (this.alloc.dry) return this.record(r.args(r.heuristic));
    const cached = tuneHook?.cached(this.gpu, r.family, r.bucket) ?? null;
    const name = cached !== null && r.candidates.includes(cached) ? cached : r.heuristic;
    const d = this.record(r.args(name));
    d.choice = name;
    // Pending even when cached: the tuner then only confirms it (or re-times it when forced).
    this.tunables.push({ ...r, index: this.dispatches.length - 1, chosen: name });
    return d;
  }

  /** The pending tuning requests, handed over once (the tuner calls this). */
  takeTunables(): TuneSite[] {
    const t = this.tunables;
    this.tunables = [];
    return t;
  }

  /**
   * Re-record dispatch `i` with other arguments (same buffers): the tuner's choice (`choice`, for reports).
   * The new dispatch keeps the layer the old one was recorded under, whatever `plan.layer` is now, and the
   * old one's uniform buffer is freed.
   */
  replace(i: number, a: RecordArgs, choice?: string): void {
    const was = this.dispatches[i]!;
    // the replaced dispatch's uniform buffer goes with it (the plan holds what its estimate counts)
    if (was.params) this.alloc.free(was.params);
    // under the layer it was recorded with: the tuner replaces after recording, when the plan's
    // layer prefix (plan.layer) is another one or none
    const prefix = this.layer;
    this.layer = '';
    let d: Dispatch;
    try {
      d = this.build({ ...a, layer: was.layer });
    } finally {
      this.layer = prefix;
    }
    if (choice !== undefined) d.choice = choice;
    this.dispatches[i] = d;
    this.applyKeyFold(d);
  }

  /**
   * The host wrote `table` (u32) at byte `offset` of `buffer`, a key-fold table (KeyFoldWork): the
   * dispatches that read it now report the work of the keys they visit, not of every key.
   */
  keyFoldWritten(buffer: GPUBuffer, offset: number, table: Uint32Array): void {
    this.keyFolds.set(buffer, { offset, table: table.slice() });
    for (const d of this.dispatches) this.applyKeyFold(d);
  }

  private applyKeyFold(d: Dispatch): void {
    const w = d.keyFold;
    const t = w && this.keyFolds.get(w.buffer);
    if (!w || !t) return;
    let keys = 0;
    for (let b = 0; b < w.batch; b++) {
      const at = (w.offset - t.offset) / 4 + b;
      const fold = at >= 0 && at < t.table.length ? t.table[at]! : w.lk;   // not written: every key
      keys += Math.min(fold + 1, w.lk);
    }
    d.flops = w.flopsPerKey * keys;
    d.bytes = w.bytesFixed + w.bytesPerKey * keys;
  }

  /** The storage bindings of `a`, as the bind group binds them (bindRange): tensors their own byte range, raw buffers whole. */
  private bindings(a: RecordArgs): Bound[] {
    const first = a.uniforms ? 1 : 0;
    return a.buffers.map((b, i) => ({ ...bindRange(b), write: a.spec.bindings[first + i] === 'rw' }));
  }

  /** `rope@blocks.0.attn1`: the kernel and layer of a dispatch being recorded, for messages. */
  private where(a: RecordArgs): string {
    const layer = this.layerOf(a);
    return layer ? `${a.spec.name}@${layer}` : a.spec.name;
  }

  /** `blocks.0.attn1`: the plan's layer prefix and the dispatch's own layer. */
  private layerOf(a: RecordArgs): string {
    return [this.layer, a.layer].filter(Boolean).join('.');
  }

  private dryBuild(a: RecordArgs): Dispatch {
    const n = (a.uniforms ? 1 : 0) + a.buffers.length;
    const name = this.where(a);
    if (n !== a.spec.bindings.length) throw new Error(`${name}: ${n} bindings given, kernel declares ${a.spec.bindings.length}`);
    for (const b of a.buffers) checkBindingOffset(this.gpu, b, name);
    // a count too large is noted, not thrown: the memory check then refuses the run with its numbers
    // and what would fit (a dry run never throws on size)
    const overflow = countOverflow(this.gpu, a, name);
    if (a.uniforms) {
      if (!overflow) packUniforms(a.uniforms, name); // the op's own bugs (a negative count) still surface here
      this.alloc.buffer(uniformBytes(a.uniforms), 0x40 /* GPUBufferUsage.UNIFORM */, `${a.spec.name}:params`);
    }
    return {
      kernel: a.spec.name,
      family: a.spec.family ?? a.spec.name,
      layer: [this.layer, a.layer].filter(Boolean).join('.'),
      shapes: a.shapes,
      flops: a.flops,
      bytes: a.bytes,
      pipeline: null as unknown as GPUComputePipeline,
      bindGroup: null as unknown as GPUBindGroup,
      workgroups: a.workgroups,
      bound: this.bindings(a),
      ...(a.keyFold ? { keyFold: a.keyFold } : {}),
      ...(overflow ? { overflow } : {}),
    };
  }

  private build(a: RecordArgs): Dispatch {
    // Recording needs only the bind group layout; the pipeline is created by `compile()` (all of
    // the plan's at once, asynchronously) or, failing that, synchronously at the first encode.
    const where = this.where(a);
    // a buffer of another device made an invalid bind group, reported only on stderr (uncaptured)
    for (const b of a.buffers) checkDevice(this.gpu, b, where);
    if (a.keyFold) checkDevice(this.gpu, a.keyFold.buffer, where);
    const overflow = countOverflow(this.gpu, a, where);
    if (overflow) throw new LimitError(`${describeOverflow(overflow)}: ${REDUCE_SIZE}`);
    // every binding the bind group will hold, against the limit, before any GPU object is made
    const bound = this.bindings(a);
    const limit = this.gpu.limits.maxStorageBufferBindingSize;
    for (const [i, b] of bound.entries()) {
      const t = a.buffers[i]!;
      const what = 'buffer' in t && t.label !== b.buffer.label ? `${t.label} (in buffer ${b.buffer.label})` : b.buffer.label;
      if (b.size > limit) throw new GpuError(`${where}: binds ${fmtBytes(b.size)} of ${what}, above the adapter's maxStorageBufferBindingSize of ${fmtBytes(limit)}: use fewer frames, a smaller resolution or dtype: 'f16'`, 'out-of-memory', this.layerOf(a));
    }
    const k = this.kernel(a.spec, a.variant);
    const entries: GPUBindGroupEntry[] = [];
    let binding = 0;
    let params: GPUBuffer | undefined;
    if (a.uniforms) {
      const data = packUniforms(a.uniforms, where);
      const ub = this.alloc.buffer(data.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, `${k.key}:params`);
      this.gpu.device.queue.writeBuffer(ub, 0, data);
      entries.push({ binding: binding++, resource: { buffer: ub } });
      params = ub;
    }
    for (const b of a.buffers) entries.push({ binding: binding++, resource: bufferBinding(this.gpu, b, k.key) });
    if (entries.length !== a.spec.bindings.length) {
      throw new Error(`${k.key}: ${entries.length} bindings given, kernel declares ${a.spec.bindings.length}`);
    }
    const layer = this.layerOf(a);
    const first = a.uniforms ? 1 : 0;
    let output: Tensor | undefined;
    a.buffers.forEach((b, i) => {
      if (a.spec.bindings[first + i] === 'rw' && 'buffer' in b) output = b;
    });
    const bindGroup = this.gpu.device.createBindGroup({ label: `${k.key}@${layer}`, layout: k.layout, entries });
    const d: Dispatch = {
      kernel: k.key,
      family: a.spec.family ?? a.spec.name,
      layer,
      shapes: a.shapes,
      flops: a.flops,
      bytes: a.bytes,
      get pipeline() {
        return k.pipeline();
      },
      bindGroup,
      workgroups: a.workgroups,
      bound,
      ...(output ? { output } : {}),
      ...(params ? { params } : {}),
      ...(a.keyFold ? { keyFold: a.keyFold } : {}),
    };
    return d;
  }

  /** Key and layout of a variant, and its pipeline on demand (from the cache once compiled). */
  private kernel(spec: KernelSpec, v?: Partial<Variant>): { key: string; layout: GPUBindGroupLayout; pipeline: () => GPUComputePipeline } {
    const variant = resolveVariant(spec, v);
    const key = variantKey(spec, variant);
    if (kernelCached(this.gpu, spec, variant)) {
      const c = getKernel(this.gpu, spec, variant);
      return { key, layout: c.layout, pipeline: () => c.pipeline };
    }
    checkVariantSupported(this.gpu, spec, variant);
    this.uncompiled.set(key, { spec, variant });
    let pipeline: GPUComputePipeline | null = null;
    return { key, layout: kernelLayout(this.gpu, spec), pipeline: () => (pipeline ??= getKernel(this.gpu, spec, variant).pipeline) };
  }

  /**
   * Create the pipelines of every variant recorded so far that is not compiled yet, in parallel
   * (createComputePipelineAsync), reporting `onProgress(done, total)` when given, and 'compile'
   * KernelEvents to the device's watchers (watchKernels; the CLI's "compiling kernels i/N"). `run`
   * calls it; callers that encode the plan themselves call it first (else each missing pipeline is
   * created synchronously at the first encode). `onProgress` is a Hook (src/hook.ts), as compilePipelines
   * calls it: one that throws or rejects fails the call (`Plan.compile: onProgress failed: …`) without breaking
   * the compilation (the pipelines in flight land in the cache; the variants not compiled stay the plan's, for
   * the next compile or run). Throws a ShaderError naming the kernel variant that fails.
   */
  async compile(onProgress?: Hook<[done: number, total: number]> | null): Promise<void> {
    await compileTaken([this], onProgress, 'Plan.compile');
  }

  /** The uncompiled variants, handed over once (compilePlans). */
  takeUncompiled(): { spec: KernelSpec; variant: Variant }[] {
    if (this.alloc.dry) return [];
    const list = [...this.uncompiled.values()];
    this.uncompiled.clear();
    return list;
  }

  /** Variants of takeUncompiled handed back after a compile that failed: those not in the cache are the plan's to compile again. */
  returnUncompiled(list: readonly { spec: KernelSpec; variant: Variant }[]): void {
    for (const { spec, variant } of list) if (!kernelCached(this.gpu, spec, variant)) this.uncompiled.set(variantKey(spec, variant), { spec, variant });
  }

  /** Encode all dispatches into one compute pass (the fast path). */
  encode(encoder: GPUCommandEncoder, from = 0, to = this.dispatches.length): void {
    if (this.alloc.dry) throw new Error('a dry-run plan (memory planning) cannot be encoded');
    const pass = encoder.beginComputePass({ label: 'tessera' });
    for (let i = from; i < to; i++) {
      const d = this.dispatches[i]!;
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(...d.workgroups);
    }
    pass.end();
  }

  /**
   * Submit the plan once and wait for it, surfacing GPU errors as GpuError naming `where`. Before the
   * submit: the pending tuning (the first run, unless `tuning` is false or TESSERA_TUNE / the tune mode
   * says otherwise) and `compile`. The wait is paced (Pace: in Node it first sleeps through most of the
   * last run, from the third run on).
   * With `progress`, a plan of several transformer blocks (blockEnds) is submitted as one command buffer per block,
   * all at once, and `progress.onPart(k, K)` is awaited after block k of K finished on the device (submitParts);
   * the result is the same (the same dispatches in the same order). A plan of one block or none runs as without it.
   * @throws GpuError (device lost; a validation error names the first dispatch at fault, found by replaying
   *   one dispatch per submit), ShaderError (a variant that does not compile), TuneEnvError (a bad
   *   TESSERA_TUNE / TESSERA_TUNE_MIN_FLOPS, at the tuning), and what `progress.onPart` throws (after the
   *   plan's submitted work is done).
   */
  async run(where = 'plan', progress?: PlanProgress): Promise<void> {
    checkAlive(this.gpu, where);
    this.checkLive(where);
    this.inFlight++;
    try {
      if (this.tuning && this.tunables.length && tuneHook) await tuneHook.tune(this);
      await this.compile();
      const t0 = performance.now();
      // the parts as they are now: the tuning above may have replaced dispatches (a part's ends are counted after it)
      const ends = progress && blockEnds(this.dispatches);
      try {
        if (ends && ends.length > 1) {
          this.checkLive(where);
          let from = 0;
          await submitParts(this.gpu, where, ends.map((to) => {
            const range = [from, to] as const;
            from = to;
            return (enc: GPUCommandEncoder) => this.encode(enc, range[0], range[1]);
          }), progress!.onPart);
          this.pace.waited(t0);
          return;
        }
        await this.submit(where);
      } catch (e) {
        // A validation error invalidates the whole command buffer: replay one dispatch per submit
        // to name the first one at fault (error path only).
        if (e instanceof GpuError && e.kind === 'validation' && this.dispatches.length > 1) throw await this.locateError(where, e);
        throw e;
      }
      await this.pace.idle(this.gpu, where, t0);
    } finally {
      this.inFlight--;
    }
  }

  private inFlight = 0;

  /** Runs of this plan begun and not yet settled (run() from its first line to its end): tunePlan refuses a plan with one. */
  get runsInFlight(): number {
    return this.inFlight;
  }

  /**
   * Throws DisposedError naming the plan when its buffers were freed (its Allocator's destroyAll: a model's
   * dispose(), resetPlans() or maxPlans eviction, a workload's destroy()): a replay would bind destroyed
   * buffers, which WebGPU reports only as "used in submit while destroyed". Every dispatch of a real
   * recording holds a uniform buffer of `alloc`, so a recording whose allocator holds nothing was freed.
   */
  checkLive(where: string): void {
    if (this.alloc.dry || this.alloc.liveBytes > 0 || !this.dispatches.some((d) => d.params)) return;
    const what = this.name !== undefined ? `plan "${this.name}"` : `the plan of ${this.dispatches.length} dispatch${this.dispatches.length === 1 ? '' : 'es'} from ${describeDispatch(this, 0)}`;
    throw new DisposedError(`${where}: ${what} was freed (its buffers destroyed by dispose(), resetPlans(), maxPlans eviction or the workload's destroy()): record it again (model.planFor(…), a new workload)`);
  }

  private readonly pace = new Pace();

  private submit(where: string, from = 0, to = this.dispatches.length): Promise<void> {
    // again here: the tuning and compile before it await, and the plan may be freed meanwhile
    this.checkLive(where);
    return withErrorScopes(this.gpu, where, () => {
      const enc = this.gpu.device.createCommandEncoder({ label: where });
      this.encode(enc, from, to);
      this.gpu.device.queue.submit([enc.finish()]);
    });
  }

  private async locateError(where: string, original: GpuError): Promise<GpuError> {
    for (let i = 0; i < this.dispatches.length; i++) {
      try {
        await this.submit(where, i, i + 1);
      } catch (e) {
        if (!(e instanceof GpuError)) throw e;
        const at = `${where}, ${describeDispatch(this, i)}`;
        return new GpuError(`WebGPU ${e.kind} error in ${at}: ${e.message.replace(/^WebGPU \S+ error in [^:]*: /, '')}`, e.kind, at);
      }
    }
    return original;
  }

  /**
   * Replays the plan one dispatch at a time, reading each dispatch's output, and returns the
   * first whose output holds a non-finite value (null when none does). The inputs must be as
   * the failing run had them; the plan never writes its inputs, so a replay reproduces the run.
   * Slow (one submit and one read-back per dispatch): for error reports only.
   */
  async firstNonFinite(where = 'plan'): Promise<NonFinite | null> {
    for (let i = 0; i < this.dispatches.length; i++) {
      await this.submit(where, i, i + 1);
      const out = this.dispatches[i]!.output;
      if (!out) continue;
      const data = await readTensor(this.gpu, out);
      for (let j = 0; j < data.length; j++) {
        if (!Number.isFinite(data[j]!)) return { index: i, dispatch: this.dispatches[i]!, flatIndex: j, value: data[j]! };
      }
    }
    await waitIdle(this.gpu, where);
    return null;
  }

  /** The sum of the dispatches' flops. */
  get totalFlops(): number {
    return this.dispatches.reduce((a, d) => a + d.flops, 0);
  }
}

/** Plan.run's `progress`: `onPart(done, total)` after each of the plan's transformer blocks finished on the device. */
export interface PlanProgress {
  onPart: (done: number, total: number) => void | Promise<void>;
}

/** A dispatch's transformer block from its layer: `blocks.3.attn1` (Wan), `transformer_blocks.3` (DiT, Latte), `temporal_transformer_blocks.3` (Latte's, the same block index). */
const BLOCK_LAYER = /^(?:temporal_)?(?:transformer_)?blocks\.(\d+)(?:\.|$)/;

/**
 * Where a recording's transformer blocks end: the exclusive end index, in `dispatches`, of each run of consecutive
 * dispatches of one block (BLOCK_LAYER: Wan's `blocks.N`, DiT's and Latte's `transformer_blocks.N`, Latte's temporal
 * block N counted with its spatial block N); the dispatches before the first block (embeddings) go with the first,
 * those after the last (the output head) with the last, so the last end is dispatches.length. A recording with
 * no block layer: [dispatches.length] (one part); no dispatches: [].
 */
export function blockEnds(dispatches: readonly Pick<Dispatch, 'layer'>[]): number[] {
  const ends: number[] = [];
  let current: string | undefined;
  dispatches.forEach((d, i) => {
    const block = BLOCK_LAYER.exec(d.layer)?.[1];
    if (block === undefined || block === current) return;
    if (current !== undefined) ends.push(i);
    current = block;
  });
  if (dispatches.length) ends.push(dispatches.length);
  return ends;
}

/**
 * Submits `parts` in order, each encoded into a command buffer of its own and submitted at once (the queue never runs
 * dry between them), then waits for each in turn (onSubmittedWorkDone after its submit, through gpuWait: no busy
 * core on a CPU adapter) and awaits `onDone(k, parts.length)` once part k (1-based) finished on the device: progress
 * inside a long submit. GPU errors of the encodes and submits are one GpuError naming `where` (withErrorScopes); a
 * device lost meanwhile rejects with GpuError 'lost'. When `onDone` throws, the parts still in flight are waited for
 * (never left running on buffers the caller frees) before its error is rethrown.
 */
export async function submitParts(gpu: Gpu, where: string, parts: readonly ((enc: GPUCommandEncoder) => void)[], onDone: (done: number, total: number) => void | Promise<void>): Promise<void> {
  const done: Promise<void>[] = [];
  await withErrorScopes(gpu, where, () => {
    parts.forEach((encode, k) => {
      const enc = gpu.device.createCommandEncoder({ label: `${where} (part ${k + 1}/${parts.length})` });
      encode(enc);
      gpu.device.queue.submit([enc.finish()]);
      done.push(gpu.device.queue.onSubmittedWorkDone());
    });
  });
  for (const p of done) p.catch(() => {}); // a later part's rejection is the lost device's, reported once below
  const lost = (i: GPUDeviceLostInfo) => new GpuError(`GPU device lost (${i.reason}) during ${where}: ${i.message}`, 'lost', where);
  let k = 0;
  try {
    for (; k < done.length; k++) {
      await gpuWait(gpu, untilLost(gpu, done[k]!, lost));
      checkAlive(gpu, where);
      await onDone(k + 1, done.length);
    }
  } catch (e) {
    if (k < done.length - 1) await untilLost(gpu, done.at(-1)!, lost).catch(() => {});
    throw e;
  }
}

/**
 * `Plan.compile` for several plans as one batch (one progress count, every pipeline in flight
 * together): what a generation compiles before its first step. `onProgress` as Plan.compile's (a failure
 * reads `compilePlans: onProgress failed: …`).
 */
export async function compilePlans(plans: readonly Plan[], onProgress?: Hook<[done: number, total: number]> | null): Promise<void> {
  await compileTaken(plans, onProgress, 'compilePlans');
}

/** compilePipelines of the plans' uncompiled variants; when it fails, each plan gets back those it did not compile. */
async function compileTaken(plans: readonly Plan[], onProgress: Hook<[done: number, total: number]> | null | undefined, where: string): Promise<void> {
  const taken = plans.map((p) => p.takeUncompiled());
  if (!taken.some((t) => t.length)) return;
  try {
    await compilePipelines(plans[0]!.gpu, taken.flat(), onProgress, where);
  } catch (e) {
    plans.forEach((p, i) => p.returnUncompiled(taken[i]!));
    throw e;
  }
}

/** Plans and steps whose last run took less than this (ms) wait at once: a timer's own latency would show. */
export const PACE_MIN_MS = 4;
/** The share of the last run's duration slept before waiting. */
export const PACE_FRACTION = 0.8;

/**
 * The work was already done when the sleep ended if the wait after it took under this share of the run
 * (or 1 ms): the run's time is then only an upper bound.
 */
const OVERSLEPT_SHARE = 0.02;

// the timer as the module found it: a caller's fake timers (jest/vitest useFakeTimers) would never fire a
// sleep and so hang every paced wait
const realSetTimeout = globalThis.setTimeout;

/**
 * Waits for work that repeats (a plan's runs, a generation's steps) without a busy core. In Node,
 * Dawn resolves `onSubmittedWorkDone` by ticking its event loop on the main thread until the work is
 * done: a core kept busy for the whole run, and on a CPU adapter (lavapipe) a core taken from the
 * driver's own threads. So the wait first sleeps for PACE_FRACTION of the last run's duration
 * (measured from submit to idle) and only then waits. Measured on lavapipe, 2 cores (bench/RESULTS.md,
 * session 14): the DiT-S block, plan.run() + read-back, 230 → 162 ms at 2 driver threads, 137 → 124 ms
 * at 16. Browsers wait without ticking: there it waits at once.
 * The estimate is kept from following a slow run for long: the first run is never learned from (a CPU
 * driver compiles each pipeline at its first dispatch: seconds, not the run's time), and a run found
 * done when the sleep ended (overslept: its time only bounds the run's) is learned at half, so a slow
 * outlier is forgotten within a few runs instead of decaying by 0.8 a run.
 */
export class Pace {
  private lastMs = 0;
  private runs = 0;

  /** `sleep`, `now` and `wait` are the timer, the clock and the queue wait (replaced in tests). */
  constructor(
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => realSetTimeout(resolve, ms)),
    private readonly now: () => number = () => performance.now(),
    private readonly wait: (gpu: Gpu, where: string) => Promise<void> = waitIdle,
  ) {}

  /** Wait for the queue (waitIdle) for work submitted at `since` (this Pace's clock, performance.now() by default). */
  async idle(gpu: Gpu, where: string, since: number): Promise<void> {
    const slept = gpu.runtime === 'node' && this.lastMs >= PACE_MIN_MS ? this.lastMs * PACE_FRACTION : 0;
    if (slept > 0) await this.sleep(slept);
    const woke = this.now();
    await this.wait(gpu, where);
    const end = this.now();
    if (this.runs++ === 0) return;
    const took = end - since;
    const overslept = slept > 0 && end - woke < Math.max(1, OVERSLEPT_SHARE * took);
    this.lastMs = overslept ? took / 2 : took;
  }

  /** Learns a run submitted at `since` and already waited for elsewhere (submitParts: part by part), as idle would, without sleeping or waiting. */
  waited(since: number): void {
    if (this.runs++ === 0) return;
    this.lastMs = this.now() - since;
  }
}

/** Wait for the queue (gpuWait: no busy core in Node); rejects with GpuError when the device is lost meanwhile (never hangs). */
export async function waitIdle(gpu: Gpu, where: string): Promise<void> {
  const lost = (i: GPUDeviceLostInfo) => new GpuError(`GPU device lost (${i.reason}) during ${where}: ${i.message}`, 'lost', where);
  await gpuWait(gpu, untilLost(gpu, gpu.device.queue.onSubmittedWorkDone(), lost));
  checkAlive(gpu, where);
}
