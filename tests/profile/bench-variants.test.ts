// `tessera bench … --variants` entries (no GPU): strategies, tile knobs, and ENTRY@REV — the same
// entry compiled from git revision REV's kernel sources (src/cli/bench-ref.ts), which replaced the
// scripts/*-ab.ts A/B scripts (gemm, attention, fused, conv).
import { describe, expect, it } from 'vitest';
import { kernelDifferences, parseVariants, withinNoise } from '../../src/cli/cmd-bench.js';
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
  it("bench gemm: the tuner's candidates by the names the tuning cache and tessera info use; 'all' lists them", () => {
    expect(parseVariants('gemm', 'subgroup-sr16-k;subgroup-sr32;subgroup-sr32-k@HEAD', null)).toEqual([
      { name: 'subgroup-sr16-k', strategy: 'subgroup-sr16-k' },
      { name: 'subgroup-sr32', strategy: 'subgroup-sr32' },
      { name: 'subgroup-sr32-k@HEAD', strategy: 'subgroup-sr32-k', ref: 'HEAD' },
    ]);
    expect(parseVariants('gemm', 'all', null).map((v) => v.name)).toEqual(['subgroup-sr16', 'subgroup-sr8', 'tiled-128', 'tiled-64', 'gemv', 'subgroup-sr32', 'subgroup-sr16-k', 'subgroup-sr32-k', 'subgroup-sr32-swg32', 'subgroup-sr32-swg32-k']);
    expect(() => parseVariants('gemm', 'subgroup-sr64', null)).toThrow(/"subgroup-sr64" is not an entry of bench gemm \(did you mean subgroup-sr16\?\); it takes default, a GEMM strategy \(subgroup-sr16, subgroup-sr8, tiled-128, tiled-64, gemv, subgroup-sr32, subgroup-sr16-k, subgroup-sr32-k, subgroup-sr32-swg32, subgroup-sr32-swg32-k\)/);
  });
  it('bench gemm at --k K: all lists the compiled-in-K candidates only where K has their variant; a named one elsewhere is refused, saying what it would run as', () => {
    const all = (k?: number) => parseVariants('gemm', 'all', null, k).map((v) => v.name);
    expect(all(12)).toEqual(['subgroup-sr16', 'subgroup-sr8', 'tiled-128', 'tiled-64', 'gemv', 'subgroup-sr32', 'subgroup-sr32-swg32']);
    for (const k of [384, 1152, 1536, 4608]) expect(all(k), `K=${k}`).toEqual([...all(12).slice(0, 6), 'subgroup-sr16-k', 'subgroup-sr32-k', 'subgroup-sr32-swg32', 'subgroup-sr32-swg32-k']);
    expect(all(385)).toEqual(all(12));
    expect(parseVariants('gemm', 'subgroup-sr16-k;subgroup-sr16', null, 1152).map((v) => v.name)).toEqual(['subgroup-sr16-k', 'subgroup-sr16']);
    expect(() => parseVariants('gemm', 'subgroup-sr16;subgroup-sr32-k', null, 12)).toThrow(
      new UsageError('--variants: subgroup-sr32-k compiles K in, but --k 12 has no compiled-in-K variant (K 384, 1152, 1536, 4608): it would run as subgroup-sr32; name that instead'),
    );
    expect(() => parseVariants('gemm', 'default;subgroup-sr16-k@HEAD', null, 100)).toThrow(/^--variants: subgroup-sr16-k compiles K in, but --k 100 has no compiled-in-K variant .*: it would run as subgroup-sr16; name that instead$/);
  });
  it("bench conv: its kernel's declared PX/WG values only, checked before any GPU work", () => {
    expect(parseVariants('conv', 'PX=4;PX=8@HEAD', null)).toEqual([
      { name: 'PX=4', tile: { PX: 4 } },
      { name: 'PX=8@HEAD', tile: { PX: 8 }, ref: 'HEAD' },
    ]);
    expect(() => parseVariants('conv', 'SG=0', null)).toThrow(new UsageError('--variants "SG=0": bench conv has no tile knob SG (knobs: WG=64, PX=4|8)'));
    expect(() => parseVariants('conv', 'PX=4;PX=5', null)).toThrow(new UsageError('--variants "PX=5": bench conv knob PX=5 is not a declared value (PX=4|8)'));
    expect(() => parseVariants('conv', 'all', null)).toThrow(/for bench conv list tile knob sets, e.g. --variants 'PX=4;PX=8'/);
    expect(() => parseVariants('conv', 'tiled-64', null)).toThrow(/tiled-64 is a GEMM strategy; bench conv takes tile knobs/);
  });
  it('bench block: default and default@REV only (each tuned afresh), anything else refused before GPU work', () => {
    expect(parseVariants('block', 'default@HEAD~1; default', null)).toEqual([{ name: 'default@HEAD~1', ref: 'HEAD~1' }, { name: 'default' }]);
    for (const bad of ['all', 'SR=32', 'tiled-64@HEAD', 'default@', '@HEAD']) {
      expect(() => parseVariants('block', bad, null), bad).toThrow(new UsageError(`--variants: "${bad}": bench block takes default and default@REV entries (this checkout's kernels, or git revision REV's), e.g. 'default@HEAD;default'; strategies and tile knobs belong to bench gemm and attention`));
    }
    expect(() => parseVariants('block', ' ; ', null)).toThrow(/--variants needs at least one entry \(bench block: default or default@REV/);
  });
});

