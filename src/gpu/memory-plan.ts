// Memory planning from a dry-run recording. A model's recording code runs once against a
// DryAllocator: its plans note every dispatch's bindings but create no GPU object. From that list
// come the memory estimate (nothing hand-kept beside the model files) and the liveness layout the
// real recording then follows: scratch activations whose lifetimes do not overlap share a buffer
// (src/gpu/liveness.ts). Persistent tensors — weights, inputs, outputs, uploaded tables, cached
// text K/V, anything allocated with `alloc.tensor` rather than taken as a scratch activation —
// never join the shared pool. Browser-safe.
import type { Gpu } from './device.js';
import { assignSlots } from './liveness.js';
import type { ActivationSource, CountOverflow, Plan } from './plan.js';
import { Allocator, checkTensorArgs, numel, shapeStr, storageBytes, type DType, type Tensor } from './tensor.js';

// GPUBufferUsage values (WebGPU spec), so that planning needs no WebGPU globals.
const STORAGE = 0x80;
const UNIFORM = 0x40;

/** Bytes the Allocator reserves for a buffer of `bytes` (16-byte granules, 16 at least). */
export const granule = (bytes: number): number => Math.max(16, Math.ceil(bytes / 16) * 16);

interface DryBuffer {
  label: string;
  bytes: number;
  uniform: boolean;
}

/**
 * An Allocator whose buffers are placeholders: plans recorded on it only note bindings (Plan.record
 * checks `alloc.dry`). It never throws on size: the planner reports what exceeds the limits.
 */
export class DryAllocator extends Allocator {
  override readonly dry = true;
  readonly info = new Map<GPUBuffer, DryBuffer>();

  override buffer(bytes: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const size = granule(bytes);
    const b = { size, label, dry: true } as unknown as GPUBuffer;
    this.info.set(b, { label, bytes: size, uniform: (usage & UNIFORM) !== 0 });
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    return b;
  }

  // the real Allocator's argument checks, so that an estimate never accepts what the run refuses
  override tensor(shape: number[], dtype: DType, label: string): Tensor {
    checkTensorArgs(shape, dtype, label);
    const size = numel(shape);
    return { buffer: this.buffer(storageBytes(size, dtype), STORAGE, label), shape: [...shape], dtype, size, label };
  }

  // no length check: a dry run's callers pass [] for the data it never writes
  override upload(_data: Float32Array | number[], shape: number[], dtype: DType, label: string): Tensor {
    return this.tensor(shape, dtype, label);
  }

  override uploadU32(data: Uint32Array | Int32Array, label: string): Tensor {
    return { buffer: this.buffer(Math.max(4, data.byteLength), STORAGE, label), shape: [data.length], dtype: 'f32', size: data.length, label };
  }

  override free(b: GPUBuffer | Tensor): void {
    const buf = 'buffer' in b ? b.buffer : b;
    const i = this.info.get(buf);
    if (!i) return;
    this.info.delete(buf);
    this.liveBytes -= i.bytes;
  }

  override destroyAll(): void {
    this.info.clear();
    this.liveBytes = 0;
  }
}

/** A Gpu stand-in for planning without a device: WebGPU's default limits unless given, no subgroups. */
export function planningGpu(limits: Partial<Gpu['limits']> = {}, f16 = true): Gpu {
  return {
    device: null as unknown as GPUDevice,
    adapterInfo: { vendor: 'planning', architecture: '', device: '', description: 'memory planning (no device)' },
    runtime: 'node',
    f16,
    timestamps: false,
    subgroups: false,
    subgroupMinSize: 0,
    subgroupMaxSize: 0,
    isCpu: false,
    limits: {
      maxStorageBufferBindingSize: 128 * 2 ** 20,
      maxBufferSize: 256 * 2 ** 20,
      maxComputeWorkgroupStorageSize: 16384,
      maxComputeInvocationsPerWorkgroup: 256,
      maxComputeWorkgroupSizeX: 256,
      maxComputeWorkgroupSizeY: 256,
      maxStorageBuffersPerShaderStage: 8,
      maxComputeWorkgroupsPerDimension: 65535,
      ...limits,
    },
    lost: null,
    destroy() {},
  };
}

/** One scratch activation as the dry run took it, and where the real recording puts it. */
export interface PlannedActivation {
  shape: number[];
  dtype: DType;
  label: string;
  bytes: number;
  /** Shared buffer index, or -1: a buffer of its own (not bound in the plans, read before written, or used by more than one plan). */
  slot: number;
  /** First and last dispatch (over the plans in run order) that bind it; -1 when never bound. */
  first: number;
  last: number;
}

