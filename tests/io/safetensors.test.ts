// safetensors reader/writer: exact dtype conversions, layout, and one test per validation rule.
import { describe, expect, it } from 'vitest';
import { f16BitsToF32, roundF16 } from '../../src/gpu/half.js';
import {
  f32ToBf16Bits,
  findDuplicateKey,
  readSafetensorsHeader,
  readTensorF32,
  readTensorInt,
  SafetensorsError,
  writeSafetensors,
} from '../../src/io/safetensors.js';
import { blobSource, bytesSource } from '../../src/io/source.js';
import { entry, expectStError, parse, rawFile } from './helpers.js';

const F = 'model.safetensors';

function bytesOf(arr: ArrayBufferView): Uint8Array {
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).slice();
}
const bitsOf = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('well-formed files', () => {
  it('F32 round-trips bit-exactly, including inf, -0, subnormals and NaN', async () => {
    const vals = new Float32Array([0, -0, 1, -1.5, 3.4028234663852886e38, 1e-45, 1.17549435e-38, Infinity, -Infinity, NaN, Math.PI, 123456.789]);
    const file = writeSafetensors([{ name: 'w', dtype: 'F32', shape: [3, 4], data: vals }]);
    const src = bytesSource(F, file);
    const { tensors, metadata, dataStart } = await readSafetensorsHeader(src);
    expect(metadata).toEqual({});
    expect(dataStart % 8).toBe(0);
    const info = tensors.get('w')!;
    expect(info).toEqual({ name: 'w', dtype: 'F32', shape: [3, 4], begin: dataStart, end: dataStart + 48, file: F });
    expect(bitsOf(await readTensorF32(src, info))).toEqual(bitsOf(vals));
  });

  it('F16 bit patterns convert to the exact f32 values', async () => {
    const bits = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x8000, 0x3555, 0x0000];
    const want = [1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, Infinity, -Infinity, -0, 0.333251953125, 0];
    const file = rawFile({ h: entry('F16', [bits.length], 0, bits.length * 2) }, bytesOf(new Uint16Array(bits)));
    const src = bytesSource(F, file);
    const { tensors } = await readSafetensorsHeader(src);
    const got = await readTensorF32(src, tensors.get('h')!);
    expect(Array.from(got)).toEqual(want);
    expect(Object.is(got[8], -0)).toBe(true);
    // NaN bit patterns stay NaN
    const nan = rawFile({ h: entry('F16', [2], 0, 4) }, bytesOf(new Uint16Array([0x7e00, 0xfd01])));
    const ns = bytesSource(F, nan);
    const g2 = await readTensorF32(ns, (await readSafetensorsHeader(ns)).tensors.get('h')!);
    expect(Number.isNaN(g2[0]) && Number.isNaN(g2[1])).toBe(true);
  });

  it('every one of the 65536 F16 values converts exactly (matches half.ts)', async () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const file = rawFile({ h: entry('F16', [65536], 0, 131072) }, bytesOf(all));
    const src = bytesSource(F, file);
    const got = await readTensorF32(src, (await readSafetensorsHeader(src)).tensors.get('h')!);
    for (let i = 0; i < 65536; i++) {
      const w = f16BitsToF32(i);
      if (Number.isNaN(w)) expect(Number.isNaN(got[i])).toBe(true);
      else if (got[i] !== w || Object.is(got[i], -0) !== Object.is(w, -0)) expect([i, got[i]]).toEqual([i, w]);
    }
  });

  it('BF16 bit patterns convert by shifting', async () => {
    const bits = [0x3f80, 0xc040, 0x7f80, 0xff80, 0x0001, 0x8000, 0x4049, 0x7f7f];
    const want = [1, -3, Infinity, -Infinity, 2 ** -133, -0, 3.140625, 3.3895313892515355e38];
    const file = rawFile({ b: entry('BF16', [2, 4], 0, 16) }, bytesOf(new Uint16Array(bits)));
    const src = bytesSource(F, file);
    const got = await readTensorF32(src, (await readSafetensorsHeader(src)).tensors.get('b')!);
    expect(Array.from(got)).toEqual(want);
  });

  it('writer rounds f32 to F16 and BF16 to nearest even, and the reader gives those values back', async () => {
    const vals = new Float32Array([1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 0.1, -7.25, 70000, 1e-8, 1 + 2 ** -8, 1 + 3 * 2 ** -8, NaN]);
    const file = writeSafetensors([
      { name: 'h', dtype: 'F16', shape: [10], data: vals },
      { name: 'b', dtype: 'BF16', shape: [10], data: vals },
    ]);
    const src = bytesSource(F, file);
    const { tensors } = await readSafetensorsHeader(src);
    const h = await readTensorF32(src, tensors.get('h')!);
    const b = await readTensorF32(src, tensors.get('b')!);
    for (let i = 0; i < 9; i++) expect(h[i]).toBe(roundF16(vals[i]!));
    expect(h[1]).toBe(1); // tie -> even
    expect(h[2]).toBe(1 + 2 ** -9);
    expect(h[5]).toBe(Infinity);
    expect(Array.from(b.slice(0, 9))).toEqual([1, 1, 1, 0.10009765625, -7.25, 70144, 1.0011717677116394e-8 /* 0x322bcc77 rounds up to 0x322c */, 1, 1 + 2 ** -6]);
    expect(Number.isNaN(h[9]) && Number.isNaN(b[9])).toBe(true);
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(f32ToBf16Bits(-(1 + 3 * 2 ** -8))).toBe(0xbf82);
  });

  it('F64 rounds to f32; I64/I32 read as integers; ints refuse f32 unless asked', async () => {
    const f64 = new Float64Array([0.1, -1e300, 2.5]);
    const i64 = new BigInt64Array([-1n, 9007199254740993n, 42n]);
    const i32 = new Int32Array([-2147483648, 7]);
    const file = rawFile(
      { __metadata__: { format: 'pt' }, d: entry('F64', [3], 0, 24), l: entry('I64', [3], 24, 48), k: entry('I32', [2], 48, 56) },
      new Uint8Array([...bytesOf(f64), ...bytesOf(i64), ...bytesOf(i32)]),
    );
    const src = bytesSource(F, file);
    const { tensors, metadata } = await readSafetensorsHeader(src);
    expect(metadata).toEqual({ format: 'pt' });
    expect(Array.from(await readTensorF32(src, tensors.get('d')!))).toEqual([Math.fround(0.1), -Infinity, 2.5]);
    expect(await readTensorInt(src, tensors.get('l')!)).toEqual(i64);
    expect(await readTensorInt(src, tensors.get('k')!)).toEqual(i32);
    await expectStError(readTensorF32(src, tensors.get('l')!), F, 'l', /readTensorInt/);
    expect(Array.from(await readTensorF32(src, tensors.get('k')!, { allowInt: true }))).toEqual([-2147483648, 7]);
    await expectStError(readTensorInt(src, tensors.get('d')!), F, 'd');
  });

  it('small integer dtypes widen; an unaligned data area still reads', async () => {
    // header length 77: not a multiple of 8, so every tensor is unaligned in the file
    const hdr = { a: entry('I16', [2], 0, 4), b: entry('U8', [3], 4, 7), c: entry('I8', [2], 7, 9), d: entry('BOOL', [2], 9, 11), e: entry('F32', [1], 11, 15) };
    const data = new Uint8Array([...bytesOf(new Int16Array([-5, 300])), 0, 128, 255, 0xff, 0x7f, 1, 0, ...bytesOf(new Float32Array([1.5]))]);
    const src = bytesSource(F, rawFile(hdr, data));
    const { tensors } = await readSafetensorsHeader(src);
    expect(await readTensorInt(src, tensors.get('a')!)).toEqual(Int32Array.from([-5, 300]));
    expect(await readTensorInt(src, tensors.get('b')!)).toEqual(Int32Array.from([0, 128, 255]));
    expect(await readTensorInt(src, tensors.get('c')!)).toEqual(Int32Array.from([-1, 127]));
    expect(await readTensorInt(src, tensors.get('d')!)).toEqual(Int32Array.from([1, 0]));
    expect(Array.from(await readTensorF32(src, tensors.get('e')!))).toEqual([1.5]);
  });

  it('chunked reads give the same values as one read, for every float dtype', async () => {
    const vals = new Float32Array(37).map((_, i) => (i - 18) * 0.37);
    const file = writeSafetensors(['F32', 'F16', 'BF16'].map((dtype) => ({ name: dtype, dtype: dtype as 'F32', shape: [37], data: vals })));
    const src = bytesSource(F, file);
    const { tensors } = await readSafetensorsHeader(src);
    for (const info of tensors.values()) {
      const whole = await readTensorF32(src, info);
      for (const chunkBytes of [1, 6, 8, 100]) expect(await readTensorF32(src, info, { chunkBytes })).toEqual(whole);
    }
  });

  it('empty file, zero-size tensors, metadata, odd names', async () => {
    expect((await parse(F, rawFile('{}'))).tensors.size).toBe(0);
    const file = writeSafetensors(
      [
        { name: 'z', dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
        { name: 'blocks.0.attn "q"/ü', dtype: 'F16', shape: [1], data: new Float32Array([2]) },
        { name: '0', dtype: 'I32', shape: [], data: new Int32Array([9]) },
        { name: 'z2', dtype: 'I64', shape: [3, 0], data: new BigInt64Array(0) },
      ],
      { a: 'b', __proto__: 'x' } as Record<string, string>,
    );
    const src = bytesSource(F, file);
    const { tensors, metadata } = await readSafetensorsHeader(src);
    expect([...tensors.keys()].sort()).toEqual(['0', 'blocks.0.attn "q"/ü', 'z', 'z2']);
    expect(metadata['a']).toBe('b');
    expect(Array.from(await readTensorF32(src, tensors.get('blocks.0.attn "q"/ü')!))).toEqual([2]);
    expect(await readTensorInt(src, tensors.get('0')!)).toEqual(Int32Array.from([9]));
    expect(tensors.get('0')!.shape).toEqual([]);
    expect((await readTensorF32(src, tensors.get('z')!)).length).toBe(0);
  });

  it('a Blob source reads the same as a bytes source', async () => {
    const vals = new Float32Array([1, 2, 3, 4]);
    const file = writeSafetensors([{ name: 'w', dtype: 'BF16', shape: [4], data: vals }]);
    const src = blobSource('blob.safetensors', new Blob([file]));
    const { tensors } = await readSafetensorsHeader(src);
    expect(tensors.get('w')!.file).toBe('blob.safetensors');
    expect(Array.from(await readTensorF32(src, tensors.get('w')!))).toEqual([1, 2, 3, 4]);
  });

  it('writer rejects bad input, naming the tensor', () => {
    const bad = (t: Parameters<typeof writeSafetensors>[0], name: string) => {
      expect(() => writeSafetensors(t)).toThrow(SafetensorsError);
      expect(() => writeSafetensors(t)).toThrow(name);
    };
    bad([{ name: 'a', dtype: 'F32', shape: [3], data: new Float32Array(2) }], 'a');
    bad([{ name: 'b', dtype: 'I64', shape: [1], data: new Float32Array(1) }], 'b');
    bad([{ name: 'c', dtype: 'F32', shape: [-1], data: new Float32Array(0) }], 'c');
    bad([{ name: 'd', dtype: 'F32', shape: [1], data: new Float32Array(1) }, { name: 'd', dtype: 'F32', shape: [1], data: new Float32Array(1) }], 'd');
    bad([{ name: '__metadata__', dtype: 'F32', shape: [1], data: new Float32Array(1) }], '__metadata__');
  });

  it('readTensorF32 re-checks a hand-made TensorInfo against the source', async () => {
    const src = bytesSource(F, writeSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: new Float32Array(2) }]));
    const info = (await readSafetensorsHeader(src)).tensors.get('w')!;
    await expectStError(readTensorF32(src, { ...info, shape: [3] }), F, 'w');
    await expectStError(readTensorF32(src, { ...info, begin: info.begin + 8, end: info.end + 8 }), F, 'w');
  });
});

