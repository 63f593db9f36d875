// An inputs file with a tensor stored F64 (numpy's default float) is taken, read as f32, and said so in one line:
// 'note: FILE: F64 hidden_states read as f32'; it was taken silently (user21 finding 20). tessera forward on
// the dit_small fixture, its hidden_states rewritten as F64 (the other tensors as they are).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readInputs } from '../../src/io/inputs.js';
import { tesseraCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/golden.js';
import { hasGpu } from '../helpers/gpu.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-f64-inputs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A safetensors file of `tensors` (raw little-endian bytes each), written by hand: writeSafetensors writes no F64. */
function rawSafetensors(tensors: { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[]): Uint8Array {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.bytes.length] };
    at += t.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let o = 8 + json.length;
  for (const t of tensors) {
    out.set(t.bytes, o);
    o += t.bytes.length;
  }
  return out;
}

it.skipIf(!hasGpu)('forward: F64 hidden_states read as f32, with one note naming the file and the tensor', async () => {
  const inputs = await readInputs(join(FIXTURES, 'dit_small', 'inputs.safetensors'));
  const tensors = [...inputs].map(([name, t]) => {
    if (name === 'hidden_states') return { name, dtype: 'F64', shape: t.shape, bytes: new Uint8Array(Float64Array.from(t.f32!).buffer) };
    const data = t.f32 ?? t.i64!;
    return { name, dtype: t.f32 ? 'F32' : 'I64', shape: t.shape, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  });
  const file = join(tmp, 'fwd64.safetensors');
  writeFileSync(file, rawSafetensors(tensors));
  const r = await tesseraCli(['forward', '--model', join(FIXTURES, 'dit_small', 'model'), '--inputs', file, '--out', join(tmp, 'out.safetensors'), '--no-tune'], { timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr.split('\n').filter((l) => l.startsWith('note:'))).toEqual([`note: ${file}: F64 hidden_states read as f32`]);
}, 180_000);
