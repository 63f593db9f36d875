// `tessera bench … --variants` entries (no GPU): strategies, tile knobs, and ENTRY@REV — the same
// entry compiled from git revision REV's kernel sources (src/cli/bench-ref.ts), which replaced the
// scripts/*-ab.ts A/B scripts.
import { describe, expect, it } from 'vitest';
import { parseVariants } from '../../src/cli/cmd-bench.js';
import { kernelsAt } from '../../src/cli/bench-ref.js';
import { UsageError } from '../../src/cli/args.js';
import { kernelSources } from '../../src/kernels.gen.js';

describe('parseVariants', () => {
  it('ENTRY@REV keeps the entry and adds the revision; a bare @REV is the default', () => {
    expect(parseVariants('gemm', 'default@HEAD;tiled-128@HEAD~1;TM=4,TN=2', null)).toEqual([
      { name: 'default@HEAD', ref: 'HEAD' },
      { name: 'tiled-128@HEAD~1', strategy: 'tiled-128', ref: 'HEAD~1' },
      { name: 'TM=4,TN=2', tile: { TM: 4, TN: 2 } },
    ]);
    expect(parseVariants('layernorm', '@abc123;default', null)).toEqual([{ name: '@abc123', ref: 'abc123' }, { name: 'default' }]);
    expect(() => parseVariants('gemm', 'default@', null)).toThrow(new UsageError('--variants: "default@" names no revision after @ (e.g. default@HEAD)'));
    expect(() => parseVariants('attention', 'tiled-128@HEAD', null)).toThrow(UsageError);
  });
});

describe('kernelsAt', () => {
  it("HEAD's kernels: only the ones this checkout changed differ (each is a real source)", () => {
    const differ = kernelsAt('HEAD');
    for (const [name, src] of differ) {
      expect(kernelSources[name]).toBeDefined();
      expect(src).not.toBe(kernelSources[name]);
      expect(src.length).toBeGreaterThan(0);
    }
  });
  it('an unknown revision or a name that is not one is a UsageError naming it', () => {
    expect(() => kernelsAt('no-such-revision-e14')).toThrow(/^--variants …@no-such-revision-e14: cannot read kernels\/\S+\.wgsl at no-such-revision-e14 \(git show: /);
    expect(() => kernelsAt('a b')).toThrow(new UsageError('--variants: "@a b" is not a git revision name'));
  });
});
