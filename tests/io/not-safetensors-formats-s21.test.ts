// A file of another format given as safetensors (finding 4, session 21) is named by what it is,
// not by the "header length" its first 8 bytes spell; a truncated real safetensors keeps its message.
import { describe, expect, it } from 'vitest';
import { expectStError, parse, rawFile } from './helpers.js';

const withTail = (head: number[], total = 4096) => {
  const b = new Uint8Array(total);
  b.set(head);
  return b;
};
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

describe('a non-safetensors file is named by its first bytes', () => {
  it('GIF', async () => {
    const e = await expectStError(parse('c3.gif', withTail([...ascii('GIF89a'), 32, 0, 32, 0])), 'c3.gif');
    expect(e.detail).toBe('not a safetensors file (starts with "GIF89a": a GIF image)');
    expect(e.message).not.toContain('header length');
  });
  it('PyTorch zip (.bin/.pt from torch.save) and old pickle', async () => {
    const zip = await expectStError(parse('model.bin', withTail([0x50, 0x4b, 3, 4, 0, 0, 8, 0])), 'model.bin');
    expect(zip.detail).toMatch(/^not a safetensors file \(starts with "PK\\x03\\x04": a zip archive; a PyTorch \.bin\/\.pt from torch\.save is one/);
    const pkl = await expectStError(parse('model.pt', withTail([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46])), 'model.pt');
    expect(pkl.detail).toMatch(/^not a safetensors file \(starts with "\\x80\\x02": a Python pickle; an old PyTorch/);
  });
  it('PNG and MP4', async () => {
    const png = await expectStError(parse('a.png', withTail([0x89, ...ascii('PNG'), 0x0d, 0x0a, 0x1a, 0x0a])), 'a.png');
    expect(png.detail).toBe('not a safetensors file (starts with "\\x89PNG\\x0d\\x0a\\x1a\\x0a": a PNG image)');
    const mp4 = await expectStError(parse('a.mp4', withTail([0, 0, 0, 0x20, ...ascii('ftyp')])), 'a.mp4');
    expect(mp4.detail).toBe('not a safetensors file (starts with "\\x00\\x00\\x00 ftyp": an MP4/MOV video)');
  });
  it('a truncated real safetensors keeps the length message', async () => {
    const full = rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 16);
    await expectStError(parse('t.safetensors', full.subarray(0, 20)), 't.safetensors', undefined, /header length \d+ runs past the end of the file/);
  });
});
