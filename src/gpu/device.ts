// The one place that knows where `GPU` comes from, and the device every op receives.
//
// Node: the Node entry (src/index.ts) registers a provider that dynamically imports the npm
// package `webgpu` (Dawn). Browser: `navigator.gpu`. The browser entry never registers the
// Node provider, so bundles never pull in `webgpu`.
// No import from src/model: the model modules import this one, and a cycle breaks the evaluation
// order of entries that start from the GPU layer. InputError's module imports nothing at run time, so the
// option errors are InputErrors, as every loader's.
import { closestName } from '../closest-name.js';
import { InputError } from '../model/input-error.js';
import { shownValue as shown } from '../io/json.js';
import { adapterInfoIsCpu } from './policy.js';
import { webgpuRuntime } from './runtime.js';

/** Optional features tessera uses when the adapter has them. */
export const OPTIONAL_FEATURES = ['shader-f16', 'timestamp-query', 'subgroups'] as const;

/** Limits tessera asks for, raised up to what the adapter offers (never above). */
export const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
] as const;
export type WantedLimit = (typeof WANTED_LIMITS)[number];

/** Minimums the engine cannot run without (the WebGPU defaults). */
export const REQUIRED_LIMITS: Partial<Record<WantedLimit, number>> = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupStorageSize: 16384,
  maxStorageBuffersPerShaderStage: 8,
};

/** Options of acquireGpu. Any other key is refused (InputError naming the closest option). */
export interface GpuOptions {
  /** Prefer a specific GPU object (e.g. from a test harness); otherwise the registered provider or navigator.gpu. */
  gpu?: GPU;
  /** 'high-performance' (the default) or 'low-power'. */
  powerPreference?: GPUPowerPreference;
  /** Disable optional features even when present (e.g. to test the f32-only path): names from OPTIONAL_FEATURES. */
  disableFeatures?: GPUFeatureName[];
  /**
   * Extra limits the caller needs, by WebGPU limit name (the adapter's own: maxStorageBufferBindingSize, …),
   * each a positive integer: at least that (a `min…` alignment limit: a power of two, at most that); fails with both numbers
   * when the adapter cannot give them.
   */
  requiredLimits?: Record<string, number>;
}

const GPU_OPTION_NAMES: readonly (keyof GpuOptions)[] = ['gpu', 'powerPreference', 'disableFeatures', 'requiredLimits'];
const POWER_PREFERENCES = ['high-performance', 'low-power'];

/**
 * acquireGpu's options, before any adapter is requested: a typo (dtype, requiredLimit) was ignored, a
 * powerPreference of 'fast' was Dawn's multi-line "no overload matched", and a NaN limit was asked for.
 * @throws InputError naming the option (and the closest name for an unknown one; `option` set), as the loaders'.
 */
function checkGpuOptions(opts: GpuOptions): void {
  const o = opts as unknown;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new InputError(`acquireGpu: expected an options object such as { powerPreference: 'low-power' }, got ${shown(o)}`);
  for (const k of Object.keys(o)) {
    if ((GPU_OPTION_NAMES as readonly string[]).includes(k)) continue;
    const near = closestName(k, GPU_OPTION_NAMES);
    throw new InputError(`${k}: not an option of acquireGpu${near ? `; did you mean ${near}?` : ''} (options: ${GPU_OPTION_NAMES.join(', ')})`, { option: k });
  }
  const g = opts.gpu as unknown;
  if (g !== undefined && (typeof g !== 'object' || g === null || typeof (g as GPU).requestAdapter !== 'function')) throw new InputError(`gpu: a GPU object with requestAdapter (navigator.gpu, or the webgpu package's create([])), got ${shown(g)}`, { option: 'gpu' });
  if (opts.powerPreference !== undefined && !POWER_PREFERENCES.includes(opts.powerPreference)) throw new InputError(`powerPreference: 'high-performance' or 'low-power', got ${shown(opts.powerPreference)}`, { option: 'powerPreference' });
  const off = opts.disableFeatures as unknown;
  if (off !== undefined) {
    if (!Array.isArray(off)) throw new InputError(`disableFeatures: a list of feature names such as ['shader-f16'], got ${shown(off)}`, { option: 'disableFeatures' });
    for (const f of off) {
      if ((OPTIONAL_FEATURES as readonly unknown[]).includes(f)) continue;
      const near = typeof f === 'string' ? closestName(f, OPTIONAL_FEATURES) : undefined;
      throw new InputError(`disableFeatures: ${shown(f)} is not a feature tessera uses${near ? `; did you mean '${near}'?` : ''} (${OPTIONAL_FEATURES.join(', ')})`, { option: 'disableFeatures' });
    }
  }
  const lim = opts.requiredLimits as unknown;
  if (lim !== undefined) {
    if (typeof lim !== 'object' || lim === null || Array.isArray(lim)) throw new InputError(`requiredLimits: an object of WebGPU limits such as { maxStorageBufferBindingSize: 268435456 }, got ${shown(lim)}`, { option: 'requiredLimits' });
    for (const [k, v] of Object.entries(lim)) {
      if (!Number.isInteger(v) || v < 1) throw new InputError(`requiredLimits.${k}: a positive integer, got ${shown(v)}`, { option: 'requiredLimits' });
      // WebGPU's alignment limits are powers of two; Dawn refuses any other with a multi-line DOMException
      if (k.startsWith('min') && 2 ** Math.round(Math.log2(v)) !== v) throw new InputError(`requiredLimits.${k}: a power of two, got ${v}`, { option: 'requiredLimits' });
    }
  }
}

