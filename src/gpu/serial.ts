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
   * @throws DisposedError (as a rejection) when the object was disposed before the call.
   */
  run<T>(f: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(this.disposedError());
    this.pending++;
    const r = this.tail.then(f, f).finally(() => this.pending--);
    this.tail = r.catch(() => undefined);
    return r;
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
