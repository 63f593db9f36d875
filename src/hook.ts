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
    await fn(...args);
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
        r = fn(...args);
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