/** The limit names `adapter` knows (WebIDL attributes: on the prototype, so `for…in`, not Object.keys). */
function limitNames(adapter: GPUAdapter): string[] {
  const names: string[] = [];
  for (const k in adapter.limits) if (typeof (adapter.limits as unknown as Record<string, unknown>)[k] === 'number') names.push(k);
  return names;
}

/** A WebGPU device plus what tessera learnt about it. Ops receive this, never create devices. */
export interface Gpu {
  /**
   * The WebGPU device every op records on, labelled `tessera#N` (the Nth acquireGpu() of the process), as
   * Dawn's messages and tessera's refusal of a tensor from another device name it.
   */
  device: GPUDevice;
  /** The adapter's GPUAdapterInfo strings (empty where the runtime hides them); describeAdapter joins them. */
  adapterInfo: { vendor: string; architecture: string; device: string; description: string };
  /** Where the device came from: 'node' (Dawn) or 'browser'. */
  runtime: 'node' | 'browser';
  /** shader-f16 is enabled: f16 storage (dtype 'f16') is possible. */
  f16: boolean;
  /**
   * The optional features (OPTIONAL_FEATURES) the adapter offered, enabled or not: against `f16`, `timestamps` and
   * `subgroups` (what the device was requested with) it tells a feature the adapter lacks from one the caller's
   * `disableFeatures` turned off. acquireGpu() sets it; undefined for a caller's own GPUDevice (its adapter is unknown).
   */
  adapterFeatures?: readonly GPUFeatureName[];
  /** timestamp-query is enabled: the profiler times dispatches on the GPU (else by wall clock). */
  timestamps: boolean;
  /** subgroups is enabled: the subgroup kernel variants may be chosen. */
  subgroups: boolean;
  /** Subgroup sizes the adapter reports (0 when unknown or without subgroups); see src/gpu/policy.ts. */
  subgroupMinSize: number;
  /** See subgroupMinSize. */
  subgroupMaxSize: number;
  /** A CPU (software) adapter: lavapipe/llvmpipe, SwiftShader, WARP. Variant heuristics tuned on lavapipe apply only here. */
  isCpu: boolean;
  /** The device's values of WANTED_LIMITS (raised to what the adapter offers), in bytes or counts as WebGPU defines them. */
  limits: Record<WantedLimit, number>;
  /**
   * Set when the device is lost, or by destroy(); every later op (a load's first allocation, a run)
   * throws GpuError with this message.
   */
  lost: string | null;
  /** Destroys the device: later work on this Gpu is refused (`lost`); acquire a new one to go on. */
  destroy(): void;
}

/** Thrown by acquireGpu when there is no WebGPU adapter or device; in Node also when the optional peer `webgpu` is missing (the message says what to install). */
export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
  /** Stable, for a switch (the README's error table). */
  readonly code: string = 'ERR_GPU_UNAVAILABLE';
}

/** Thrown for WebGPU validation / out-of-memory / internal errors, naming the kernel or step. */
export class GpuError extends Error {
  override name = 'GpuError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_GPU';
  constructor(
    message: string,
    /** WebGPU's error kind, or 'lost' for a lost (or destroyed) device. */
    readonly kind: 'validation' | 'out-of-memory' | 'internal' | 'lost',
    /** The step, layer or dispatch it happened in (e.g. `m forward, blocks.0.attn1 (…, dispatch 17/57)`). */
    readonly where: string,
  ) {
    super(message);
  }
}

