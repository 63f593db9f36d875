// Building raw safetensors files (valid or not) and checking the errors they give.
import { expect } from 'vitest';
import { readSafetensorsHeader, SafetensorsError } from '../../src/io/safetensors.js';
import { bytesSource } from '../../src/io/source.js';

/** 8-byte LE length (the real one unless `headerLen` is given) + header text + data bytes. */
export function rawFile(header: string | object, data: Uint8Array | number = 0, opts?: { headerLen?: bigint }): Uint8Array {
  const h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, opts?.headerLen ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

export const parse = (file: string, bytes: Uint8Array, opts?: { maxHeaderBytes?: number }) => readSafetensorsHeader(bytesSource(file, bytes), opts);

/** The promise rejects with a SafetensorsError naming `file` (and `tensor`, when given). */
export async function expectStError(p: Promise<unknown>, file: string, tensor?: string, detail?: RegExp): Promise<SafetensorsError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a SafetensorsError').toBeInstanceOf(SafetensorsError);
  const e = err as SafetensorsError;
  expect(e.file).toBe(file);
  expect(e.message).toContain(file);
  if (tensor !== undefined) {
    expect(e.tensor).toBe(tensor);
    expect(e.message).toContain(tensor);
  }
  if (detail) expect(e.message).toMatch(detail);
  return e;
}

/** A header entry. */
export const entry = (dtype: string, shape: unknown, begin: unknown, end: unknown) => ({ dtype, shape, data_offsets: [begin, end] });
