// The WGSL toolchain: strict preprocessing, variant keys, and `tessera info`.
import { describe, expect, it } from 'vitest';
import { preprocess, ShaderError } from '../../src/gpu/shader.js';
import { defineKernel, resolveVariant, variantKey, declaredVariants, type KernelSpec } from '../../src/gpu/kernel.js';
import { hasGpu } from '../helpers/gpu.js';
import { tesseraCli } from '../helpers/cli.js';

describe('preprocess (wgsl-preprocessor, strictly)', () => {
  const src = 'a\n#if F16\nhalf\n#elif !WIDE\nnarrow\n#else\nwide\n#endif\nz\n';
  it('selects branches by declared flags, including negation and elif', () => {
    const out = (flags: Record<string, boolean>) => preprocess('k.wgsl', src, flags).replace(/\s+/g, ' ').trim();
    expect(out({ F16: true, WIDE: false })).toBe('a half z');
    expect(out({ F16: false, WIDE: false })).toBe('a narrow z');
    expect(out({ F16: false, WIDE: true })).toBe('a wide z');
  });
  it('an undeclared flag is an error naming the file, line and the declared flags', () => {
    expect(() => preprocess('k.wgsl', src, { F16: true })).toThrow(ShaderError);
    expect(() => preprocess('k.wgsl', src, { F16: true })).toThrow(/k\.wgsl:4: #elif WIDE is not a declared flag \(declared: F16\)/);
  });
  it('unknown directives are errors instead of reaching the WGSL compiler', () => {
    expect(() => preprocess('k.wgsl', 'x\n#ifdef F16\ny\n', { F16: true })).toThrow(/unexpected directive #ifdef/);
    expect(() => preprocess('k.wgsl', '#include "common.wgsl"\n', {})).toThrow(/unexpected directive #include/);
    expect(() => preprocess('k.wgsl', 'x\n#ifdef F16\ny\n#endif\n', { F16: true })).toThrow(ShaderError);
    expect(() => preprocess('k.wgsl', 'x // see #endfi\n', {})).toThrow(/unexpected directive #endfi/);
    expect(() => preprocess('k.wgsl', 'x\n#ifdef F16\ny\n', { F16: true })).toThrow(new ShaderError('k.wgsl:2: unexpected directive #ifdef (only #if/#elif/#else/#endif with declared flags are allowed)'));
    // in a branch not taken too: it is a typo wherever it is
    expect(() => preprocess('k.wgsl', '#if F16\n#inclde "x"\n#endif\n', { F16: false })).toThrow(new ShaderError('k.wgsl:2: unexpected directive #inclde (only #if/#elif/#else/#endif with declared flags are allowed)'));
  });

  it('#if / #elif take one flag name (NAME or !NAME, then at most a // comment): anything else is refused at its file and line', () => {
    const single = 'takes a single flag name, NAME or !NAME (no operators or parentheses; only a // comment may follow); nest #if lines to combine flags';
    for (const [src, line, msg] of [
      ['#if F16 && X\nfoo\n#endif', 1, `'#if F16 && X': #if ${single}`],
      ['#if(F16)\nfoo\n#endif', 1, `'#if(F16)': #if ${single}`],
      ['#if (F16)\nfoo\n#endif', 1, `'#if (F16)': #if ${single}`],
      ['#if ! F16\nfoo\n#endif', 1, `'#if ! F16': #if ${single}`],
      ['#if F16 X\nfoo\n#endif', 1, `'#if F16 X': #if ${single}`],
      ['a\n#if\nfoo\n#endif', 2, `#if without a flag name: #if ${single}`],
      ['#if !F16\nfoo\n#elif X || F16\nbar\n#endif', 3, `'#elif X || F16': #elif ${single}`],
    ] as const) {
      expect(() => preprocess('k.wgsl', src, { F16: true, X: true }), src).toThrow(new ShaderError(`k.wgsl:${line}: ${msg}`));
    }
    // a comment may follow the flag; it stays in the branch (WGSL comment)
    expect(preprocess('k.wgsl', '#if F16 // half\nfoo\n#endif\n', { F16: true }).replace(/\s+/g, ' ').trim()).toBe('// half foo');
    expect(preprocess('k.wgsl', '#if !F16   // full\nfoo\n#endif\n', { F16: true }).trim()).toBe('');
  });

  it('unbalanced directives: file, line and what is wrong ("preceded" spelt right)', () => {
    for (const [src, msg] of [
      ['a\n#endif\n', 'k.wgsl:2: #endif without an open #if'],
      ['a\n#else\nb\n', 'k.wgsl:2: #else without an open #if'],
      ['#if F16\na\n#else\nb\n#else\nc\n#endif', 'k.wgsl:5: #else after the #else of line 3 (the #if of line 1 has its #else already)'],
      ['#if F16\na\n#else\nb\n#elif X\nc\n#endif', 'k.wgsl:5: #elif after the #else of line 3 (the #if of line 1 has its #else already)'],
      ['#if F16\ny\n', 'k.wgsl:1: #if without #endif'],
      ['#if F16\na\n#if X\nb\n#endif\n', 'k.wgsl:1: #if without #endif'],
    ] as const) {
      expect(() => preprocess('k.wgsl', src, { F16: true, X: false }), src).toThrow(new ShaderError(msg));
    }
  });
});

describe('kernel variants', () => {
  const spec: KernelSpec = defineKernel({
    name: 'test-kernel-variants', flags: { F16: [false, true], GELU: [false, true], SILU: [false, true] },
    overrides: { WG: [64, 128] }, bindings: ['uniform', 'rw'], valid: (f) => !(f.GELU && f.SILU), needs: { F16: 'shader-f16' },
  });
  it('keys name the variant: flags that are on, then the overrides', () => {
    expect(variantKey(spec, { flags: { GELU: true, F16: true }, overrides: { WG: 128 } })).toBe('test-kernel-variants[F16,GELU]{WG=128}');
    expect(variantKey(spec)).toBe('test-kernel-variants{WG=64}');
  });
  it('unknown flags/overrides and invalid combinations are errors', () => {
    expect(() => resolveVariant(spec, { flags: { FOO: true } as Record<string, boolean> })).toThrow(/unknown flag FOO/);
    expect(() => resolveVariant(spec, { overrides: { TM: 4 } })).toThrow(/unknown override TM/);
    expect(() => resolveVariant(spec, { flags: { GELU: true, SILU: true } })).toThrow(/not a valid variant/);
  });
  it('override values outside the declared list are refused (an op sizes its dispatch for the declared ones)', () => {
    expect(() => resolveVariant(spec, { overrides: { WG: 256 } })).toThrow(/override WG=256 is not a declared value \(declared: 64, 128\)/);
    expect(resolveVariant(spec, { overrides: { WG: 128 } }).overrides.WG).toBe(128);
  });
  it('declared variants: every valid flag combination plus each override value under each feature flag', () => {
    const keys = declaredVariants(spec).map((v) => variantKey(spec, v));
    expect(keys).toHaveLength(2 * 3 + 2); // F16 × {none, GELU, SILU} + WG=128 with F16 off and on
    expect(keys).toContain('test-kernel-variants{WG=128}');
    expect(keys).toContain('test-kernel-variants[F16]{WG=128}');
    expect(keys).not.toContain('test-kernel-variants[GELU,SILU]{WG=64}');
  });
});

describe.skipIf(!hasGpu)('tessera info --json', () => {
  it('names the adapter, its features and limits, and the kernel variants', async () => {
    // spawned asynchronously and killed after 60 s: a stuck `info` fails this test, not the worker
    const r = await tesseraCli(['info', '--json'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(info.adapter.summary.length).toBeGreaterThan(0);
    expect(typeof info.features['shader-f16']).toBe('boolean');
    expect(info.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(info.kernels.map((k: { name: string }) => k.name)).toEqual(expect.arrayContaining(['gemm_tiled', 'gemm_subgroup', 'gemm_gemv', 'attention', 'norm', 'patchify', 'rope', 'timestep']));
  });
});