describe('malformed files: each rule, naming the file and tensor', () => {
  const ok = { a: entry('F32', [2], 0, 8), b: entry('F16', [3], 8, 14) };
  const okData = 14;

  it('the baseline is valid', async () => {
    expect((await parse(F, rawFile(ok, okData))).tensors.size).toBe(2);
  });
  it('file shorter than the 8-byte length', async () => {
    await expectStError(parse(F, new Uint8Array(5)), F, undefined, /too short/);
  });
  it('header length below 2', async () => {
    await expectStError(parse(F, rawFile('{}', 0, { headerLen: 1n })), F, undefined, /too small/);
    await expectStError(parse(F, rawFile('', 0)), F, undefined, /too small/);
  });
  it('header length past the end of the file', async () => {
    await expectStError(parse(F, rawFile(ok, okData, { headerLen: 1000n })), F, undefined, /past the end/);
  });
  it('absurd header length hits the cap before any allocation', async () => {
    await expectStError(parse(F, rawFile(ok, okData, { headerLen: 2n ** 64n - 1n })), F, undefined, /exceeds the limit/);
    await expectStError(parse(F, rawFile(ok, okData, { headerLen: 2n ** 40n })), F, undefined, /exceeds the limit/);
    // the cap is configurable: this valid file's header is above 16 bytes
    await expectStError(parse(F, rawFile(ok, okData), { maxHeaderBytes: 16 }), F, undefined, /exceeds the limit of 16/);
  });
  it('header not UTF-8', async () => {
    const f = rawFile('{"a":1}');
    f[10] = 0xff;
    await expectStError(parse(F, f), F, undefined, /UTF-8/);
  });
  it('header not JSON', async () => {
    await expectStError(parse(F, rawFile('{"a": {', 0)), F, undefined, /not valid JSON/);
  });
  it('header JSON not an object', async () => {
    await expectStError(parse(F, rawFile('[1,2]')), F, undefined, /must be an object/);
    await expectStError(parse(F, rawFile('null')), F, undefined, /must be an object/);
    await expectStError(parse(F, rawFile('42')), F, undefined, /must be an object/);
  });
  it('__metadata__ not an object of strings: a header error, not a tensor error', async () => {
    const e = await expectStError(parse(F, rawFile({ ...ok, __metadata__: ['x'] }, okData)), F, undefined, /header field __metadata__ must be an object of strings \(or null\)/);
    expect(e.message).not.toMatch(/tensor "/);
    await expectStError(parse(F, rawFile({ ...ok, __metadata__: { n: 1 } }, okData)), F, undefined, /__metadata__: the value of "n" must be a string/);
  });
  it('"__metadata__": null is no metadata, as safetensors reads it', async () => {
    const h = await parse(F, rawFile({ ...ok, __metadata__: null }, okData));
    expect(h.metadata).toEqual({});
    expect([...h.tensors.keys()].sort()).toEqual(Object.keys(ok).sort());
  });
  it('sub-byte dtypes are named as unsupported, misspelt dtypes with the spellings', async () => {
    await expectStError(parse(F, rawFile({ a: entry('F4', [2], 0, 1) }, 1)), F, 'a', /dtype F4 \(packed sub-byte floats\) is not supported/);
    await expectStError(parse(F, rawFile({ a: entry('float32', [2], 0, 8) }, 8)), F, 'a', /unknown dtype "float32" \(safetensors dtypes are spelled BOOL, U8/);
  });
  it('entry not an object', async () => {
    await expectStError(parse(F, rawFile({ ...ok, c: [1] }, okData)), F, 'c', /must be an object/);
  });
  it('unknown or missing dtype (prototype names too)', async () => {
    await expectStError(parse(F, rawFile({ a: entry('F8', [2], 0, 2) }, 2)), F, 'a', /unknown dtype "F8"/);
    await expectStError(parse(F, rawFile({ a: entry('constructor', [2], 0, 2) }, 2)), F, 'a', /unknown dtype/);
    const e = await expectStError(parse(F, rawFile({ a: { shape: [2], data_offsets: [0, 2] } }, 2)), F, 'a');
    expect(e.detail).toBe('entry has no dtype (its keys: "shape", "data_offsets"; a tensor entry has dtype, shape and data_offsets)');
  });
  it('a damaged __metadata__ key is named as such, not as a tensor with no dtype', async () => {
    // one flipped byte in a real header: "__metadata__" became "__metadata{_"
    const e = await expectStError(parse(F, rawFile({ '__metadata{_': { format: 'pt' }, ...ok }, okData)), F, '__metadata{_');
    expect(e.detail).toBe('entry has no dtype (its keys: "format"; a tensor entry has dtype, shape and data_offsets) (is this a damaged "__metadata__" key? the header is corrupt)');
    // a tensor that merely starts with "__" gets no such hint
    const t = await expectStError(parse(F, rawFile({ __x: { shape: [2], data_offsets: [0, 2] } }, 2)), F, '__x');
    expect(t.detail).not.toContain('__metadata__');
  });
  it('a text file (a config.json given as weights) is called not a safetensors file', async () => {
    const json = new TextEncoder().encode('{\n  "_class_name": "AutoencoderKLWan",\n  "base_dim": 96\n}\n');
    const e = await expectStError(parse('vae/config.json', json), 'vae/config.json');
    expect(e.detail).toBe('not a safetensors file: it begins with text ("{\\n  \\"_cl"), where a safetensors file begins with its JSON header\'s length as an 8-byte little-endian integer');
    // binary garbage with a huge length keeps the length message
    await expectStError(parse(F, rawFile(ok, okData, { headerLen: 2n ** 64n - 1n })), F, undefined, /^.*header length 18446744073709551615 exceeds the limit/);
  });
  it('shape not an array', async () => {
    await expectStError(parse(F, rawFile({ a: entry('U8', 2, 0, 2) }, 2)), F, 'a', /shape must be an array/);
  });
  it('negative dimension', async () => {
    await expectStError(parse(F, rawFile({ a: entry('U8', [-2], 0, 2) }, 2)), F, 'a', /dimension -2/);
  });
  it('fractional, string or unsafe dimension', async () => {
    await expectStError(parse(F, rawFile({ a: entry('U8', [1.5], 0, 2) }, 2)), F, 'a', /dimension 1.5/);
    await expectStError(parse(F, rawFile({ a: entry('U8', ['2'], 0, 2) }, 2)), F, 'a', /dimension "2"/);
    await expectStError(parse(F, rawFile('{"a":{"dtype":"U8","shape":[9007199254740993],"data_offsets":[0,2]}}', 2)), F, 'a', /dimension/);
  });
  it('data_offsets missing or not a pair', async () => {
    await expectStError(parse(F, rawFile({ a: { dtype: 'U8', shape: [2] } }, 2)), F, 'a', /data_offsets must be/);
    await expectStError(parse(F, rawFile({ a: { dtype: 'U8', shape: [2], data_offsets: [0, 1, 2] } }, 2)), F, 'a', /data_offsets must be/);
  });
  it('negative or non-integer offset', async () => {
    await expectStError(parse(F, rawFile({ a: entry('U8', [2], -1, 1) }, 2)), F, 'a', /-1 is not a non-negative integer/);
    await expectStError(parse(F, rawFile({ a: entry('U8', [2], 0, 2.5) }, 2)), F, 'a', /2.5/);
  });
  it('reversed offsets', async () => {
    await expectStError(parse(F, rawFile({ a: entry('U8', [0], 2, 0) }, 2)), F, 'a', /reversed/);
  });
  it('offsets past the data area', async () => {
    await expectStError(parse(F, rawFile({ a: entry('U8', [2], 0, 2), b: entry('U8', [4], 2, 6) }, 4)), F, 'b', /past the data area/);
  });
  it('shape × dtype size differs from the range', async () => {
    await expectStError(parse(F, rawFile({ a: entry('F32', [3], 0, 8) }, 8)), F, 'a', /= 12 bytes, but data_offsets \[0, 8\] span 8/);
    await expectStError(parse(F, rawFile({ a: entry('F32', [2 ** 40, 2 ** 40], 0, 8) }, 8)), F, 'a', /more than 8/);
  });
  it('overlapping tensors', async () => {
    await expectStError(parse(F, rawFile({ a: entry('U8', [4], 0, 4), b: entry('U8', [4], 2, 6) }, 6)), F, 'b', /overlap tensor "a"/);
    await expectStError(parse(F, rawFile({ a: entry('U8', [4], 0, 4), b: entry('U8', [4], 0, 4) }, 4)), F, 'b', /overlap/);
  });
  it('hole between tensors', async () => {
    await expectStError(parse(F, rawFile({ a: entry('U8', [2], 0, 2), b: entry('U8', [2], 3, 5) }, 5)), F, 'b', /: data_offsets \[3, 5\] leave a hole of 1 byte at data offset 2 after tensor "a"$/);
    await expectStError(parse(F, rawFile({ a: entry('U8', [2], 1, 3) }, 3)), F, 'a', /hole/);
  });
  it('trailing bytes after the last tensor (data area must end at the file end)', async () => {
    await expectStError(parse(F, rawFile(ok, okData + 3)), F, 'b', /3 trailing bytes/);
    await expectStError(parse(F, rawFile('{}', 1)), F, undefined, /: 1 trailing byte after the last tensor: data area is 1 byte but tensors cover 0$/);
  });
  it('truncated file', async () => {
    const f = rawFile(ok, okData);
    await expectStError(parse(F, f.slice(0, f.length - 1)), F, 'b', /past the data area/);
    // in words a user understands: short by how much, against the size the header describes (the largest end)
    await expectStError(parse(F, f.slice(0, f.length - 3)), F, 'b', new RegExp(`: truncated: the file is ${f.length - 3} bytes, its header needs ${f.length} bytes \\(3 bytes missing; an interrupted download or copy\\? fetch the file again\\)$`));
  });
  it('duplicated top-level key (JSON.parse would keep the last)', async () => {
    const h = '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}';
    await expectStError(parse(F, rawFile(h, 2)), F, 'a', /duplicated/);
    // the same key spelled with an escape
    const h2 = '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"\\u0061":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}';
    await expectStError(parse(F, rawFile(h2, 2)), F, 'a', /duplicated/);
  });
  it('duplicated key inside an entry or in __metadata__', async () => {
    const h = '{"a":{"dtype":"F32","dtype":"U8","shape":[2],"data_offsets":[0,2]}}';
    await expectStError(parse(F, rawFile(h, 2)), F, 'a', /"dtype" is duplicated in the entry of "a"/);
    const m = '{"__metadata__":{"k":"1","k":"2"}}';
    await expectStError(parse(F, rawFile(m)), F, '__metadata__', /"k" is duplicated/);
  });
  it('duplicate scanner handles strings with braces, commas and escapes', () => {
    expect(findDuplicateKey('{"a":"}{,\\"a\\":","b":[{"a":1},{"a":2}],"c":{"a":{"a":[]}}}')).toBeNull();
    expect(findDuplicateKey('{"x":[1,{"k":1,"k":2}]}')).toEqual({ key: 'k', tensor: 'x' });
  });
  it('a failing source read becomes a SafetensorsError', async () => {
    const src = { name: F, size: 100, read: async () => Promise.reject(new Error('disk on fire')) };
    await expectStError(readSafetensorsHeader(src), F, undefined, /disk on fire/);
    const short = { name: F, size: 100, read: async () => new Uint8Array(3) };
    await expectStError(readSafetensorsHeader(short), F, undefined, /short read/);
  });
});