type Provider = () => Promise<{ gpu: GPU; runtime: 'node' | 'browser' }>;
let provider: Provider | null = null;

/** Registered by the Node entry; the browser entry leaves it unset. */
export function setGpuProvider(p: Provider): void {
  provider = p;
}

async function findGpu(opts: GpuOptions): Promise<{ gpu: GPU; runtime: 'node' | 'browser' }> {
  // the caller's GPU: where it came from is read from the globals, as for a caller's device (gpuOfDevice)
  if (opts.gpu) return { gpu: opts.gpu, runtime: webgpuRuntime() };
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu && typeof window !== 'undefined') return { gpu: nav.gpu, runtime: 'browser' };
  if (provider) return provider();
  if (nav?.gpu) return { gpu: nav.gpu, runtime: 'browser' };
  throw new GpuUnavailableError(
    'WebGPU is not available: no navigator.gpu in this browser (Chrome/Edge 113+, or --enable-unsafe-webgpu), ' +
      'and no Node provider registered (import from "tessera" in Node, which loads the `webgpu` package).',
  );
}

/** Devices acquireGpu has requested in this process (their labels: `tessera#N`). */
let devicesAcquired = 0;

/**
 * The GPU object (navigator.gpu, the webgpu package's create()) each acquired device came from, held for as long
 * as the device is. Dawn's Node binding lives only as long as create()'s object is referenced (the webgpu package's
 * README, "Lifetime"): once it is garbage-collected (webgpu 0.6.2), even with a device's work in flight, the process
 * dies (`std::system_error: Invalid argument`, "The futex facility returned an unexpected error code", SIGSEGV),
 * typically at a GC while a wait sleeps (Pace). A caller's acquireGpu({ gpu: create([]) }) keeps no other reference
 * to it. Holding it does not keep Node from exiting (checked: a script holding its Gpu in a global ends).
 */
const instanceOfDevice = new WeakMap<GPUDevice, GPU>();

/**
 * The Gpus acquireGpu returned that are not destroyed yet, weakly held (a Gpu its caller dropped is collected as
 * before); destroyAcquiredGpus() ends them before a process.exit().
 */
const acquired = new Set<WeakRef<Gpu>>();

/**
 * Destroys every Gpu acquireGpu returned in this process that is not destroyed yet, for a process about to call
 * process.exit() (run by the 'exit' handler the first acquireGpu registers in Node: destroyAtExit). Dawn's destroy waits for the
 * device's queued GPU work and for its pipelines still compiling on worker threads; process.exit() with either under
 * way runs the native exit handlers beside them, and the process can die in native code (on lavapipe with a cold
 * shader cache, exit 20 ms after a submit: SIGSEGV in about half of 20 runs; none of 20 after this). A Gpu is dead
 * after it (its `lost` says destroyed). Returns how many were destroyed. Node and browsers alike; never throws.
 */
export function destroyAcquiredGpus(): number {
  let n = 0;
  for (const ref of acquired) {
    const gpu = ref.deref();
    acquired.delete(ref);
    if (!gpu || gpu.lost) continue;
    try {
      gpu.destroy();
      n++;
    } catch {
      /* already unusable: nothing left to wait for */
    }
  }
  return n;
}

/**
 * Node: destroyAcquiredGpus() as the process exits by any path that runs Node's exit handlers: process.exit() from
 * any script (the CLI's, scripts/, bench/, a user's), an error nothing caught (an uncaught throw or an unhandled
 * rejection), the event loop's end. Without it an uncaught error with GPU work queued and pipelines compiling died
 * by SIGSEGV instead of exiting 1 with its stack now and then (lavapipe, cold shader cache, a throw or a rejection
 * right after the submits: 17 of 100 runs; none of 62 with this; tests/gpu/dawn-exit-in-flight.test.ts).
 * An end by a signal's default action runs no exit handler, native or not, so it needs none. Registered once, by the
 * first acquireGpu; browsers have no `process` and nothing is registered.
 */
let exitHookInstalled = false;
function destroyAtExit(): void {
  const proc = (globalThis as { process?: { once?: (event: 'exit', f: () => void) => unknown } }).process;
  if (exitHookInstalled || typeof proc?.once !== 'function') return;
  exitHookInstalled = true;
  proc.once('exit', () => void destroyAcquiredGpus());
}

