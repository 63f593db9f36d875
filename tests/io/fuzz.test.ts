// Deterministic fuzzing of the safetensors reader: valid files with targeted and random
// mutations. Each case must either parse into a result that an independent checker accepts
// (and whose tensors all read), or throw SafetensorsError naming the file; mutations that are
// invalid by construction must throw, untouched files must parse.
// TESSERA_FUZZ_CASES=200000 (and TESSERA_FUZZ_SEED) for a longer run.
import { describe, expect, it } from 'vitest';
import { roundF16 } from '../../src/gpu/half.js';
import { rng } from '../../src/random.js';
import {
  DTYPE_BYTES,
  f32ToBf16Bits,
  readSafetensorsHeader,
  readTensorF32,
  readTensorInt,
  SafetensorsError,
  writeSafetensors,
  type SafetensorsHeader,
  type StDType,
  type WriteDType,
} from '../../src/io/safetensors.js';
import { bytesSource } from '../../src/io/source.js';

const CASES = Number(process.env['TESSERA_FUZZ_CASES'] ?? 10_000);
const SEED = Number(process.env['TESSERA_FUZZ_SEED'] ?? 20240611);
const CAP = 1 << 16; // header cap for the fuzz files (all valid headers are far smaller)

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1)); // inclusive
const pick = <T>(r: Rand, a: readonly T[]): T => a[Math.floor(r() * a.length)]!;

const DTYPES = Object.keys(DTYPE_BYTES) as StDType[];
const NAMES = ['a', 'w', 'blocks.0.attn.qkv.weight', 'proj_out.bias', '0', '17', '__proto__', 'constructor', 'ü名', 'with "quote"', 'back\\slash', '', 'x'.repeat(40), 'tab\there', '{', '}'];

/** A file as an editable description: header entries in key order (duplicates allowed), data bytes. */
interface Spec {
  entries: [string, unknown][];
  data: Uint8Array;
  pad: number;
  headerLen?: bigint;
}
interface Ent {
  dtype: unknown;
  shape: unknown;
  data_offsets: unknown;
  [k: string]: unknown;
}