/** The largest single binding of a plan: what must fit maxStorageBufferBindingSize. */
export interface LargestBinding {
  bytes: number;
  /** The tensor's label and shape when known, e.g. `ffn_hidden [2,4096,8960]` or `weight blocks.0.ffn.net.0.proj.weight [8960,1536]`. */
  name: string;
  /** The dispatch's layer, e.g. `blocks.3.attn1`. */
  layer: string;
}

export interface MemoryPlan {
  activations: PlannedActivation[];
  /** Bytes of each shared buffer. */
  slotBytes: number[];
  /** What the scratch activations cost: shared buffers + those with buffers of their own. */
  scratchBytes: number;
  /** The same activations with one buffer each (no reuse at all). */
  scratchNoReuseBytes: number;
  /** The same activations with one buffer per name (tessera before liveness: Scratch kept a buffer per name). */
  scratchByNameBytes: number;
  /** The largest sum of scratch activations live at one dispatch (the lower bound for scratchBytes). */
  scratchMaxLive: number;
  /** Storage buffers allocated with `alloc.tensor`/`upload` that are not weights: inputs, outputs, tables, caches. */
  persistentBytes: number;
  /** Uniform buffers (one per dispatch with parameters) and the dummy binding. */
  workspaceBytes: number;
  /** The largest single storage buffer (after sharing), and the largest binding of any dispatch. */
  largestBuffer: { bytes: number; name: string };
  largestBinding: LargestBinding;
  /**
   * The count furthest above its limit of any dispatch (a u32 parameter, a binding's element count,
   * the workgroup grid: see CountOverflow), when one is: the run cannot be recorded at this size.
   */
  overflow?: CountOverflow;
  dispatches: number;
  /**
   * FLOPs each recorded plan's dispatches count (their `flops`, the profiler's figures), one entry per plan
   * in the order `record` returned them (a forward: [prepare, step]); data-dependent work (a key fold) at its
   * most (every key).
   */
  flops: number[];
}

/** Records scratch activations for a dry run (each take a placeholder of its own). */
class DryActivations implements ActivationSource {
  readonly taken: Tensor[] = [];
  constructor(private readonly alloc: DryAllocator) {}
  take(shape: number[], dtype: DType, label: string): Tensor {
    const t = this.alloc.tensor(shape, dtype, label);
    this.taken.push(t);
    return t;
  }
}

/**
 * Dry-runs `record` (the model's recording code, given the plan to record into and an allocator
 * for its persistent tensors; it returns every plan it recorded into, in run order, the first
 * being the one whose `activations` its Scratch uses) and plans its memory. `external` buffers
 * (weights) are bound but belong to no plan.
 */
export function planMemory(gpu: Gpu, record: (alloc: Allocator, activations: ActivationSource) => Plan[], external?: (b: GPUBuffer) => string | undefined): MemoryPlan {
  const alloc = new DryAllocator(gpu);
  const acts = new DryActivations(alloc);
  const plans = record(alloc, acts);
  return analyze(alloc, acts.taken, plans, external);
}