/**
 * Acquire an adapter and device with the optional features tessera uses (shader-f16,
 * timestamp-query, subgroups: each used only when present) and the limits it needs (raised to
 * what the adapter offers). In Node the first call without `gpu` loads Dawn and, unless the environment has it,
 * first sets process.env.LP_NUM_THREADS (Mesa llvmpipe's worker threads: 8 per core, at most 32; src/gpu/node.ts).
 * @throws InputError (the caller's mistake, one line, as every loader's; `option` names it) for an option that is not one (with the closest name), a `gpu`
 *   without requestAdapter, a powerPreference other than 'high-performance' / 'low-power', a disableFeatures entry
 *   tessera does not use, a requiredLimits value that is not a positive integer (a `min…` one: not a power of two)
 *   (all before the adapter is requested), or a requiredLimits name
 *   the adapter does not know; GpuUnavailableError when there is no WebGPU (browser without
 *   navigator.gpu; Node without the `webgpu` package), no adapter, or an adapter below REQUIRED_LIMITS /
 *   `requiredLimits` (the message gives both numbers).
 *
 * @example
 * const gpu = await acquireGpu();
 * console.log(gpu.adapterInfo.description, gpu.f16);
 * gpu.destroy();
 */
export async function acquireGpu(opts: GpuOptions = {}): Promise<Gpu> {
  checkGpuOptions(opts);
  const { gpu, runtime } = await findGpu(opts);
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new GpuUnavailableError(
      runtime === 'node'
        ? 'no WebGPU adapter found by Dawn: install a Vulkan driver (without a GPU, Mesa\'s lavapipe: apt-get install mesa-vulkan-drivers on Debian/Ubuntu; in a tessera checkout, `npm run setup` does)'
        : 'navigator.gpu.requestAdapter() returned null: WebGPU is disabled or unsupported on this machine',
    );
  }
  const disabled = new Set(opts.disableFeatures ?? []);
  const offered = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const features = offered.filter((f) => !disabled.has(f));

  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const have = (adapter.limits as unknown as Record<string, number>)[name];
    const need = Math.max(REQUIRED_LIMITS[name] ?? 0, opts.requiredLimits?.[name] ?? 0);
    if (have < need) {
      throw new GpuUnavailableError(`adapter limit ${name} is ${have}, tessera needs at least ${need}`);
    }
    requiredLimits[name] = have;
  }
  for (const [name, need] of Object.entries(opts.requiredLimits ?? {})) {
    if (name in requiredLimits) continue;
    const have = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof have !== 'number') {
      // the caller's typo, not a missing GPU
      const names = limitNames(adapter);
      const near = closestName(name, names);
      throw new InputError(`requiredLimits.${name}: not a limit of this adapter; ${near ? `did you mean ${near}?` : `its limits: ${names.join(', ')}`}`, { option: 'requiredLimits' });
    }
    // a min… limit (an alignment) is met by a smaller value, every other one by a larger
    if (name.startsWith('min') ? have > need : have < need) throw new GpuUnavailableError(`adapter limit ${name} is ${have}, requested ${need}`);
    requiredLimits[name] = need;
  }

  const device = await adapter.requestDevice({
    // one label per device ("tessera#1", "tessera#2", …): Dawn names the device in its messages, and a
    // buffer used on another device was "associated with [Device "tessera"], and cannot be used with
    // [Device "tessera"]" when every device had the same label
    label: `tessera#${++devicesAcquired}`,
    requiredFeatures: features as GPUFeatureName[],
    requiredLimits,
  });
  instanceOfDevice.set(device, gpu);
  const ctx = wrapDevice(device, {
    runtime,
    info: adapter.info ?? ({} as GPUAdapterInfo),
    has: (f) => (features as readonly string[]).includes(f),
    // set before the device's lost promise settles, so that a load or call right after is refused at once
    destroyed: 'this Gpu was destroyed (gpu.destroy()): acquire a new one (acquireGpu())',
  });
  ctx.adapterFeatures = offered;
  const ref = new WeakRef(ctx);
  acquired.add(ref);
  void device.lost.then(() => acquired.delete(ref));
  destroyAtExit();
  device.addEventListener('uncapturederror', (ev) => {
    const e = (ev as GPUUncapturedErrorEvent).error;
    // Surfaces through error scopes in normal operation; this catches anything outside them.
    if (!ctx.lost) console.error(`[tessera] uncaptured WebGPU error: ${e.message}`);
  });
  return ctx;
}

