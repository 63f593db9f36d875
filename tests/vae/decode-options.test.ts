// vae.decode / plan / decodeMemory check their options as the other entry points do: an unknown key is
// refused with a did-you-mean ({ band: 2 } was ignored), onProgress / runPlan must be functions (a
// string gave a raw TypeError mid-decode), maxBinding a positive integer (-1 gave a misleading
// LimitError); all InputErrors before any GPU work.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { ROOT } from '../helpers/golden.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { loadVae, type DecodeOptions, type Vae } from '../../src/vae/vae.js';
import { InputError } from '../../src/model/model.js';
import { randn } from '../../src/random.js';

const SHAPE = [1, 16, 3, 8, 8];
const latents = { data: randn(SHAPE.reduce((a, b) => a * b, 1), 1), shape: SHAPE };
const OPTIONS = 'maxBinding, bands, onProgress, onBlock, runPlan, signal';

describe.skipIf(!hasGpu)('decode options', () => {
  let vae: Vae;
  beforeAll(async () => {
    vae = await loadVae(nodeFolder(join(ROOT, 'models', 'tessera-shapes', 'vae')), { gpu: gpu! });
  });
  afterAll(() => vae?.dispose());
  const refusal = (o: unknown): Promise<Error> => vae.decode(latents, o as DecodeOptions).then(() => new Error('accepted'), (e: Error) => e);

  it('decode: the options refused, each named, before any GPU work', async () => {
    for (const [o, msg] of [
      [{ band: 2 }, `band: not an option of Vae.decode; did you mean bands? (options: ${OPTIONS})`],
      [{ onprogress: () => {} }, `onprogress: not an option of Vae.decode; did you mean onProgress? (options: ${OPTIONS})`],
      [{ tiles: 2 }, `tiles: not an option of Vae.decode (options: ${OPTIONS})`],
      [{ onProgress: 'x' }, 'onProgress: a function, got "x"'],
      [{ onBlock: 'x' }, 'onBlock: a function, got "x"'],
      [{ runPlan: 1 }, 'runPlan: a function, got 1'],
      [{ maxBinding: -1 }, 'maxBinding: a positive integer (bytes of the largest binding), got -1'],
      [{ maxBinding: 0 }, 'maxBinding: a positive integer (bytes of the largest binding), got 0'],
      [{ maxBinding: 1.5 }, 'maxBinding: a positive integer (bytes of the largest binding), got 1.5'],
      [{ maxBinding: '1MiB' }, 'maxBinding: a positive integer (bytes of the largest binding), got "1MiB"'],
      [{ signal: 'x' }, 'signal: an AbortSignal (from new AbortController().signal), got string'],
      [null, 'Vae.decode: expected an options object such as { signal, onProgress }, got null'],
      [[1], 'Vae.decode: expected an options object such as { signal, onProgress }, got an array'],
    ] as const) {
      const e = await refusal(o);
      expect(e, JSON.stringify(o)).toBeInstanceOf(InputError);
      expect(e.message).toBe(msg);
      // an option check names its option in e.option (the README), not only in the message
      if (!msg.startsWith('Vae.decode')) expect((e as InputError).option, msg).toBe(msg.split(':')[0]);
    }
    expect(vae.lastStats).toBeNull(); // nothing was decoded
  });

  it('plan and decodeMemory: the same checks; decodeMemory takes maxBinding and bands only', async () => {
    expect(() => vae.plan(SHAPE, { band: 2 } as DecodeOptions)).toThrow(new InputError(`band: not an option of Vae.plan; did you mean bands? (options: ${OPTIONS})`, { option: 'band' }));
    expect(() => vae.plan(SHAPE, { maxBinding: -1 })).toThrow(InputError);
    const e = await vae.decodeMemory(SHAPE, { onProgress: () => {} } as DecodeOptions).catch((x: Error) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe('onProgress: not an option of Vae.decodeMemory but of Vae.decode (options: maxBinding, bands)');
    // the valid ones still plan
    expect(vae.plan(SHAPE, { maxBinding: 1 << 20, bands: 2 }).bands).toBe(2);
    expect((await vae.decodeMemory(SHAPE, { bands: 2 })).activations).toBeGreaterThan(0);
  });
});
