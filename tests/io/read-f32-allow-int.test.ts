// readTensorF32(…, { allowInt: true }) over every integer dtype: signed ones read signed (I16
// −5 stays −5, not 65531), unsigned ones unsigned, each value the nearest f32 of the stored
// integer, whole or in chunks of 2 bytes (so every chunk but the first starts at i0 > 0).
// readTensorF32 is public (src/api.ts); allowInt was only tested with I32 before.
import { describe, expect, it } from 'vitest';
import { readSafetensorsHeader, readTensorF32 } from '../../src/io/safetensors.js';
import { bytesSource } from '../../src/io/source.js';
import { entry, rawFile } from './helpers.js';

const bytesOf = (arr: ArrayBufferView) => new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).slice();

const CASES: [string, ArrayBufferView, number[]][] = [
  ['I16', new Int16Array([-5, 300, -32768, 32767, -1]), [-5, 300, -32768, 32767, -1]],
  ['U16', new Uint16Array([65531, 300, 0, 65535]), [65531, 300, 0, 65535]],
  ['I8', new Int8Array([-5, 100, -128, 127, -1]), [-5, 100, -128, 127, -1]],
  ['U8', new Uint8Array([251, 100, 0, 255]), [251, 100, 0, 255]],
  ['BOOL', new Uint8Array([1, 0, 1]), [1, 0, 1]],
  ['I32', new Int32Array([-5, -2147483648, 2147483647]), [-5, -2147483648, 2147483648]],
  ['U32', new Uint32Array([4294967291, 3000000000, 7]), [4294967296, 3000000000, 7]],
  ['I64', new BigInt64Array([-5n, -9007199254740993n, 42n]), [-5, Math.fround(-9007199254740992), 42]],
  ['U64', new BigUint64Array([18446744073709551611n, 5n]), [Math.fround(18446744073709551616), 5]],
];

describe('readTensorF32 with allowInt', () => {
  const hdr: Record<string, unknown> = {};
  const parts: Uint8Array[] = [];
  let off = 0;
  for (const [dt, data] of CASES) {
    hdr[dt] = entry(dt, [(data as unknown as { length: number }).length], off, off + data.byteLength);
    parts.push(bytesOf(data));
    off += data.byteLength;
  }
  const data = new Uint8Array(off);
  parts.reduce((o, p) => (data.set(p, o), o + p.length), 0);
  const src = bytesSource('ints.safetensors', rawFile(hdr, data));

  for (const [dt, , want] of CASES) {
    it(`${dt}: ${want.join(', ')}`, async () => {
      const info = (await readSafetensorsHeader(src)).tensors.get(dt)!;
      expect(Array.from(await readTensorF32(src, info, { allowInt: true }))).toEqual(want);
      expect(Array.from(await readTensorF32(src, info, { allowInt: true, chunkBytes: 2 }))).toEqual(want);
    });
  }
});