/**
 * The Gpu of a requested device: acquireGpu()'s for the device it requests, gpuOfDevice()'s
 * (src/model/device-option.ts) for a caller's own. `info` is the adapter's GPUAdapterInfo (with the subgroup
 * sizes and isFallbackAdapter where the runtime gives them), `has` whether a feature was requested. `lost` is set to
 * `destroyed` by destroy() (before the device's lost promise settles, so that a call right after is refused at
 * once) and to the reason when the device is lost.
 */
export function wrapDevice(
  device: GPUDevice,
  how: { runtime: 'node' | 'browser'; info: Partial<GPUAdapterInfo>; has: (feature: string) => boolean; destroyed: string },
): Gpu {
  const info = how.info as Partial<GPUAdapterInfo> & { subgroupMinSize?: number; subgroupMaxSize?: number; isFallbackAdapter?: boolean };
  const subgroups = how.has('subgroups');
  const gpu: Gpu = {
    device,
    runtime: how.runtime,
    adapterInfo: {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
    },
    f16: how.has('shader-f16'),
    timestamps: how.has('timestamp-query'),
    subgroups,
    subgroupMinSize: subgroups ? (info.subgroupMinSize ?? 0) : 0,
    subgroupMaxSize: subgroups ? (info.subgroupMaxSize ?? 0) : 0,
    isCpu: adapterInfoIsCpu({ vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, isFallbackAdapter: info.isFallbackAdapter }),
    limits: Object.fromEntries(WANTED_LIMITS.map((n) => [n, (device.limits as unknown as Record<string, number>)[n]])) as Record<WantedLimit, number>,
    lost: null,
    destroy() {
      gpu.lost ??= how.destroyed;
      device.destroy();
    },
  };
  const waits: LostWaits = { waiters: new Set(), info: null };
  lostWaits.set(gpu, waits);
  void device.lost.then((i) => {
    gpu.lost ??= `GPU device lost (${i.reason}): ${i.message || 'no message'}`;
    waits.info = i;
    for (const w of waits.waiters) w(i);
    waits.waiters.clear();
  });
  return gpu;
}

/** A wrapped device's waits in flight (untilLost), rejected together when the device is lost; `info` once it is. */
interface LostWaits {
  waiters: Set<(i: GPUDeviceLostInfo) => void>;
  info: GPUDeviceLostInfo | null;
}
const lostWaits = new WeakMap<Gpu, LostWaits>();

/**
 * `p`, or a rejection with `lostError(info)` when the device is lost first (a lost device never settles
 * onSubmittedWorkDone or mapAsync on some runtimes: the wait would hang). One `device.lost` reaction per device,
 * made by wrapDevice, not one per wait: `device.lost` stays pending for a device's whole life, so a reaction added
 * to it per wait (`Promise.race([p, device.lost.then(…)])`) was kept for good — ~0.5 KB per wait, ~30 KB per
 * generate() call in a long-running process. A Gpu not made by wrapDevice races `device.lost` itself.
 */
export function untilLost<T>(gpu: Gpu, p: Promise<T>, lostError: (i: GPUDeviceLostInfo) => Error): Promise<T> {
  const waits = lostWaits.get(gpu);
  if (!waits) return Promise.race([p, gpu.device.lost.then((i) => Promise.reject(lostError(i)))]);
  if (waits.info) {
    p.catch(() => {});
    return Promise.reject(lostError(waits.info));
  }
  return new Promise<T>((resolve, reject) => {
    const onLost = (i: GPUDeviceLostInfo) => reject(lostError(i));
    waits.waiters.add(onLost);
    p.then(
      (v) => {
        waits.waiters.delete(onLost);
        resolve(v);
      },
      (e: unknown) => {
        waits.waiters.delete(onLost);
        reject(e);
      },
    );
  });
}

/** How many untilLost waits are in flight on `gpu` (tests: every settled wait leaves the set). */
export function lostWaitCount(gpu: Gpu): number {
  return lostWaits.get(gpu)?.waiters.size ?? 0;
}

/** One-line description of an adapter for logs and reports. */
export function describeAdapter(gpu: Gpu): string {
  const i = gpu.adapterInfo;
  return [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' / ') || 'unknown adapter';
}

/** Throws GpuError when the device has been lost. Call before submitting work. */
export function checkAlive(gpu: Gpu, where: string): void {
  if (gpu.lost) throw new GpuError(`${gpu.lost} (while ${where})`, 'lost', where);
}

/**
 * Run `fn` inside validation + out-of-memory + internal error scopes; throw a GpuError naming
 * `where` if any scope caught something.
 */
