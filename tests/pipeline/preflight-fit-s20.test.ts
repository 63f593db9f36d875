// loadPipeline's preflight gets `fit`, what the Pipeline's own fit refusals may suggest (f16 only for f32
// weights on an adapter with shader-f16 and no fixedDtype): the demo's preflight passes it on to
// checkRunFits, so that fixedDtype alone says "no other dtype" for both refusals.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { loadPipeline } from '../../src/pipeline/pipeline.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const DIR = join(ROOT, 'models', 'tessera-shapes');
class Stop extends Error {}

/** The `fit` loadPipeline hands its preflight (the load stops there: no weight is read). */
async function fitOf(opts: { fixedDtype?: boolean; dtype?: 'f32' | 'f16' }): Promise<unknown> {
  let seen: unknown = 'preflight not called';
  const e = await loadPipeline(DIR, {
    gpu: gpu!,
    ...opts,
    preflight: (...args: unknown[]) => {
      seen = args[4];
      throw new Stop();
    },
  }).catch((x) => x);
  expect(e).toBeInstanceOf(Stop);
  return seen;
}

describe.skipIf(!hasGpu)('loadPipeline preflight fit', () => {
  it(`f32 weights: f16 offered as the adapter stores it (${gpu?.f16}); fixedDtype: never`, async () => {
    expect(await fitOf({})).toEqual({ f16: gpu!.f16 });
    expect(await fitOf({ fixedDtype: true })).toEqual({ f16: false });
  });
  it.skipIf(!gpu?.f16)('f16 weights: no f16 to offer', async () => {
    expect(await fitOf({ dtype: 'f16' })).toEqual({ f16: false });
  });
});
