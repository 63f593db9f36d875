// One call at a time per object. A model, pipeline, VAE or text encoder owns recorded plans and
// their buffers (inputs, activations, staging): two calls interleaving on one object would write
// each other's inputs between record and read-back, and return the other call's result. Calls
// are queued in call order instead; each call's own error reaches only its caller.

import { asCall, hookOf } from '../hook.js';

/** Thrown by any call on an object after its dispose(). */
export class DisposedError extends Error {
  override name = 'DisposedError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_DISPOSED';
}

/**
 * Rejects a call on an object awaited (await, then, Promise.all…) inside a callback of that object's own
 * running call, such as `await pipe.encodePrompt(…)` inside Pipeline.generate's onStep: it would wait for the
 * running call, which waits for the callback. The object stays usable; the running call fails only if the
 * callback lets this error through (its hookError).
 */
export class ReentrantCallError extends Error {
  override name = 'ReentrantCallError';
  readonly code: string = 'ERR_REENTRANT_CALL';
}

/** A promise that reports when something chains on it (await, then, catch, Promise.all call its then). */
class Watched<T> extends Promise<T> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }
  onThen: (() => void) | undefined;
  override then<A = T, B = never>(ok?: ((v: T) => A | PromiseLike<A>) | null, no?: ((e: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    this.onThen?.();
    return super.then(ok, no);
  }
}

/** Serial.run's options: what names the call, and what may end it before its turn. */
export interface SerialRunOptions {
  /** The call's name in messages (ReentrantCallError), e.g. "Pipeline.encodePrompt"; default "this call". */
  call?: string | undefined;
  /** Aborting it while the call waits its turn takes the call out of the queue. */
  signal?: AbortSignal | undefined;
  /** Throws the error an aborted wait rejects with (the caller's AbortError naming where); default the signal's reason. */
  aborted?: (() => void) | undefined;
  /** A check run beside the wait: its rejection rejects the call at once. */
  first?: Promise<unknown> | undefined;
}

export class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private pending = 0;
  /** The running call's name (for hookOf where AsyncLocalStorage is missing). */
  private running: string | undefined;

  /** @param what the object in messages, e.g. "pipeline models/tessera-shapes". */
  constructor(private readonly what: string) {}

  /**
   * Runs `f` after every call queued before it has settled. A call made before dispose() runs (a
   * caller cannot tell a queued call from a running one).
   * Options (SerialRunOptions): with a `signal`, when it aborts while the call waits its turn, the call leaves the
   * queue and rejects at once with what `aborted` throws (the caller's AbortError; the signal's reason when
   * `aborted` throws nothing); `f` never runs. Once `f` has started, the signal is `f`'s to check.
   * `call`: its name in messages, e.g. "Pipeline.encodePrompt". `first`: a check run beside the wait (for an
   * early refusal): when it rejects, the call rejects at once with its error (`f` still runs in turn, and is
   * expected to fail on it too). A method that returns the call should return this promise itself, not
   * chain on it (an async wrapper's `return` chains: see below).
   * A call made inside a callback (onStep, onStage, onProgress…) of this object's running call is queued as
   * any other, but chaining on it (await, then, Promise.all) before the callback settles would wait for
   * itself: it then leaves the queue and rejects with ReentrantCallError at once. Where AsyncLocalStorage is
   * missing (browsers) only calls made in the callback's synchronous part (before its first await) are seen.
   * @throws DisposedError (as a rejection) when the object was disposed before the call.
   */
  run<T>(f: () => Promise<T>, { signal, aborted, call = 'this call', first }: SerialRunOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(this.disposedError());
    const inside = hookOf(this, this.running);
    const g = () => {
      this.running = call;
      return asCall(this, call, f).finally(() => (this.running = undefined));
    };
    if (!inside) {
      const p = this.enqueue(g, signal, aborted);
      return first ? new Promise<T>((ok, no) => (p.then(ok, no), first.catch(no))) : p;
    }
    const refuse = new AbortController();
    const error = () =>
      new ReentrantCallError(
        `${call}: awaited inside ${inside.hook.name} of a running ${inside.call} on ${this.what}; it would wait for itself — await it after ${inside.call} resolves (called there without await or then, it runs after it)`,
      );
    const p = this.enqueue(g, signal ? AbortSignal.any([signal, refuse.signal]) : refuse.signal, () => {
      if (refuse.signal.aborted) throw error();
      aborted?.();
    });
    const w = new Watched<T>((ok, no) => (p.then(ok, no), first?.catch(no)));
    w.onThen = () => {
      if (inside.hook.active) refuse.abort();
    };
    return w;
  }

  private enqueue<T>(f: () => Promise<T>, signal?: AbortSignal, aborted?: () => void): Promise<T> {
    this.pending++;
    if (!signal) {
      const r = this.tail.then(f, f).finally(() => this.pending--);
      this.tail = r.catch(() => undefined);
      return r;
    }
    return new Promise<T>((resolve, reject) => {
      let state: 'queued' | 'started' | 'left' = 'queued';
      const leave = () => {
        if (state !== 'queued') return;
        state = 'left';
        this.pending--;
        try {
          aborted?.();
          reject(signal.reason);
        } catch (e) {
          reject(e);
        }
      };
      // its turn comes in order even after it left: it then does nothing
      this.tail = this.tail.then(async () => {
        signal.removeEventListener('abort', leave);
        if (state === 'left') return;
        state = 'started';
        try {
          resolve(await f());
        } catch (e) {
          reject(e);
        } finally {
          this.pending--;
        }
      });
      if (signal.aborted) leave();
      else signal.addEventListener('abort', leave, { once: true });
    });
  }

  /**
   * For synchronous state changes that must not touch a running call's buffers (resetPlans): runs
   * `f` at once when no call is running or queued, else after them, as run() would. Returns when
   * `f` (and any promise it returns) has settled; `f`'s own error rejects it.
   * @throws DisposedError (thrown, not a rejection) when the object was disposed.
   */
  whenIdle(f: () => void | Promise<unknown>, call?: string): Promise<void> {
    this.check();
    if (this.pending > 0) {
      return this.run(
        async () => {
          await f();
        },
        { call },
      );
    }
    let r: void | Promise<unknown>;
    try {
      r = f();
    } catch (e) {
      return Promise.reject(e);
    }
    if (!(r instanceof Promise)) return Promise.resolve();
    // asynchronous work started while idle: later calls wait for it, as for a queued call
    return this.run(async () => {
      await r;
    });
  }

  /** @throws DisposedError when dispose() was called. */
  check(): void {
    if (this.closed) throw this.disposedError();
  }

  private disposedError(): DisposedError {
    return new DisposedError(`${this.what} was disposed: load it again to use it`);
  }

  /**
   * The object's dispose(): later calls throw DisposedError; calls made before it (running or queued)
   * still run, and `free` runs once they have all settled (at once when none is pending). A second
   * dispose does nothing.
   */
  dispose(free: () => void): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending === 0) free();
    else void this.tail.then(free);
  }
}
