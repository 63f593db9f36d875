// One "did you mean" rule (src/closest-name.ts) for the library's options and acquireGpu's: device.ts had
// its own copy of the edit-distance fallback (it cannot import options.ts, which imports InputError), so a
// word of an option name ({ limits }) found requiredLimits in loadModel's style nowhere in acquireGpu's.
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { closestName } from '../../src/closest-name.js';
import { acquireGpu, type GpuOptions } from '../../src/gpu/device.js';
import { closestOption } from '../../src/model/options.js';

const OPTIONS = '(options: gpu, powerPreference, disableFeatures, requiredLimits)';
const refusal = (opts: unknown) => acquireGpu(opts as GpuOptions).then((g) => (g.destroy(), new Error('acquired')), (e: Error) => e);

describe('closestName', () => {
  it('case style, aliases, a word of the name, a near spelling; nothing when far', () => {
    expect(closestName('power_preference', ['gpu', 'powerPreference'])).toBe('powerPreference');
    expect(closestName('generator', ['seed', 'steps'], { generator: 'seed' })).toBe('seed');
    expect(closestName('generator', ['seed', 'steps'])).toBeUndefined();
    expect(closestName('constructor', ['seed'], {})).toBeUndefined();
    expect(closestName('steps', ['num_inference_steps', 'guidance_scale'])).toBe('num_inference_steps');
    expect(closestName('shader_f16', ['shader-f16', 'subgroups'])).toBe('shader-f16');
    expect(closestName('maxBufferSiz', ['maxBufferSize', 'maxBindGroups'])).toBe('maxBufferSize');
    expect(closestName('maxFrobs', ['maxBufferSize', 'maxBindGroups'])).toBeUndefined();
    expect(closestOption('generator', ['seed', 'latents'])).toBe('seed');
  });

  it('acquireGpu uses the same rule: a word of an option name finds it', async () => {
    const e = await refusal({ limits: {} });
    expect(e.name).toBe('InputError');
    expect(e.message).toBe(`limits: not an option of acquireGpu; did you mean requiredLimits? ${OPTIONS}`);
    expect((await refusal({ preference: 'low-power' })).message).toBe(`preference: not an option of acquireGpu; did you mean powerPreference? ${OPTIONS}`);
  });
});
