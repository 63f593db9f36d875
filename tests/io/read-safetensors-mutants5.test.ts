// Mutation round 5 (session 18) on readSafetensors (src/io/read-safetensors.ts): the gaps the existing test left.
// A ByteSource the caller gives stays the caller's (not closed); the narrow integer dtypes (BOOL, U8, I8, I16, U16)
// come widened to Int32Array, as documented. (That a path it opens is closed again: file-handles-mutants5.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { readSafetensors } from '../../src/index.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { bytesSource, type ByteSource } from '../../src/io/source.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-read-st5-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));


/** A safetensors file of raw tensors (writeSafetensors writes none of these dtypes): the header by hand. */
function rawFile(tensors: { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[]): Uint8Array {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.bytes.length] };
    off += t.bytes.length;
  }
  let json = JSON.stringify(header);
  json = json.padEnd(Math.ceil(json.length / 8) * 8, ' ');
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  let at = 8 + h.length;
  for (const t of tensors) {
    out.set(t.bytes, at);
    at += t.bytes.length;
  }
  return out;
}

describe('readSafetensors: a ByteSource it is given', () => {
  it("a ByteSource is the caller's: not closed, readable again", async () => {
    let closed = 0;
    const src: ByteSource = { ...bytesSource('ckpt', writeSafetensors([{ name: 'w', dtype: 'F32', shape: [1], data: new Float32Array([3]) }])), close: async () => void closed++ };
    await readSafetensors(src);
    await readSafetensors(src, { only: ['w'] });
    expect(closed).toBe(0);
  });
});

describe('readSafetensors: the narrow integer dtypes', () => {
  it('BOOL, U8, I8, I16 and U16 come widened to Int32Array, the stored dtype named', async () => {
    const i16 = new Uint8Array(new Int16Array([-300, 2]).buffer);
    const u16 = new Uint8Array(new Uint16Array([65535]).buffer);
    const src = bytesSource(
      'narrow',
      rawFile([
        { name: 'mask', dtype: 'BOOL', shape: [3], bytes: new Uint8Array([1, 0, 1]) },
        { name: 'u8', dtype: 'U8', shape: [2], bytes: new Uint8Array([255, 7]) },
        { name: 'i8', dtype: 'I8', shape: [2], bytes: new Uint8Array([0xff, 5]) },
        { name: 'i16', dtype: 'I16', shape: [2], bytes: i16 },
        { name: 'u16', dtype: 'U16', shape: [1], bytes: u16 },
      ]),
    );
    const { tensors } = await readSafetensors(src);
    expect(Object.fromEntries(tensors)).toEqual({
      mask: { dtype: 'BOOL', shape: [3], data: new Int32Array([1, 0, 1]) },
      u8: { dtype: 'U8', shape: [2], data: new Int32Array([255, 7]) },
      i8: { dtype: 'I8', shape: [2], data: new Int32Array([-1, 5]) },
      i16: { dtype: 'I16', shape: [2], data: new Int32Array([-300, 2]) },
      u16: { dtype: 'U16', shape: [1], data: new Int32Array([65535]) },
    });
  });
});
