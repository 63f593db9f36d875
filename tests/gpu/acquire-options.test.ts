// acquireGpu checks its options as the loaders do (audit 12 D, 9): an unknown option ({ dtype: 'f16' })
// was accepted silently, a requiredLimits typo read as "no GPU" (GpuUnavailableError: unknown limit
// maxFrobs), a NaN limit was asked for, and powerPreference 'fast' was Dawn's multi-line TypeError.
// Now one InputError line naming the option (in its message and its `option` field), as every loader's
// (session 20: it was a TypeError); GpuUnavailableError stays for an adapter that falls short.
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { acquireGpu, GpuUnavailableError, type GpuOptions } from '../../src/gpu/device.js';
import { hasGpu } from '../helpers/gpu.js';
import { InputError } from '../../src/model/input-error.js';

const refusal = async (opts: unknown): Promise<Error> => {
  const e = await acquireGpu(opts as GpuOptions).then((g) => {
    g.destroy();
    return new Error('acquired');
  }, (x: Error) => x);
  return e;
};

describe('acquireGpu options, refused before an adapter is requested', () => {
  const OPTIONS = '(options: gpu, powerPreference, disableFeatures, requiredLimits)';
  for (const [opts, msg] of [
    [{ dtype: 'f16' }, `dtype: not an option of acquireGpu ${OPTIONS}`],
    [{ requiredLimit: {} }, `requiredLimit: not an option of acquireGpu; did you mean requiredLimits? ${OPTIONS}`],
    [{ power_preference: 'low-power' }, `power_preference: not an option of acquireGpu; did you mean powerPreference? ${OPTIONS}`],
    [{ powerPreference: 'fast' }, `powerPreference: 'high-performance' or 'low-power', got "fast"`],
    [{ requiredLimits: { maxComputeWorkgroupSizeX: NaN } }, 'requiredLimits.maxComputeWorkgroupSizeX: a positive integer, got NaN'],
    [{ requiredLimits: { maxBufferSize: -1 } }, 'requiredLimits.maxBufferSize: a positive integer, got -1'],
    [{ requiredLimits: { maxBufferSize: '1GiB' } }, 'requiredLimits.maxBufferSize: a positive integer, got "1GiB"'],
    [{ requiredLimits: { minStorageBufferOffsetAlignment: 300 } }, 'requiredLimits.minStorageBufferOffsetAlignment: a power of two, got 300'],
    [{ requiredLimits: { minUniformBufferOffsetAlignment: 3 } }, 'requiredLimits.minUniformBufferOffsetAlignment: a power of two, got 3'],
    [{ requiredLimits: [1] }, 'requiredLimits: an object of WebGPU limits such as { maxStorageBufferBindingSize: 268435456 }, got [1]'],
    [{ disableFeatures: 'shader-f16' }, `disableFeatures: a list of feature names such as ['shader-f16'], got "shader-f16"`],
    [{ disableFeatures: ['shader_f16'] }, `disableFeatures: "shader_f16" is not a feature tessera uses; did you mean 'shader-f16'? (shader-f16, timestamp-query, subgroups)`],
    [{ gpu: {} }, "gpu: a GPU object with requestAdapter (navigator.gpu, or the webgpu package's create([])), got {}"],
    [null, 'acquireGpu: expected an options object such as { powerPreference: \'low-power\' }, got null'],
  ] as const) {
    it(JSON.stringify(opts), async () => {
      const e = await refusal(opts);
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toBe(msg);
      expect((e as InputError).option).toBe(opts === null ? undefined : msg.split(/[:.]/)[0]);
    });
  }
});

describe.skipIf(!hasGpu)('acquireGpu requiredLimits against the adapter', () => {
  it('a limit name the adapter does not know is the caller\'s InputError (with the closest name), not GpuUnavailableError', async () => {
    const near = await refusal({ requiredLimits: { maxBufferSiz: 1024 } });
    expect(near).toBeInstanceOf(InputError);
    expect(near.message).toBe('requiredLimits.maxBufferSiz: not a limit of this adapter; did you mean maxBufferSize?');
    const far = await refusal({ requiredLimits: { maxFrobs: 4 } });
    expect(far).toBeInstanceOf(InputError);
    expect(far.message).toMatch(/^requiredLimits\.maxFrobs: not a limit of this adapter; its limits: .*\bmaxStorageBufferBindingSize\b/);
  });
  it('more than the adapter has is GpuUnavailableError with both numbers; a min… alignment is met by a larger value', async () => {
    const big = await refusal({ requiredLimits: { maxColorAttachments: 2 ** 30 } });
    expect(big).toBeInstanceOf(GpuUnavailableError);
    expect(big.message).toMatch(/^adapter limit maxColorAttachments is \d+, requested 1073741824$/);
    const tight = await refusal({ requiredLimits: { minStorageBufferOffsetAlignment: 1 } });
    expect(tight).toBeInstanceOf(GpuUnavailableError);
    expect(tight.message).toMatch(/^adapter limit minStorageBufferOffsetAlignment is \d+, requested 1$/);
    const ok = await acquireGpu({ requiredLimits: { minStorageBufferOffsetAlignment: 256, maxColorAttachments: 4 }, powerPreference: 'low-power' });
    ok.destroy();
  });
});
