// Option names of the library's calls: an options object holding a key that is not an option is
// refused, naming the option the caller most likely meant (typos would otherwise be silently
// ignored: `steps: 4` ran 50 steps). One wording for every entry point.
import { closestName } from '../closest-name.js';
import { InputError, kindOf } from './input-error.js';
import { callHook, type Hook } from '../hook.js';

/** Names people reach for that are neither a spelling nor a part of the option's own name. */
const ALIASES: Record<string, string> = { generator: 'seed', cfg: 'guidance_scale', cfg_scale: 'guidance_scale', negative: 'negative_prompt', labels: 'class_labels', noise: 'latents' };

/**
 * The option of `names` a caller most likely meant by `key`: the same name in another case style
 * (numInferenceSteps, max_memory), a known alias (generator → seed), the one shortest option holding
 * every word of `key` (steps → num_inference_steps), or a near spelling (num_inference_step, dtyp).
 */
export function closestOption(key: string, names: readonly string[]): string | undefined {
  return closestName(key, names, ALIASES);
}

/**
 * Refuses a call whose options object is not one, or holds a key that is not an option.
 * `elsewhere`: options that belong to another call (dtype → loadPipeline), named in the message.
 * `noun`: what the keys are called in the message ('input' for DiffusionModel.forward's named tensors,
 * 'folder' for loadTextEncoder's folders).
 * @throws InputError `KEY: not an option of WHERE; did you mean NAME? (options: …)`, or
 *   `KEY: not an option of WHERE but of OTHER`.
 */
export function checkOptionNames(o: unknown, names: readonly string[], where: string, example: string, elsewhere: Record<string, string> = {}, noun = 'option'): void {
  const a = /^[aeiou]/.test(noun) ? 'an' : 'a';
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new InputError(`${where}: expected ${a} ${noun}s object such as ${example}, got ${o === null ? 'null' : kindOf(o)}`);
  for (const k of Object.keys(o)) {
    if (names.includes(k)) continue;
    if (Object.hasOwn(elsewhere, k)) throw new InputError(`${k}: not ${a} ${noun} of ${where} but of ${elsewhere[k]} (${noun}s: ${names.join(', ')})`, { option: k });
    const near = closestOption(k, names);
    throw new InputError(`${k}: not ${a} ${noun} of ${where}${near ? `; did you mean ${near}?` : ''} (${noun}s: ${names.join(', ')})`, { option: k });
  }
}

/**
 * Refuses an `signal` option that is not an AbortSignal (InputError naming `signal`), before any work.
 */
export function checkSignal(signal: unknown): void {
  if (signal === undefined) return;
  const s = signal as Partial<AbortSignal> | null;
  if (typeof s !== 'object' || s === null || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function') {
    throw new InputError(`signal: an AbortSignal (from new AbortController().signal), got ${signal === null ? 'null' : typeof signal}`, { option: 'signal' });
  }
}

/**
 * Stops a call whose `signal` was aborted: rejects with a DOMException named 'AbortError' (so
 * `e.name === 'AbortError'` checks, as for fetch, keep working) whose message names what was interrupted,
 * `WHERE: aborted (REASON)` (e.g. `loadModel(DIR), before KEY (3/120): aborted (This operation was
 * aborted)`), and whose `cause` is the signal's reason (`controller.abort()` with no argument: the
 * signal's own AbortError). The one way tessera reports an abort, in every loader and call.
 */
export function throwIfAborted(signal: AbortSignal | undefined, where: string): void {
  if (!signal?.aborted) return;
  throw abortError(where, signal.reason);
}

/** The AbortError of throwIfAborted: `WHERE: aborted (REASON)`, the reason as `cause`. */
function abortError(where: string, reason: unknown): DOMException {
  const shown = reason instanceof Error ? reason.message : String(reason);
  const e = new DOMException(`${where}: aborted (${shown})`, 'AbortError');
  Object.defineProperty(e, 'cause', { value: reason, configurable: true, writable: true });
  return e;
}

/**
 * Sends a warning line to a loader's `onWarning` (awaited; one that throws or rejects fails the call as
 * `WHERE: onWarning failed: …`), or to console.warn when there is none.
 */
export async function warnLine(onWarning: Hook<[line: string]> | undefined, where: string, line: string): Promise<void> {
  if (onWarning) await callHook('onWarning', where, onWarning, line);
  else console.warn(line);
}

/**
 * A loader's `unexpectedKeys` option: undefined (the default, 'error'), 'error' or 'warn'.
 * @throws InputError naming unexpectedKeys otherwise.
 */
export function checkUnexpectedKeys(v: unknown): void {
  if (v !== undefined && v !== 'error' && v !== 'warn') throw new InputError(`unexpectedKeys: 'error' or 'warn', got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`, { option: 'unexpectedKeys' });
}
