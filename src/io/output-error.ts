// OutputError on its own, free of Node imports: the Node entry exports it, and its declaration must
// compile for consumers without @types/node (node-write.ts, which throws it, imports node:*).

/** An output file that cannot be written: the message names the file and the cause (`cannot write o.safetensors: no space left on the device (ENOSPC)`). */
export class OutputError extends Error {
  override name = 'OutputError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_OUTPUT';
  constructor(
    message: string,
    /** The errno code of the failure, when it is one. */
    readonly errno?: string,
  ) {
    super(message);
  }
}
