// The WGSL toolchain: strict preprocessing, variant keys, and `tessera info`.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { preprocess, ShaderError } from '../../src/gpu/shader.js';
import { defineKernel, resolveVariant, variantKey, declaredVariants, type KernelSpec } from '../../src/gpu/kernel.js';
import { hasGpu } from '../helpers/gpu.js';
import { ROOT } from '../helpers/golden.js';

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
    expect(() => preprocess('k.wgsl', '#if F16\ny\n', { F16: true })).toThrow(/k\.wgsl: .*(#if|#endif)/);
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
  it('names the adapter, its features and limits, and the kernel variants', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'bin', 'tessera.mjs'), 'info', '--json'], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: '/tmp' } });
    const info = JSON.parse(out.trim().split('\n').pop()!);
    expect(info.adapter.summary.length).toBeGreaterThan(0);
    expect(typeof info.features['shader-f16']).toBe('boolean');
    expect(info.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(info.kernels.map((k: { name: string }) => k.name)).toEqual(expect.arrayContaining(['gemm_tiled', 'gemm_subgroup', 'gemm_gemv', 'attention', 'norm', 'patchify', 'rope', 'timestep']));
  });
});
