// readTensorF32 refuses an integer tensor with "use readTensorInt, or allowInt": readTensorInt is
// exported from both entries of `tessera` (it was not: the message named a function users could not
// import, audit 12 D, 10), and reads diffusers' int64 class_labels exactly.
import { describe, expect, it } from 'vitest';
import * as browser from '../../src/index.browser.js';
import * as node from '../../src/index.js';
import { entry, rawFile } from './helpers.js';

describe('readTensorInt is public', () => {
  it('from the Node and browser entries, and the refusal that names it', async () => {
    for (const api of [node, browser]) {
      const labels = new BigInt64Array([207n, 360n]);
      const file = rawFile({ class_labels: entry('I64', [2], 0, 16) }, new Uint8Array(labels.buffer));
      const src = api.bytesSource('inputs.safetensors', file);
      const info = (await api.readSafetensorsHeader(src)).tensors.get('class_labels')!;
      expect(await api.readTensorInt(src, info)).toEqual(labels);
      const e = await api.readTensorF32(src, info).catch((x: Error) => x);
      expect(e).toBeInstanceOf(api.SafetensorsError);
      expect((e as Error).message).toMatch(/: is I64, not a float tensor \(use readTensorInt, or allowInt\)$/);
    }
  });
});
