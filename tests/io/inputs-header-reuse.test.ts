// readInputs given readInputsHeader's answer reads the data by that header, without parsing the file's header again.
import { describe, expect, it } from 'vitest';
import { readInputs, readInputsHeader } from '../../src/io/inputs.js';
import { bytesSource, type ByteSource } from '../../src/io/source.js';
import { entry, rawFile } from './helpers.js';

/** `src` with the offsets of its reads recorded. */
function counting(src: ByteSource): ByteSource & { reads: number[] } {
  const reads: number[] = [];
  return { ...src, reads, read: (offset: number, length: number) => (reads.push(offset), src.read(offset, length)) };
}

const data = new Uint8Array([...new Uint8Array(new Float32Array([1.5, -2]).buffer), ...new Uint8Array(new Int32Array([7, -8]).buffer)]);
const file = rawFile({ latents: entry('F32', [1, 2], 0, 8), t: entry('I32', [2], 8, 16) }, data);
const dataStart = file.length - data.length;

describe('readInputs with the header already read', () => {
  it('reads only the tensor data, and the same tensors as without it', async () => {
    const header = await readInputsHeader(bytesSource('in.safetensors', file));
    const src = counting(bytesSource('in.safetensors', file));
    const m = await readInputs(src, header);
    expect(src.reads.every((o) => o >= dataStart)).toBe(true);
    expect(src.reads.length).toBeGreaterThan(0);
    expect(m).toEqual(await readInputs(bytesSource('in.safetensors', file)));
    expect(m.get('latents')).toEqual({ dtype: 'F32', shape: [1, 2], f32: new Float32Array([1.5, -2]) });
    expect(m.get('t')).toEqual({ dtype: 'I32', shape: [2], i64: new BigInt64Array([7n, -8n]) });
  });

  it('a file whose name or size is not what the header was read from has its own header read', async () => {
    const header = await readInputsHeader(bytesSource('in.safetensors', file));
    const other = rawFile({ x: entry('F32', [1], 0, 4) }, new Uint8Array(new Float32Array([3]).buffer));
    const src = counting(bytesSource('in.safetensors', other));
    expect([...(await readInputs(src, header)).keys()]).toEqual(['x']);
    expect(src.reads[0]).toBe(0);
    const renamed = counting(bytesSource('other.safetensors', file));
    await readInputs(renamed, header);
    expect(renamed.reads[0]).toBe(0);
    // a map readInputsHeader did not give is no header either
    const plain = counting(bytesSource('in.safetensors', file));
    await readInputs(plain, new Map(header));
    expect(plain.reads[0]).toBe(0);
  });
});
