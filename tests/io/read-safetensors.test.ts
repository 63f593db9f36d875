// readSafetensors (a fresh user's list, session 16): porting a checkpoint took readSafetensorsHeader plus one
// readTensorF32/readTensorInt call per tensor. One call now gives { metadata, tensors } with each tensor's stored
// dtype, shape and typed-array data (F16/BF16 widened to Float32Array exactly, I64 as BigInt64Array), from a path,
// a file:// URL, an http(s):// URL or a ByteSource. A dtype with no exact typed array is refused naming it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { readSafetensors, SafetensorsError } from '../../src/index.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { bytesSource } from '../../src/io/source.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-read-st-'));
const FILE = join(tmp, 'ckpt.safetensors');
const BYTES = writeSafetensors(
  [
    { name: 'w', dtype: 'F32', shape: [2, 2], data: new Float32Array([1, -2.5, 3, 1e-8]) },
    { name: 'h', dtype: 'F16', shape: [3], data: new Float32Array([0.5, -65504, 0.099975586]) },
    { name: 'b', dtype: 'BF16', shape: [2], data: new Float32Array([1.5, -0.0078125]) },
    { name: 'ids', dtype: 'I64', shape: [2], data: new BigInt64Array([207n, -(2n ** 40n)]) },
    { name: 'mask', dtype: 'I32', shape: [1, 2], data: new Int32Array([0, 7]) },
  ],
  { format: 'pt' },
);
writeFileSync(FILE, BYTES);

/** A file whose one tensor is F64 (writeSafetensors does not write it): the header by hand. */
function f64File(): string {
  const header = new TextEncoder().encode(JSON.stringify({ x: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }).padEnd(40, ' '));
  const out = new Uint8Array(8 + header.length + 8);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  new DataView(out.buffer).setFloat64(8 + header.length, 0.1, true);
  const f = join(tmp, 'f64.safetensors');
  writeFileSync(f, out);
  return f;
}

let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (req.method === 'HEAD' || !m) {
      res.writeHead(200, { 'content-length': BYTES.length, 'accept-ranges': 'bytes' }).end(req.method === 'HEAD' ? undefined : BYTES);
      return;
    }
    const a = Number(m[1]);
    const b = Math.min(Number(m[2]), BYTES.length - 1);
    res.writeHead(206, { 'content-length': b - a + 1, 'content-range': `bytes ${a}-${b}/${BYTES.length}` }).end(BYTES.subarray(a, b + 1));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

describe('readSafetensors', () => {
  it('every tensor with its stored dtype, shape and typed array; the metadata; from a path, file:// URL, http URL or ByteSource', async () => {
    for (const src of [FILE, pathToFileURL(FILE).href, `${base}/ckpt.safetensors`, bytesSource('ckpt', BYTES)]) {
      const { metadata, tensors } = await readSafetensors(src);
      expect(metadata).toEqual({ format: 'pt' });
      expect([...tensors.keys()]).toEqual(['w', 'h', 'b', 'ids', 'mask']);
      expect(tensors.get('w')).toEqual({ dtype: 'F32', shape: [2, 2], data: new Float32Array([1, -2.5, 3, 1e-8]) });
      expect(tensors.get('h')).toEqual({ dtype: 'F16', shape: [3], data: new Float32Array([0.5, -65504, 0.099975586]) });
      expect(tensors.get('b')).toEqual({ dtype: 'BF16', shape: [2], data: new Float32Array([1.5, -0.0078125]) });
      expect(tensors.get('ids')).toEqual({ dtype: 'I64', shape: [2], data: new BigInt64Array([207n, -(2n ** 40n)]) });
      expect(tensors.get('mask')).toEqual({ dtype: 'I32', shape: [1, 2], data: new Int32Array([0, 7]) });
    }
  });

  it('only: just those tensors; a name the file lacks, an F64 tensor and a missing file are refused naming them', async () => {
    const { tensors } = await readSafetensors(FILE, { only: ['ids'] });
    expect([...tensors.keys()]).toEqual(['ids']);
    await expect(readSafetensors(FILE, { only: ['idz'] })).rejects.toThrow(new SafetensorsError('no tensor "idz" (the file holds 5: w, h, b, ids, mask)', FILE));
    const f64 = f64File();
    await expect(readSafetensors(f64)).rejects.toThrow(/^.*f64\.safetensors: tensor "x": is F64, which readSafetensors has no exact typed array for/);
    // a documented class naming the path, not Node's raw ENOENT (session 23 library review #3)
    await expect(readSafetensors(join(tmp, 'none.safetensors'))).rejects.toMatchObject({ name: 'FileAccessError', code: 'ERR_FILE_ACCESS', errno: 'ENOENT', file: join(tmp, 'none.safetensors') });
  });
});
