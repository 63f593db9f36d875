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
   * caller cannot tell a queued call from a running one); dispose() frees after `busy` settles.
   * @throws DisposedError (as a rejection) when the object was disposed before the call.
   */
  run<T>(f: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(this.disposedError());
    this.pending++;
    const r = this.tail.then(f, f).finally(() => this.pending--);
    this.tail = r.catch(() => undefined);
    return r;
  }

  /** No call running or queued: dispose() may free now. */
  get idle(): boolean {
    return this.pending === 0;
  }

  /** @throws DisposedError when dispose() was called. */
  check(): void {
    if (this.closed) throw this.disposedError();
  }

  private disposedError(): DisposedError {
    return new DisposedError(`${this.what} was disposed: load it again to use it`);
  }

  /** Marks the object disposed: later calls throw DisposedError; calls made before still run. */
  close(): void {
    this.closed = true;
  }

  /** Settles when every call made so far has settled (dispose() frees after it). */
  get busy(): Promise<unknown> {
    return this.tail;
  }
}
