// CLI inputs/outputs: atomic safetensors outputs read back by readInputs.
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInputs, readInputsHeader } from '../../src/io/inputs.js';
import { writeFileAtomic, writeOutputAtomic } from '../../src/io/node-write.js';
import { SafetensorsError } from '../../src/io/safetensors.js';
import { bytesSource } from '../../src/io/source.js';
import { entry, rawFile } from './helpers.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tessera-inputs-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('inputs and outputs', () => {
  it('writeOutputAtomic then readInputs gives the tensors back', async () => {
    const p = join(tmp, 'out.safetensors');
    const latents = new Float32Array([0.5, -1, 2, 3.25]);
    await writeOutputAtomic(
      p,
      [
        { name: 'latents', shape: [1, 4], data: latents },
        { name: 'latents_bf16', shape: [4], dtype: 'BF16', data: latents },
        { name: 'y', shape: [2], data: new BigInt64Array([207n, 360n]) },
      ],
      { sampler: 'ddim' },
    );
    expect((await readdir(tmp)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const m = await readInputs(p);
    expect(m.get('latents')).toEqual({ dtype: 'F32', shape: [1, 4], f32: latents });
    expect(m.get('latents_bf16')!.f32).toEqual(latents);
    expect(m.get('y')).toEqual({ dtype: 'I64', shape: [2], i64: new BigInt64Array([207n, 360n]) });
  });

  it('I32 inputs widen to i64; unsupported dtypes name the tensor', async () => {
    const i32 = rawFile({ t: entry('I32', [2], 0, 8) }, new Uint8Array(new Int32Array([-3, 4]).buffer));
    expect((await readInputs(bytesSource('in.safetensors', i32))).get('t')!.i64).toEqual(new BigInt64Array([-3n, 4n]));
    const u64 = rawFile({ big: entry('U64', [1], 0, 8) }, 8);
    await expect(readInputs(bytesSource('in.safetensors', u64))).rejects.toThrow(/in\.safetensors: tensor "big"/);
  });

  it("readInputsHeader: each tensor's dtype and shape, no data read; an unsupported dtype refused as by readInputs", async () => {
    const file = rawFile({ latents: entry('F16', [1, 2, 3], 0, 12), t: entry('I32', [2], 12, 20) }, 20);
    let read = 0;
    const src = bytesSource('in.safetensors', file);
    const counting = { ...src, read: (offset: number, length: number) => ((read += length), src.read(offset, length)) };
    const m = await readInputsHeader(counting);
    expect([...m]).toEqual([['latents', { dtype: 'F16', shape: [1, 2, 3] }], ['t', { dtype: 'I32', shape: [2] }]]);
    expect(read).toBe(file.length - 20); // the length and the header; none of the 20 data bytes
    const u64 = rawFile({ big: entry('U64', [1], 0, 8) }, 8);
    await expect(readInputsHeader(bytesSource('in.safetensors', u64))).rejects.toThrow('in.safetensors: tensor "big": dtype U64 is not supported for inputs (floats or signed/small integers)');
  });

  it('a bad output leaves the previous file untouched and no temp file', async () => {
    const p = join(tmp, 'keep.safetensors');
    await writeFile(p, 'old');
    await expect(writeOutputAtomic(p, [{ name: 'x', shape: [3], data: new Float32Array(2) }])).rejects.toThrow(SafetensorsError);
    expect(await readFile(p, 'utf8')).toBe('old');
    // rename onto a directory fails: the temp file is removed
    const d = join(tmp, 'adir');
    await mkdir(d);
    await expect(writeFileAtomic(d, new Uint8Array(4))).rejects.toThrow();
    expect((await readdir(tmp)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('readInputs of a path reports a malformed file by path', async () => {
    const p = join(tmp, 'bad.safetensors');
    await writeFile(p, rawFile('{"a":1}', 3));
    await expect(readInputs(p)).rejects.toThrow(new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: tensor "a"`));
  });
});