export async function withErrorScopes<T>(gpu: Gpu, where: string, fn: () => T): Promise<T> {
  checkAlive(gpu, where);
  const d = gpu.device;
  d.pushErrorScope('internal');
  d.pushErrorScope('out-of-memory');
  d.pushErrorScope('validation');
  let out: T;
  try {
    out = fn();
  } finally {
    const v = await d.popErrorScope();
    const o = await d.popErrorScope();
    const i = await d.popErrorScope();
    const err = v ?? o ?? i;
    if (err) {
      const kind = v ? 'validation' : o ? 'out-of-memory' : 'internal';
      // eslint-disable-next-line no-unsafe-finally
      throw new GpuError(`WebGPU ${kind} error in ${where}: ${err.message}`, kind, where);
    }
  }
  checkAlive(gpu, where);
  return out;
}

// ---- waiting on Dawn in Node without a busy core ------------------------------------------------
// Dawn's Node binding resolves its promises (onSubmittedWorkDone, mapAsync) by re-queuing a
// setImmediate that calls ProcessEvents until nothing is pending: the main thread spins on one core
// for the whole wait. On a CPU adapter (lavapipe) that core is taken from the driver's own threads
// (bench/RESULTS.md, session 14: the DiT-S block waited at once 137 ms, paced 124 ms). `gpuWait`
// keeps Dawn's ticks but sleeps between them (Atomics.wait: the thread sleeps, the event loop goes
// on with the next tick), so after a short spin the wait polls at about 1/WAIT_SLEEP_MS kHz instead.
// Only on a CPU adapter: on a GPU the spinning core takes nothing from the device, and the sleep
// would only add up to WAIT_SLEEP_MS of latency to every wait.

/** A wait spins as Dawn does for this long first (ms): short waits (a small read-back) keep their latency. */
export const WAIT_SPIN_MS = 1;
/** Then each event-loop turn sleeps this long (ms) before Dawn's next tick: the latency added to a long wait. */
export const WAIT_SLEEP_MS = 0.5;

// the functions as the module found them: fake timers (vitest's useFakeTimers fakes setImmediate) would stall a wait
const realSetImmediate: ((f: () => void) => unknown) | undefined = typeof setImmediate === 'function' ? setImmediate : undefined;
let sleepCell: Int32Array | null = null;
let waiting = 0;        // gpuWait calls not yet settled
let polling = false;    // the tick chain is queued
let spinUntil = 0;      // performance.now() until which the chain does not sleep (the newest wait's spin)
let throttle = true;

/** Turns the sleeping poll of gpuWait on (the default) or off (Dawn's plain busy wait): for A/B measurements and tests. */
export function setGpuWaitThrottle(on: boolean): void {
  throttle = on;
}

let sleeps = 0;
/** Event-loop turns gpuWait's poll has slept in so far (tests: a wait that only spun has slept in none). */
export function gpuWaitSleeps(): number {
  return sleeps;
}

let throttledWaits = 0;
/** gpuWait calls that took the sleeping poll so far (tests: a wait site is wired even when its wait ended within the spin). */
export function gpuWaitThrottled(): number {
  return throttledWaits;
}

function pollTick(): void {
  if (waiting === 0) {
    polling = false;
    return;
  }
  if (performance.now() >= spinUntil) {
    Atomics.wait(sleepCell!, 0, 0, WAIT_SLEEP_MS);
    sleeps++;
  }
  realSetImmediate!(pollTick);
}

/**
 * Waits for `p`, a promise of `gpu`'s Dawn device (onSubmittedWorkDone, mapAsync), without Dawn's
 * busy wait in Node on a CPU adapter: after WAIT_SPIN_MS each turn of the event loop sleeps
 * WAIT_SLEEP_MS before Dawn's next ProcessEvents. Resolves or rejects as `p` does. On a GPU adapter,
 * in a browser (no busy wait there), or where the runtime lacks setImmediate, SharedArrayBuffer or
 * Atomics.wait, it is `p` itself.
 */
export function gpuWait<T>(gpu: Gpu, p: Promise<T>): Promise<T> {
  if (!throttle || gpu.runtime !== 'node' || !gpu.isCpu || !realSetImmediate || typeof SharedArrayBuffer !== 'function' || typeof Atomics?.wait !== 'function') return p;
  sleepCell ??= new Int32Array(new SharedArrayBuffer(4));
  throttledWaits++;
  waiting++;
  spinUntil = performance.now() + WAIT_SPIN_MS;
  if (!polling) {
    polling = true;
    realSetImmediate(pollTick);
  }
  const done = () => {
    waiting--;
  };
  p.then(done, done);
  return p;
}
