// Preloaded into a CLI spawn (NODE_OPTIONS=--import, see bytesReadEnv in tests/helpers/cli.ts) by tests
// that check a file's data was never read: counts the bytes every FileHandle.read returns (the CLI's
// file sources read through it) and appends the total, one line per process, to $TESSERA_TEST_BYTES_READ.
import { appendFileSync } from 'node:fs';
import { open } from 'node:fs/promises';

const out = process.env.TESSERA_TEST_BYTES_READ;
if (out) {
  const fh = await open(new URL(import.meta.url), 'r');
  const proto = Object.getPrototypeOf(fh);
  await fh.close();
  const read = proto.read;
  let total = 0;
  proto.read = async function (...args) {
    const r = await read.apply(this, args);
    total += r.bytesRead;
    return r;
  };
  process.on('exit', () => appendFileSync(out, `${total}\n`));
}
