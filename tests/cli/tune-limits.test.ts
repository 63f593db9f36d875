// tessera tune's GEMM shape list holds large models' shapes; on an adapter whose bindings are
// smaller (lavapipe: 128 MiB) a shape is skipped with the numbers instead of failing the whole run
// after minutes of tuning (a fresh user's `tessera tune`, session 14: 4096×1536×8960's y is 140 MiB).
import { describe, expect, it } from 'vitest';
import { gemmBeyondLimits, TUNE_GEMM_SHAPES } from '../../src/cli/cmd-tune.js';

const MiB = 2 ** 20;
const adapter = (binding: number, buffer = 2 ** 32) => ({ limits: { maxStorageBufferBindingSize: binding, maxBufferSize: buffer } }) as Parameters<typeof gemmBeyondLimits>[0];

describe('gemmBeyondLimits', () => {
  it('names the first tensor above the smaller of the two limits, with both sizes', () => {
    expect(gemmBeyondLimits(adapter(128 * MiB), 4096, 1536, 8960, 'f32')).toBe("its y [4096, 8960] (140.0 MiB in f32) is above this adapter's maxStorageBufferBindingSize of 128.0 MiB");
    expect(gemmBeyondLimits(adapter(128 * MiB), 4096, 1536, 8960, 'f16')).toBeNull();
    expect(gemmBeyondLimits(adapter(16 * MiB), 1024, 4608, 1152, 'f32')).toBe("its x [1024, 4608] (18.0 MiB in f32) is above this adapter's maxStorageBufferBindingSize of 16.0 MiB");
    expect(gemmBeyondLimits(adapter(16 * MiB), 2, 1536, 9216, 'f32')).toBe("its w [9216, 1536] (54.0 MiB in f32) is above this adapter's maxStorageBufferBindingSize of 16.0 MiB");
    expect(gemmBeyondLimits(adapter(2 ** 32, 100 * MiB), 4096, 1536, 8960, 'f32')).toBe("its y [4096, 8960] (140.0 MiB in f32) is above this adapter's maxBufferSize of 100.0 MiB");
  });

  it('on 128 MiB bindings (lavapipe) exactly the f32 shapes with a tensor over 128 MiB are skipped', () => {
    const skipped = TUNE_GEMM_SHAPES.filter(([m, k, n]) => gemmBeyondLimits(adapter(128 * MiB), m, k, n, 'f32') !== null);
    const over = TUNE_GEMM_SHAPES.filter(([m, k, n]) => Math.max(m * k, n * k, m * n) * 4 > 128 * MiB);
    expect(skipped).toEqual(over);
    expect(skipped.length).toBeGreaterThan(0);
    expect(skipped.length).toBeLessThan(TUNE_GEMM_SHAPES.length);
  });
});
