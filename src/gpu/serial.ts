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

  /** @param what the object in messages, e.g. "pipeline models/tessera-shapes". */
  constructor(private readonly what: string) {}

  /**
   * Runs `f` after every call queued before it has settled.
   * @throws DisposedError when the object was disposed, at the call or while it waited in the queue.
   */
  run<T>(f: () => Promise<T>): Promise<T> {
    const go = () => {
      this.check();
      return f();
    };
    const r = this.tail.then(go, go);
    this.tail = r.catch(() => undefined);
    return r;
  }

  /** @throws DisposedError when dispose() was called. */
  check(): void {
    if (this.closed) throw new DisposedError(`${this.what} was disposed: load it again to use it`);
  }

  /** Marks the object disposed: later calls, and calls still queued, throw DisposedError. */
  close(): void {
    this.closed = true;
  }

  /** Whether a call is running or queued (dispose() during a call frees what the call is using). */
  get busy(): Promise<unknown> {
    return this.tail;
  }
}
