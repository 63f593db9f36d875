// Adapter policy in one place (src/gpu/policy.ts): ops read what acquireGpu captured on `Gpu`
// (subgroup sizes, CPU adapter), never the adapter through casts. No GPU needed: the ops'
// variant choice is a pure function of those fields.
import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.js';
import { attentionVariant } from '../../src/ops/attention.js';

const fake = (o: Partial<Gpu>): Gpu => ({ subgroups: true, subgroupMinSize: 8, subgroupMaxSize: 32, isCpu: true, limits: { maxComputeWorkgroupStorageSize: 32768 }, ...o }) as unknown as Gpu;

describe('adapter policy as captured on Gpu', () => {
  it('attention uses its subgroup kernel only when Gpu says every subgroup has ≥ 8 lanes', () => {
    const v = (g: Gpu) => attentionVariant(g, { lq: 1024, dtype: 'f32' }).variant;
    expect(v(fake({})).flags.SG).toBe(true);
    expect(v(fake({})).overrides.RPT).toBe(4);
    for (const g of [fake({ subgroupMinSize: 4 }), fake({ subgroupMinSize: 0 }), fake({ subgroups: false })]) {
      expect(v(g).flags.SG).toBe(false);
      expect(v(g).overrides.RPT).toBe(2); // the plain kernel's best rows per invocation
    }
  });
});
