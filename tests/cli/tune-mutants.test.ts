// tessera tune skips a GEMM shape only when a tensor is above the binding limit (cmd-tune.ts gemmBeyondLimits):
// one exactly at the limit fits a binding, and the shape is tuned.
import { describe, expect, it } from 'vitest';
import { gemmBeyondLimits } from '../../src/cli/cmd-tune.js';

const MiB = 2 ** 20;
const adapter = (binding: number, buffer = 2 ** 32) => ({ limits: { maxStorageBufferBindingSize: binding, maxBufferSize: buffer } }) as Parameters<typeof gemmBeyondLimits>[0];

describe('gemmBeyondLimits at the limit', () => {
  it('a tensor of exactly the limit is not beyond it; one element more is', () => {
    // x [1024, 4096] in f32 is 16 MiB
    expect(gemmBeyondLimits(adapter(16 * MiB), 1024, 4096, 16, 'f32')).toBeNull();
    expect(gemmBeyondLimits(adapter(32 * MiB, 16 * MiB), 1024, 4096, 16, 'f32')).toBeNull();
    expect(gemmBeyondLimits(adapter(16 * MiB), 1025, 4096, 16, 'f32')).toBe("its x [1025, 4096] (16.0 MiB in f32) is above this adapter's maxStorageBufferBindingSize of 16.0 MiB");
  });
});
