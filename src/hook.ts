// The one contract of every user callback tessera calls (onStep, onStage, onDecodeProgress, onKernels,
// onProgress, onWarning): the call waits for a promise the callback returns before it goes on (backpressure),
// and a callback that throws, or whose promise rejects, fails the call with an Error naming the callback and
// where it was called, the callback's error as `cause` (an AbortError passes unchanged: a callback that
// aborts the call is an abort).

/**
 * A user callback under this contract: it may return nothing or a promise (awaited). Written as a union of the
 * two forms rather than `=> void | Promise<void>`, which TypeScript would refuse for callbacks such as
 * `(s) => log.push(s)` (a number is not void | Promise<void>).
 */
export type Hook<A extends unknown[]> = ((...args: A) => void) | ((...args: A) => Promise<void>);

/** The Error a failed callback gives: `WHERE: NAME failed: MESSAGE`, the callback's error as `cause`. */
export function hookError(name: string, where: string, e: unknown): Error {
  // an abort, or a callback error named already (a callback passed on as another's: onDecodeProgress as Vae.decode's onProgress)
  if (e instanceof Error && (e.name === 'AbortError' || named.has(e))) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const err = new Error(`${where}: ${name} failed: ${msg}`, { cause: e });
  named.add(err);
  return err;
}
const named = new WeakSet<Error>();

/**
 * Calls `fn(...args)` (nothing when `fn` is undefined) and awaits what it returns.
 * @throws the hookError of a callback that throws or rejects.
 */
export async function callHook<A extends unknown[]>(name: string, where: string, fn: ((...args: A) => unknown) | undefined, ...args: A): Promise<void> {
  if (!fn) return;
  try {
    await inHook(name, () => fn(...args));
  } catch (e) {
    throw hookError(name, where, e);
  }
}

/**
 * For callbacks fired where nothing can wait (inside GPU code: onKernels): calls `fn` at once, keeps a promise
 * it returns, and `settle()` awaits every kept one, failing with the first failure's hookError. A callback that
 * throws at once throws its hookError there. A rejection is never left unhandled.
 */
export function hookQueue<A extends unknown[]>(name: string, where: string, fn: (...args: A) => unknown): { call: (...args: A) => void; settle: () => Promise<void> } {
  let pending: Promise<unknown>[] = [];
  let failed: { e: unknown } | undefined;
  return {
    call: (...args: A) => {
      let r: unknown;
      try {
        r = inHook(name, () => fn(...args));
      } catch (e) {
        throw hookError(name, where, e);
      }
      if (r && typeof (r as PromiseLike<unknown>).then === 'function') {
        pending.push(Promise.resolve(r).catch((e) => void (failed ??= { e })));
      }
    },
    settle: async () => {
      while (pending.length) {
        const p = pending;
        pending = [];
        await Promise.all(p);
      }
      if (failed) throw hookError(name, where, failed.e);
    },
  };
}

// Which callback of which running call the code runs in. A call on an object awaited inside a callback of
// that object's own running call waits for the call, which waits for the callback: neither settles, and the
// object's queue (src/gpu/serial.ts) is wedged for good. Serial.run asks hookOf whether a call comes from
// such a callback. Node: AsyncLocalStorage follows the callback through its awaits (reached through
// process.getBuiltinModule, so that browser bundles import no node: module); elsewhere only calls made in
// the callback's synchronous part (before its first await) are seen.
interface Frame {
  readonly up: Frame | undefined;
  /** A running call: its object (a Serial) and name; a callback: its name. */
  readonly owner?: object;
  readonly name: string;
  /** The call or the callback (and a promise it returned) has not settled. */
  active: boolean;
}
interface Als {
  getStore(): Frame | undefined;
  run<R>(store: Frame, f: () => R): R;
}
const als: Als | undefined = (() => {
  try {
    const node = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const m = node?.getBuiltinModule?.('node:async_hooks') as { AsyncLocalStorage?: new () => Als } | undefined;
    return m?.AsyncLocalStorage ? new m.AsyncLocalStorage() : undefined;
  } catch {
    return undefined;
  }
})();
/** Without AsyncLocalStorage: the callback whose synchronous part runs now. */
let syncHook: Frame | undefined;

/** Runs `f` as `owner`'s running call named `call` (Serial.run), for hookOf. */
export function asCall<T>(owner: object, call: string, f: () => Promise<T>): Promise<T> {
  if (!als) return f();
  const frame: Frame = { up: als.getStore(), owner, name: call, active: true };
  const end = () => void (frame.active = false);
  const r = als.run(frame, f);
  r.then(end, end);
  return r;
}

/**
 * When the caller runs inside a callback (still unsettled) of `owner`'s running call: the callback and the
 * call's names. `running`: the name of `owner`'s running call (undefined when none runs), for where
 * AsyncLocalStorage is missing.
 */
export function hookOf(owner: object, running: string | undefined): { hook: { readonly name: string; readonly active: boolean }; call: string } | undefined {
  if (!als) return syncHook && running !== undefined ? { hook: syncHook, call: running } : undefined;
  let hook: Frame | undefined;
  for (let f = als.getStore(); f; f = f.up) {
    if (!f.owner) hook ??= f.active ? f : undefined;
    else if (f.owner === owner && f.active && hook) return { hook, call: f.name };
  }
  return undefined;
}

/** Calls a user callback as a callback frame: active until it, and a promise it returns, settle. */
function inHook<R>(name: string, fn: () => R): R {
  const frame: Frame = { up: als?.getStore(), name, active: true };
  const end = () => void (frame.active = false);
  const prev = syncHook;
  syncHook = frame;
  let r: R;
  try {
    r = als ? als.run(frame, fn) : fn();
  } catch (e) {
    end();
    throw e;
  } finally {
    syncHook = prev;
  }
  if (r && typeof (r as { then?: unknown }).then === 'function') Promise.resolve(r).then(end, end);
  else end();
  return r;
}