function headerText(s: Spec): string {
  return `{${s.entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}` + ' '.repeat(s.pad);
}
function encode(s: Spec, text = headerText(s)): Uint8Array {
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + s.data.length);
  new DataView(out.buffer).setBigUint64(0, s.headerLen ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(s.data, 8 + h.length);
  return out;
}
const clone = (s: Spec): Spec => ({ ...s, entries: s.entries.map(([k, v]) => [k, structuredClone(v)]), data: s.data.slice() });
const tensorEntries = (s: Spec) => s.entries.filter(([k]) => k !== '__metadata__') as [string, Ent][];
const nbytesOf = (e: Ent) => (e.shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_BYTES[e.dtype as StDType];

function genValid(r: Rand): Spec {
  const n = int(r, 0, 5);
  const names = new Set<string>();
  while (names.size < n) names.add(r() < 0.7 ? pick(r, NAMES) : `t${int(r, 0, 99)}`);
  const ents: [string, Ent][] = [...names].map((name) => {
    const rank = int(r, 0, 3);
    const shape = Array.from({ length: rank }, () => (r() < 0.08 ? 0 : int(r, 1, 4)));
    return [name, { dtype: pick(r, DTYPES), shape, data_offsets: [0, 0] }];
  });
  // file layout order independent of key order
  const order = ents.map((_, i) => i).sort(() => r() - 0.5);
  let off = 0;
  for (const i of order) {
    const e = ents[i]![1];
    const nb = nbytesOf(e);
    e.data_offsets = [off, off + nb];
    off += nb;
  }
  const data = new Uint8Array(off).map(() => int(r, 0, 255));
  const entries: [string, unknown][] = ents;
  if (r() < 0.3) entries.splice(int(r, 0, entries.length), 0, ['__metadata__', { format: 'pt', note: pick(r, ['', 'ü', '{"x":1}']) }]);
  return { entries, data, pad: int(r, 0, 7) };
}

type Expect = 'ok' | 'fail' | 'any';
interface Case {
  kind: string;
  bytes: Uint8Array;
  expect: Expect;
}

/** One mutation of a valid spec. */
function mutate(r: Rand, base: Spec): Case {
  const s = clone(base);
  const ts = tensorEntries(s);
  const t = ts.length ? pick(r, ts) : undefined;
  const tb = t ? (t[1].data_offsets as number[]) : [0, 0];
  const k = int(r, 0, 19);
  switch (k) {
    case 0:
      return { kind: 'valid', bytes: encode(s), expect: 'ok' };
    case 1: {
      // harmless: extra fields, whitespace, key order
      if (t) t[1]['extra'] = pick(r, [1, 'x', null, [1], { a: 1 }]);
      s.entries.reverse();
      const text = headerText(s).replace(/,/g, () => (r() < 0.3 ? ' ,\n ' : ','));
      return { kind: 'harmless', bytes: encode(s, text), expect: 'ok' };
    }
    case 2: {
      const b = encode(s);
      return { kind: 'truncate', bytes: b.slice(0, int(r, 0, b.length - 1)), expect: 'fail' };
    }
    case 3: {
      const real = BigInt(new TextEncoder().encode(headerText(s)).length);
      const choices = [0n, 1n, real + 1n + BigInt(int(r, 0, 100)), 2n ** 64n - 1n, 2n ** 63n, 2n ** 40n, BigInt(CAP + 1), BigInt(int(r, 2, Number(real) + 200))];
      const len = pick(r, choices);
      s.headerLen = len;
      return { kind: 'header-length', bytes: encode(s), expect: len === real ? 'ok' : 'fail' };
    }
    case 4: {
      // broken JSON: cut the closing brace or break the structure
      let text = headerText(s).trimEnd();
      text = pick(r, [text.slice(0, -1), text + '}', '{' + text, text.replace(':', ''), text.replace('{', '['), text + ',', 'nul', '"str"', '[]', '']);
      return { kind: 'bad-json', bytes: encode(s, text), expect: text === '{}' ? 'ok' : 'fail' }; // '{}' without ':' stays valid
    }
    case 5: {
      // random single-character edit in the header
      const text = headerText(s);
      const p = int(r, 0, text.length);
      const c = pick(r, ['{', '}', '[', ']', ',', ':', '"', '\\', 'x', '0', '-', ' ', '\u00e9', '\ud800']);
      const edited = r() < 0.5 ? text.slice(0, p) + c + text.slice(p) : text.slice(0, p) + text.slice(p + 1);
      return { kind: 'json-edit', bytes: encode(s, edited), expect: 'any' };
    }
    case 6:
      if (!t) break;
      t[1].dtype = pick(r, ['F8', 'f32', 'FLOAT', '', 'F16 ', 'constructor', '__proto__', 'toString', 'F4', 42, null, ['F32']]);
      return { kind: 'unknown-dtype', bytes: encode(s), expect: 'fail' };
    case 7:
      if (!t) break;
      t[1].data_offsets = pick(r, [[-1 - int(r, 0, 9), tb[1]], [tb[0], -1], [tb[0], tb[1]! + 0.5], [tb[0], 1e300], [String(tb[0]), tb[1]], [tb[0]], [], null, [tb[0], tb[1], 0]]);
      return { kind: 'bad-offsets', bytes: encode(s), expect: 'fail' };
    case 8:
      if (!t) break;
      if (tb[0] === tb[1]) t[1].data_offsets = [tb[0]! + 1, tb[0]];
      else t[1].data_offsets = [tb[1], tb[0]];
      return { kind: 'reversed', bytes: encode(s), expect: 'fail' };
    case 9: {
      // shift a range by ±d keeping its size: overlaps or leaves a hole (zero-size: may stay valid)
      if (!t) break;
      const d = pick(r, [-3, -2, -1, 1, 2, 3]);
      if (tb[0]! + d < 0) break;
      t[1].data_offsets = [tb[0]! + d, tb[1]! + d];
      return { kind: 'shift', bytes: encode(s), expect: tb[0] === tb[1] ? 'any' : 'fail' };
    }
    case 10:
      if (!t) break;
      t[1].data_offsets = [tb[0], s.data.length + int(r, 1, 1000)];
      return { kind: 'out-of-range', bytes: encode(s), expect: 'fail' };
    case 11: {
      // hole: insert bytes at a boundary and move everything after it
      const at = pick(r, [0, ...ts.map(([, e]) => (e.data_offsets as number[])[1]!)]);
      const h = int(r, 1, 9);
      const data = new Uint8Array(s.data.length + h);
      data.set(s.data.subarray(0, at));
      data.set(s.data.subarray(at), at + h);
      s.data = data;
      // ranges tile the data, so each one lies wholly before or after `at`; a zero-size one at
      // `at` may legally stay before the hole or move after it
      for (const [, e] of ts) {
        const [b, en] = e.data_offsets as number[];
        if (b! > at || (b === at && (en! > at || r() < 0.5))) e.data_offsets = [b! + h, en! + h];
      }
      return { kind: 'hole', bytes: encode(s), expect: 'fail' };
    }
    case 12: {
      if (!t) break;
      const before = nbytesOf(t[1]);
      const sh = [...(t[1].shape as number[])];
      const op = int(r, 0, 2);
      if (op === 0 && sh.length) sh[int(r, 0, sh.length - 1)]! += int(r, 1, 3);
      else if (op === 1) sh.push(int(r, 0, 3));
      else sh.pop();
      t[1].shape = sh;
      return { kind: 'shape-size', bytes: encode(s), expect: nbytesOf(t[1]) === before ? 'ok' : 'fail' };
    }
    case 13: {
      if (!t) break;
      const sh = [...(t[1].shape as unknown[]), 1];
      sh[int(r, 0, sh.length - 1)] = pick(r, [-1, -int(r, 2, 9), 1.5, '2', null, 2 ** 53, 1e300, [1]]);
      t[1].shape = pick(r, [sh, 4, 'x', null, { 0: 1 }]);
      return { kind: 'bad-shape', bytes: encode(s), expect: 'fail' };
    }
    case 14: {
      // duplicated top-level key, or duplicated field inside an entry
      if (!s.entries.length) break;
      if (r() < 0.5) {
        const [key, v] = pick(r, s.entries);
        s.entries.splice(int(r, 0, s.entries.length), 0, [key, structuredClone(v)]);
        return { kind: 'dup-key', bytes: encode(s), expect: 'fail' };
      }
      if (!t) break;
      const field = pick(r, ['dtype', 'shape', 'data_offsets']);
      const text = headerText(s).replace(`${JSON.stringify(t[0])}:{`, `${JSON.stringify(t[0])}:{${JSON.stringify(field)}:${JSON.stringify(t[1][field])},`);
      return { kind: 'dup-field', bytes: encode(s, text), expect: 'fail' };
    }
    case 15: {
      // change, insert or delete digits inside the header
      let text = headerText(s);
      const digits = [...text.matchAll(/\d/g)].map((m) => m.index!);
      for (let i = int(r, 1, 3); i > 0 && digits.length; i--) {
        const p = pick(r, digits);
        const op = int(r, 0, 3);
        const d = String(int(r, 0, 9));
        text = op === 0 ? text.slice(0, p) + d + text.slice(p + 1) : op === 1 ? text.slice(0, p) + d + text.slice(p) : op === 2 ? text.slice(0, p) + '-' + text.slice(p) : text.slice(0, p) + text.slice(p + 1);
      }
      return { kind: 'digits', bytes: encode(s, text), expect: 'any' };
    }
    case 16: {
      const b = encode(s);
      const headerEnd = Math.min(b.length, 8 + Number(new DataView(b.buffer).getBigUint64(0, true)));
      const inHeader = r() < 0.7 && headerEnd > 8;
      for (let i = int(r, 1, 4); i > 0; i--) {
        const p = inHeader ? int(r, 8, headerEnd - 1) : int(r, 0, b.length - 1);
        b[p]! ^= 1 << int(r, 0, 7);
      }
      return { kind: 'byte-flip', bytes: b, expect: 'any' };
    }
    case 17: {
      s.data = new Uint8Array([...s.data, ...new Uint8Array(int(r, 1, 16))]);
      return { kind: 'trailing', bytes: encode(s), expect: 'fail' };
    }
    case 18: {
      const meta = pick(r, [[1], 'x', 3, { a: 1 }, { a: null }, { a: ['b'] }, { a: { b: 'c' } }]); // (null is valid: no metadata)
      const i = s.entries.findIndex(([key]) => key === '__metadata__');
      if (i >= 0) s.entries[i] = ['__metadata__', meta];
      else s.entries.push(['__metadata__', meta]);
      return { kind: 'bad-metadata', bytes: encode(s), expect: 'fail' };
    }
    case 19: {
      // two or three mutations stacked (on the bytes of the first)
      let c = mutate(r, s);
      for (let i = int(r, 1, 2); i > 0; i--) {
        const b = c.bytes.slice();
        const p = int(r, 0, Math.max(0, b.length - 1));
        if (b.length) b[p] = int(r, 0, 255);
        c = { kind: 'stacked', bytes: r() < 0.3 ? b.slice(0, int(r, 0, b.length)) : b, expect: 'any' };
      }
      return c;
    }
  }
  return { kind: 'valid', bytes: encode(s), expect: 'ok' };
}

/** Independent check of a successful parse against the raw bytes. */
function checkConsistent(file: string, bytes: Uint8Array, h: SafetensorsHeader): void {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  expect(n).toBeGreaterThanOrEqual(2);
  expect(n).toBeLessThanOrEqual(Math.min(CAP, bytes.length - 8));
  expect(h.dataStart).toBe(8 + n);
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, Ent>;
  const keys = Object.keys(json).filter((k) => k !== '__metadata__');
  expect([...h.tensors.keys()].sort()).toEqual(keys.sort());
  for (const v of Object.values(h.metadata)) expect(typeof v).toBe('string');
  const ranges: [number, number][] = [];
  for (const [name, t] of h.tensors) {
    const e = json[name]!;
    expect(t.name).toBe(name);
    expect(t.file).toBe(file);
    expect(t.dtype).toBe(e.dtype);
    expect(Object.hasOwn(DTYPE_BYTES, t.dtype)).toBe(true);
    expect(t.shape).toEqual((e.shape as number[]).map((d) => d + 0)); // "-0" in JSON reads as 0
    for (const d of t.shape) expect(Number.isSafeInteger(d) && d >= 0).toBe(true);
    const [b, en] = e.data_offsets as number[];
    expect([t.begin, t.end]).toEqual([h.dataStart + b! + 0, h.dataStart + en! + 0]);
    expect(t.end - t.begin).toBe(t.shape.reduce((a, c) => a * c, 1) * DTYPE_BYTES[t.dtype]);
    ranges.push([t.begin, t.end]);
  }
  ranges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let cur = h.dataStart;
  for (const [b, en] of ranges) {
    expect(b).toBe(cur);
    cur = en;
  }
  expect(cur).toBe(bytes.length);
}

const READABLE_F32: ReadonlySet<StDType> = new Set(['F32', 'F16', 'BF16', 'F64', 'BOOL', 'U8', 'I8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64']);

describe('safetensors fuzz', () => {
  it(`${CASES} mutated files: parse consistently or throw SafetensorsError naming the file`, async () => {
    const r = rng(SEED);
    const stats = new Map<string, { ok: number; err: number }>();
    const t0 = performance.now();
    let base = genValid(r);
    for (let i = 0; i < CASES; i++) {
      if (i % 8 === 0) base = genValid(r);
      const c = mutate(r, base);
      const file = `fuzz-${i}.safetensors`;
      const src = bytesSource(file, c.bytes);
      const st = stats.get(c.kind) ?? { ok: 0, err: 0 };
      stats.set(c.kind, st);
      let h: SafetensorsHeader | undefined;
      try {
        h = await readSafetensorsHeader(src, { maxHeaderBytes: CAP });
      } catch (e) {
        if (!(e instanceof SafetensorsError) || !e.message.includes(file) || e.file !== file) {
          throw new Error(`case ${i} (${c.kind}, seed ${SEED}): expected SafetensorsError naming ${file}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
        }
        if (c.expect === 'ok') throw new Error(`case ${i} (${c.kind}, seed ${SEED}): a valid file was rejected: ${e.message}`);
        st.err++;
        continue;
      }
      if (c.expect === 'fail') throw new Error(`case ${i} (${c.kind}, seed ${SEED}): an invalid file was accepted`);
      st.ok++;
      try {
        checkConsistent(file, c.bytes, h);
        for (const info of h.tensors.values()) {
          if (READABLE_F32.has(info.dtype)) expect((await readTensorF32(src, info, { allowInt: true })).length).toBe(info.shape.reduce((a, b) => a * b, 1));
          if (info.dtype === 'I64' || info.dtype === 'I32') await readTensorInt(src, info);
        }
      } catch (e) {
        throw new Error(`case ${i} (${c.kind}, seed ${SEED}): parsed but inconsistent: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    }
    const ms = performance.now() - t0;
    const summary = [...stats].sort((a, b) => a[0].localeCompare(b[0])).map(([k, v]) => `${k} ${v.ok}/${v.err}`).join(', ');
    console.log(`fuzz: ${CASES} cases in ${(ms / 1000).toFixed(1)} s (seed ${SEED}; kind accepted/rejected): ${summary}`);
    // the random mutations must exercise both outcomes
    for (const kind of ['json-edit', 'digits', 'byte-flip']) {
      if (CASES >= 5000) expect(stats.get(kind)!.ok > 0 && stats.get(kind)!.err > 0, kind).toBe(true);
    }
  }, Math.max(120_000, CASES * 10));

  it('readTensorF32 of a written file returns exactly the written values (rounded per dtype)', async () => {
    const r = rng(SEED ^ 0x5eed);
    const bf16 = (v: number) => {
      const u = new Uint32Array([f32ToBf16Bits(v) << 16]);
      return new Float32Array(u.buffer)[0]!;
    };
    for (let f = 0; f < 200; f++) {
      const n = int(r, 1, 4);
      const ts = Array.from({ length: n }, (_, i) => {
        const shape = Array.from({ length: int(r, 0, 3) }, () => int(r, 0, 5));
        const numel = shape.reduce((a, b) => a * b, 1);
        const dtype = pick(r, ['F32', 'F16', 'BF16', 'I64', 'I32'] as WriteDType[]);
        const data =
          dtype === 'I64'
            ? BigInt64Array.from({ length: numel }, () => BigInt(int(r, -1e9, 1e9)) * BigInt(int(r, -1e6, 1e6)))
            : dtype === 'I32'
              ? Int32Array.from({ length: numel }, () => int(r, -(2 ** 31), 2 ** 31 - 1))
              : Float32Array.from({ length: numel }, () => (r() - 0.5) * 10 ** int(r, -8, 6));
        return { name: `t${i}`, dtype, shape, data };
      });
      const file = `roundtrip-${f}.safetensors`;
      const src = bytesSource(file, writeSafetensors(ts));
      const { tensors } = await readSafetensorsHeader(src);
      for (const t of ts) {
        const info = tensors.get(t.name)!;
        expect(info.shape).toEqual(t.shape);
        if (t.dtype === 'I64' || t.dtype === 'I32') {
          expect(await readTensorInt(src, info)).toEqual(t.data);
        } else {
          const want = Float32Array.from(t.data as Float32Array, (v) => (t.dtype === 'F16' ? roundF16(v) : t.dtype === 'BF16' ? bf16(v) : v));
          expect(await readTensorF32(src, info)).toEqual(want);
        }
      }
    }
  });
});
