// The workgroup sum (red, lane/lanes, wg_sum) is defined once, in kernels/common/wg_sum.wgsl:
// norm.wgsl carried a verbatim copy that a fix to one would not reach. Every shipped kernel that
// calls wg_sum takes it from the prelude, and the SG kernels set lane/lanes through wg_sum_init.
import { describe, expect, it } from 'vitest';
import { kernelSources } from '../../src/kernels.gen.js';
import { kernelRegistry } from '../../src/gpu/kernel.js';
import '../../src/ops/norm.js';
import '../../src/ops/rope.js';
import '../../src/ops/vae-norm.js';

describe('common/wg_sum is the one workgroup sum', () => {
  it('no other shipped source defines wg_sum, lane or lanes, nor red beside a wg_sum call', () => {
    const defs = /^\s*(fn wg_sum\b|var<private> lanes?\b)/m;
    const own = Object.keys(kernelSources).filter((n) => n !== 'common/wg_sum' && defs.test(kernelSources[n]!));
    expect(own).toEqual([]);
    expect(kernelSources['common/wg_sum']).toMatch(defs);
    // other kernels keep workgroup arrays named red of their own shapes (gemm_gemv, attention_fa2)
    const red = Object.keys(kernelSources).filter((n) => n !== 'common/wg_sum' && /\bwg_sum\(/.test(kernelSources[n]!) && /var<workgroup> red\b/.test(kernelSources[n]!));
    expect(red).toEqual([]);
  });

  it('norm, norm_rope and vae_norm (GroupNorm statistics) take it as a prelude and call wg_sum_init, never set lanes themselves', () => {
    const users = [...kernelRegistry.values()].filter((s) => /\bwg_sum\(/.test(kernelSources[s.name] ?? '')).map((s) => s.name).sort();
    expect(users).toEqual(['norm', 'norm_rope', 'vae_norm']);
    for (const name of users) {
      expect(kernelRegistry.get(name)!.prelude, name).toContain('common/wg_sum');
      expect(kernelSources[name], name).toMatch(/wg_sum_init\(sl\);/);
      expect(kernelSources[name], name).not.toMatch(/lanes = subgroupAdd/);
    }
  });
});
