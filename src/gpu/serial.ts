// One call at a time per object. A model, pipeline, VAE or text encoder owns recorded plans and
// their buffers (inputs, activations, staging): two calls interleaving on one object would write
// each other's inputs between record and read-back, and return the other call's result. Calls
// are queued in call order instead; each call's own error reaches only its caller.

/** Thrown by any call on an object after its dispose(). */
export class DisposedError extends Error {
  override name = 'DisposedError';
}

export class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private pending = 0;

  /** @param what the object in messages, e.g. "pipeline models/tessera-shapes". */
  constructor(private readonly what: string) {}

  /**
   * Runs `f` after every call queued before it has settled. A call made before dispose() runs (a
   * caller cannot tell a queued call from a running one).
   * With a `signal`: when it aborts while the call waits its turn, the call leaves the queue and
   * rejects at once with what `aborted` throws (the caller's AbortError; the signal's reason when
   * `aborted` throws nothing); `f` never runs. Once `f` has started, the signal is `f`'s to check.
   * @throws DisposedError (as a rejection) when the object was disposed before the call.
   */
  run<T>(f: () => Promise<T>, signal?: AbortSignal, aborted?: () => void): Promise<T> {
    if (this.closed) return Promise.reject(this.disposedError());
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
  whenIdle(f: () => void | Promise<unknown>): Promise<void> {
    this.check();
    if (this.pending > 0) {
      return this.run(async () => {
        await f();
      });
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
