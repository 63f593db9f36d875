// The loaders' `device` option: a GPUDevice the caller already has (its own adapter.requestDevice(), a device a
// page shares with other WebGPU code), taken as the device tessera runs on, beside `gpu` (acquireGpu()'s object).
// The device is wrapped as the Gpu every op receives by wrapDevice(), as acquireGpu() wraps the device it requests
// (src/gpu/device.ts): its features and limits are the ones the caller requested it with, and it stays the
// caller's (no loaded object destroys it).
import { REQUIRED_LIMITS, wrapDevice, type Gpu } from '../gpu/device.js';
import { webgpuRuntime } from '../gpu/runtime.js';
import { checkGpuOption, InputError, kindOf } from './input-error.js';

/** A loader's two ways to name its device. */
export interface DeviceOptions {
  gpu?: unknown;
  device?: unknown;
}

const isGpuDevice = (v: unknown): v is GPUDevice =>
  typeof v === 'object' && v !== null && typeof (v as GPUDevice).createBuffer === 'function' && typeof (v as GPUDevice).queue === 'object' && typeof (v as GPUDevice).features?.has === 'function' && typeof (v as GPUDevice).limits === 'object';

/** What a `device` value is, for the refusal. */
function notADevice(v: unknown): string {
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    if (typeof o['then'] === 'function') return 'a Promise (await adapter.requestDevice())';
    if (typeof o['f16'] === 'boolean' && typeof o['destroy'] === 'function') return "acquireGpu()'s object: give it as `gpu` (or its .device as `device`)";
    if (typeof o['requestDevice'] === 'function') return 'a GPUAdapter (await adapter.requestDevice())';
    if (typeof o['requestAdapter'] === 'function') return 'a GPU (navigator.gpu)';
  }
  return kindOf(v);
}

/**
 * Checks a loader's `gpu` and `device` options before any file is read: at most one of them; `device` a
 * GPUDevice with at least the limits tessera cannot run without (WebGPU's defaults), `gpu` acquireGpu()'s object.
 * @throws InputError "device and gpu: give one …", "device: a GPUDevice (from adapter.requestDevice()), got …",
 *   "device: its limit NAME is N, tessera needs at least M …", or checkGpuOption's refusal of `gpu` (a GPUDevice
 *   given as `gpu` is pointed to `device`).
 */
export function checkDeviceOptions(opts: DeviceOptions): void {
  const { gpu, device } = opts;
  if (gpu !== undefined && device !== undefined) throw new InputError('device and gpu: give one (device: a GPUDevice of your own; gpu: the object acquireGpu() returns)', { option: 'device' });
  if (isGpuDevice(gpu)) throw new InputError('gpu: a device from acquireGpu(), got a GPUDevice: give a GPUDevice of your own as `device`', { option: 'gpu' });
  checkGpuOption(gpu);
  if (device === undefined) return;
  if (!isGpuDevice(device)) throw new InputError(`device: a GPUDevice (from adapter.requestDevice()), got ${notADevice(device)}`, { option: 'device' });
  for (const [name, need] of Object.entries(REQUIRED_LIMITS)) {
    const have = (device.limits as unknown as Record<string, number>)[name]!;
    if (have < need) throw new InputError(`device: its limit ${name} is ${have}, tessera needs at least ${need} (request it in requestDevice's requiredLimits)`, { option: 'device' });
  }
}

/** One Gpu per caller's device: the loads on one device share it (its `lost`, as the objects of one acquireGpu() do). */
const wrapped = new WeakMap<GPUDevice, Gpu>();

/**
 * The Gpu of a caller's GPUDevice (checked by checkDeviceOptions): the features it was requested with
 * (shader-f16, timestamp-query, subgroups), its values of WANTED_LIMITS, its adapter's info where the runtime
 * gives GPUDevice.adapterInfo. `lost` is set when the device is lost; destroy() destroys it, as acquireGpu()'s does.
 * In Node the caller keeps the webgpu package's create() object referenced as long as the device runs (its README,
 * "Lifetime": collected, it takes the process down); a GPUDevice does not lead back to it, so tessera cannot hold
 * it as acquireGpu() does.
 */
export function gpuOfDevice(device: GPUDevice): Gpu {
  const known = wrapped.get(device);
  if (known) return known;
  const gpu = wrapDevice(device, {
    runtime: webgpuRuntime(),
    info: (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo ?? {},
    has: (f) => device.features.has(f),
    destroyed: 'this device was destroyed (gpu.destroy()): request a new one',
  });
  wrapped.set(device, gpu);
  return gpu;
}

/** `gpu` wraps a caller's own GPUDevice (the loaders' `device` option), not one acquireGpu() requested. */
export function isCallersDevice(gpu: Gpu): boolean {
  return wrapped.get(gpu.device) === gpu;
}

/** The device a load runs on: `gpu`, or the Gpu of `device`, or undefined (withLoadGpu acquires one). Checked options only. */
export function loadGpuOf(opts: { gpu?: Gpu; device?: GPUDevice }): Gpu | undefined {
  return opts.gpu ?? (opts.device && gpuOfDevice(opts.device));
}