function analyze(alloc: DryAllocator, taken: Tensor[], plans: Plan[], external?: (b: GPUBuffer) => string | undefined): MemoryPlan {
  const index = new Map<GPUBuffer, number>(taken.map((t, i) => [t.buffer, i]));
  const first = new Array<number>(taken.length).fill(-1);
  const last = new Array<number>(taken.length).fill(-1);
  const planOf = new Array<number>(taken.length).fill(-1);
  const readFirst = new Array<boolean>(taken.length).fill(false);
  const multiPlan = new Array<boolean>(taken.length).fill(false);
  const names = new Map<GPUBuffer, string>();
  for (const t of taken) names.set(t.buffer, `${t.label} ${shapeStr(t.shape)}`);
  let largestBinding: LargestBinding = { bytes: 0, name: '', layer: '' };
  let overflow: CountOverflow | undefined;
  let d = 0;
  const flops = plans.map((p) => p.dispatches.reduce((a, x) => a + x.flops, 0));
  plans.forEach((p, pi) => {
    for (const disp of p.dispatches) {
      const o = disp.overflow;
      if (o && (!overflow || o.value / o.limit > overflow.value / overflow.limit)) overflow = o;
      for (const b of disp.bound) {
        if (b.size > largestBinding.bytes) {
          const info = alloc.info.get(b.buffer);
          const ext = info ? undefined : external?.(b.buffer);
          const whole = names.get(b.buffer) ?? (ext !== undefined ? `weight ${ext}` : info?.label ?? '(buffer)');
          // a part of a tensor (an item's rows, a q|k|v plane) is named as such
          const part = b.offset > 0 || (info !== undefined && b.size < info.bytes - 16);
          largestBinding = { bytes: b.size, name: part ? `${whole}, a part` : whole, layer: disp.layer };
        }
        const i = index.get(b.buffer);
        if (i === undefined) continue;
        if (first[i] < 0) {
          first[i] = d;
          planOf[i] = pi;
          readFirst[i] = !b.write;
        } else if (planOf[i] !== pi) multiPlan[i] = true;
        last[i] = d;
      }
      d++;
    }
  });
  const pooled = taken.map((_, i) => first[i]! >= 0 && !readFirst[i] && !multiPlan[i]);
  const bytesOf = (t: Tensor) => granule(storageBytes(t.size, t.dtype));
  const items = taken.map((t, i) => ({ i, bytes: bytesOf(t), first: first[i]!, last: last[i]! })).filter((x) => pooled[x.i]);
  const a = assignSlots(items);
  const slot = new Array<number>(taken.length).fill(-1);
  items.forEach((x, j) => (slot[x.i] = a.slot[j]!));
  const activations: PlannedActivation[] = taken.map((t, i) => ({ shape: t.shape, dtype: t.dtype, label: t.label, bytes: bytesOf(t), slot: slot[i]!, first: first[i]!, last: last[i]! }));
  const own = activations.filter((x) => x.slot < 0).reduce((s, x) => s + x.bytes, 0);
  const byName = new Map<string, number>();
  for (const x of activations) byName.set(x.label, Math.max(byName.get(x.label) ?? 0, x.bytes));
  // everything else the dry allocator holds: persistent storage tensors and uniform buffers
  const act = new Set(taken.map((t) => t.buffer));
  let persistentBytes = 0;
  let workspaceBytes = 0;
  let largestBuffer = { bytes: 0, name: '' };
  for (const [buf, info] of alloc.info) {
    if (act.has(buf)) continue;
    if (info.uniform || info.label === 'dummy') workspaceBytes += info.bytes;
    else persistentBytes += info.bytes;
    if (!info.uniform && info.bytes > largestBuffer.bytes) largestBuffer = { bytes: info.bytes, name: info.label };
  }
  a.slotBytes.forEach((b, s) => {
    if (b > largestBuffer.bytes) largestBuffer = { bytes: b, name: `shared buffer ${s} (${activations.filter((x) => x.slot === s && x.bytes === b)[0]!.label})` };
  });
  for (const x of activations) if (x.slot < 0 && x.bytes > largestBuffer.bytes) largestBuffer = { bytes: x.bytes, name: `${x.label} ${shapeStr(x.shape)}` };
  return {
    activations,
    slotBytes: a.slotBytes,
    scratchBytes: a.total + own,
    scratchNoReuseBytes: activations.reduce((s, x) => s + x.bytes, 0),
    scratchByNameBytes: [...byName.values()].reduce((s, b) => s + b, 0),
    scratchMaxLive: a.maxLive + own,
    persistentBytes,
    workspaceBytes,
    largestBuffer,
    largestBinding,
    ...(overflow ? { overflow } : {}),
    dispatches: d,
    flops,
  };
}

/**
 * The activation source of the real recording: the i-th scratch activation taken gets the buffer the
 * dry run planned for it (a shared one, allocated on first use, or its own). The recording must take
 * the same activations in the same order as the dry run did; a difference is an Error naming both.
 */
export class PooledActivations implements ActivationSource {
  private next = 0;
  private slots: GPUBuffer[] = [];

  constructor(
    private readonly alloc: Allocator,
    readonly memory: MemoryPlan,
  ) {}

  take(shape: number[], dtype: DType, label: string): Tensor {
    const i = this.next++;
    const want = this.memory.activations[i];
    if (!want || want.label !== label || want.dtype !== dtype || shapeStr(want.shape) !== shapeStr(shape)) {
      throw new Error(`memory plan: scratch activation ${i} is ${label} ${shapeStr(shape)} ${dtype}, the dry run had ${want ? `${want.label} ${shapeStr(want.shape)} ${want.dtype}` : 'none'}`);
    }
    if (want.slot < 0) return this.alloc.tensor(shape, dtype, label);
    const buffer = (this.slots[want.slot] ??= this.alloc.buffer(this.memory.slotBytes[want.slot]!, STORAGE | 0x4 | 0x8, `shared.${want.slot}`));
    return { buffer, shape: [...shape], dtype, size: numel(shape), label };
  }

  /** Throws unless the recording took every activation the dry run did. */
  finish(): void {
    if (this.next !== this.memory.activations.length) throw new Error(`memory plan: the recording took ${this.next} scratch activations, the dry run ${this.memory.activations.length}`);
  }
}

/** Every scratch activation its own buffer: the no-reuse reference (tests compare it with the pooled plan). */
export class DistinctActivations implements ActivationSource {
  constructor(private readonly alloc: Allocator) {}
  take(shape: number[], dtype: DType, label: string): Tensor {
    return this.alloc.tensor(shape, dtype, label);
  }
}