describe('bench attention --variants: every tuner candidate, as tessera info lists them', () => {
  it('rows-dh (the rows kernel with the head dim compiled in) is an entry, and all includes it where the head dim has its variant', () => {
    expect(parseVariants('attention', 'rows;rows-dh', null, 64)).toEqual([
      { name: 'rows', strategy: 'rows' },
      { name: 'rows-dh', strategy: 'rows-dh' },
    ]);
    expect(parseVariants('attention', 'rows-dh@HEAD', null, 72)).toEqual([{ name: 'rows-dh@HEAD', strategy: 'rows-dh', ref: 'HEAD' }]);
    expect(parseVariants('attention', 'all', null, 64).map((v) => v.name)).toEqual(['rows', 'fa2', 'fa2-wg', 'rows-dh']);
    expect(parseVariants('attention', 'all', null, 128).map((v) => v.name)).toContain('rows-dh');
    expect(parseVariants('attention', 'all', null, 8).map((v) => v.name)).toEqual(['rows', 'fa2', 'fa2-wg']);
    expect(() => parseVariants('attention', 'rows;rows-dh', null, 8)).toThrow(
      new UsageError('--variants: rows-dh compiles the head dim in, but --head-dim 8 has no compiled-in variant (head dims 64, 72, 128): it would run as rows; name that instead'),
    );
    expect(() => parseVariants('gemm', 'rows-dh', null, 64)).toThrow(/rows-dh is an attention strategy; bench gemm takes a GEMM strategy/);
    expect(() => parseVariants('attention', 'rows-xx', null, 64)).toThrow(/an attention strategy \(rows, fa2, fa2-wg, rows-dh\)/);
  });
});

describe('--variants A/B verdicts', () => {
  it('a speed-up whose min–max ranges overlap the first variant’s is within the run-to-run spread', () => {
    const base = { min_ms: 10, max_ms: 12 };
    expect(withinNoise(base, { min_ms: 11.5, max_ms: 14 }, 3)).toBe(true);
    expect(withinNoise(base, { min_ms: 4, max_ms: 10 }, 3)).toBe(true); // touching ranges
    expect(withinNoise(base, { min_ms: 12.5, max_ms: 13 }, 3)).toBe(false);
    expect(withinNoise(base, { min_ms: 5, max_ms: 9 }, 3)).toBe(false);
    expect(withinNoise(base, { min_ms: 11, max_ms: 11 }, 1)).toBeNull(); // one round: no spread measured
  });

  it('kernel choices that differ between entries asking for the same kernels (only @REV apart) are named by layer', () => {
    const layers = ['attn1.to_qkv', 'attn1', 'ff.net.0'];
    const diffs = kernelDifferences([
      { variant: 'default@HEAD', kernels: ['gemm_subgroup[BIAS,VEC4]', 'attention[SG]', 'gemm_tiled[BIAS]'], layers },
      { variant: 'default', kernels: ['gemm_tiled[BIAS,VEC4]', 'attention[SG]', 'gemm_tiled[BIAS]'], layers },
    ]);
    expect(diffs).toEqual([{ dispatch: 0, layer: 'attn1.to_qkv', kernels: { 'default@HEAD': 'gemm_subgroup[BIAS,VEC4]', default: 'gemm_tiled[BIAS,VEC4]' } }]);
    // different strategies run different kernels by request: no difference to report
    expect(kernelDifferences([
      { variant: 'tiled-64', strategy: 'tiled-64', kernels: ['gemm_tiled[BIAS]'], layers: ['gemm'] },
      { variant: 'gemv', strategy: 'gemv', kernels: ['gemv[BIAS]'], layers: ['gemm'] },
    ])).toEqual([]);
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
