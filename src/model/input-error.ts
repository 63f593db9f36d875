// The library's InputError and the helpers its messages share (how a value is shown, what kind it is, the
// `gpu` option's check), in a module of their own that imports nothing at run time: the profiler, the option
// checks and the tuner (src/gpu/tune.ts) take them without importing the models (model.ts re-exports them).
import type { Gpu } from '../gpu/device.js';

/**
 * Wrong inputs or arguments: tensor names, dtypes, shapes, non-finite values, class labels out of range, an unknown
 * preset; the message names the tensor or argument and what was expected. name 'InputError', code 'ERR_INPUT'
 * (subclasses: DtypeUnsupportedError 'ERR_DTYPE_UNSUPPORTED', RopeLimitError 'ERR_ROPE_LIMIT'; the README lists
 * every error class's code). `option`: the option or tensor at fault, where the check names one in a field —
 * the option checks (an unknown option name, signal, gpu, dtype, acquireGpu's options, generate()'s and
 * Pipeline.generate's options and tensors, forward()'s inputs, encodeGif's and writeMp4Ffmpeg's fps); it is the
 * name the message starts with. Other refusals name it in the message only (undefined here).
 */
export class InputError extends Error {
  override name = 'InputError';
  /** Stable, for a switch: survives a second copy of the package, a bundle or structured clone, as `name` does. */
  readonly code: string = 'ERR_INPUT';
  /** The option or tensor the message is about (`guidance_scale`, `latents`, `gpu`), where the check sets it. */
  readonly option?: string;
  constructor(message: string, options?: { option?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.option !== undefined) this.option = options.option;
  }
}

/**
 * `e` led by `where` (a function's or a file's name) when it is an InputError: a plain InputError as a new one
 * (its `option` kept), a subclass (DtypeUnsupportedError, RopeLimitError) as itself with the message led the same
 * way, so that its class and fields still tell it apart; anything else as it is.
 */
export function inputErrorAt(where: string, e: unknown): unknown {
  if (!(e instanceof InputError)) return e;
  if (e.constructor !== InputError) {
    e.message = `${where}: ${e.message}`;
    return e;
  }
  return new InputError(`${where}: ${e.message}`, { option: e.option });
}

/**
 * Checks a `gpu` option (every loader's, and Umt5Encoder.load's argument) before any file is read:
 * undefined (when not `required`: the loader acquires a device) or the object acquireGpu() returns.
 * A GPUDevice, GPUAdapter, navigator.gpu, an un-awaited acquireGpu() or any other value would
 * otherwise fail later with a message about something else.
 * @throws InputError "gpu: a device from acquireGpu(), got a GPUDevice" (or what else it got).
 */
export function checkGpuOption(v: unknown, required = false): asserts v is Gpu | undefined {
  if (v === undefined && !required) return;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    // acquireGpu()'s object, or a copy of one ({ ...gpu, f16: false }); a GPUDevice has destroy but no f16
    if (typeof o['destroy'] === 'function' && typeof o['f16'] === 'boolean' && typeof o['adapterInfo'] === 'object' && o['adapterInfo'] !== null) return;
  }
  throw new InputError(`gpu: a device from acquireGpu(), got ${notAGpu(v)}`, { option: 'gpu' });
}

/** What a `gpu` value is, for checkGpuOption's refusal: the WebGPU objects by name, else kindOf. */
function notAGpu(v: unknown): string {
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    if (typeof o['then'] === 'function') return 'a Promise (await acquireGpu())';
    if (typeof o['createBuffer'] === 'function' && 'queue' in o) return 'a GPUDevice';
    if (typeof o['requestDevice'] === 'function') return 'a GPUAdapter';
    if (typeof o['requestAdapter'] === 'function') return 'a GPU (navigator.gpu)';
  }
  return kindOf(v);
}

/** A value's kind for messages: primitives as shown(), "an array", "a Float64Array", "a plain object with keys a, b", "a Foo". */
export function kindOf(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  if (typeof v !== 'object' || v === null) return shown(v);
  const o = v as Record<string, unknown>;
  if (Array.isArray(v)) return 'an array';
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    const keys = Object.keys(o);
    return keys.length ? `a plain object with keys ${keys.slice(0, 6).join(', ')}${keys.length > 6 ? ', …' : ''}` : 'an empty object';
  }
  const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name ? `a ${name}` : 'an object';
}

/** A value as messages show it: numbers as written, anything else as JSON (so a string "2" reads as one). */
export function shown(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  try {
    return JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v);
  } catch {
    return String(v); // a cycle
  }
}
