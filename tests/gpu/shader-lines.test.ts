// Compiler messages name the line of the WGSL file the user wrote, not of the preprocessed text
// (preludes prepended, #if blocks removed, `enable`s hoisted): the preprocessor keeps a line map.
// Dawn (lavapipe here) compiles deliberately broken test kernels; the reported line must be the
// line that was broken, after an #if block and after a prelude ("include").
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { compileCheck, declaredVariants, defineKernel, kernelRegistry, variantSource, variantSourceMapped } from '../../src/gpu/kernel.js';
import { kernelSource, preprocess, preprocessMapped, setKernelSource, ShaderError, sourceMessage } from '../../src/gpu/shader.js';
import { Plan } from '../../src/gpu/plan.js';
import { Allocator } from '../../src/gpu/tensor.js';
import '../../src/ops/all.js';
import '../../src/profile/ceiling.js';

const PRELUDE = `// a shared prelude, as kernels/common/*.wgsl
fn twice(v: f32) -> f32 {
  return 2.0 * v;
}
`;

/** A kernel whose line `BROKEN` (1-based) becomes `broken` text; everything else is valid WGSL. */
function kernel(broken: Record<number, string> = {}): string {
  const lines = `struct P { n: u32, _a: u32, _b: u32, _c: u32 }
override WG: u32 = 64;
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
#if TRIPLE
fn scale(v: f32) -> f32 {
  return 3.0 * v;
}
#else
fn scale(v: f32) -> f32 {
  return twice(v);
}
#endif
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x >= p.n) { return; }
  y[g.x] = scale(x[g.x]);
}
`.split('\n');
  for (const [l, text] of Object.entries(broken)) lines[Number(l) - 1] = text;
  return lines.join('\n');
}

setKernelSource('test_lines_prelude', PRELUDE);
setKernelSource('test_lines', kernel());
const spec = defineKernel({ name: 'test_lines', prelude: ['test_lines_prelude'], flags: { TRIPLE: [false, true] }, overrides: { WG: [64, 32] }, bindings: ['uniform', 'read', 'rw'] });

describe('preprocessMapped: the line map', () => {
  it('gives the same text as preprocess, and each mapped output line is its source line', () => {
    const src = 'a\n#if F\nb\n  #else\nc\n#endif\n\nd\n#if !F\ne\n#endif\nf';
    for (const F of [false, true]) {
      const m = preprocessMapped('k.wgsl', src, { F });
      expect(m.text).toBe(preprocess('k.wgsl', src, { F }));
      const out = m.text.split('\n');
      expect(m.lines).toHaveLength(out.length);
      const at = (t: string) => m.lines[out.indexOf(t)];
      expect(at('a')).toEqual({ file: 'k.wgsl', line: 1 });
      expect(at('f')).toEqual({ file: 'k.wgsl', line: 12 });
      expect(at('d')).toEqual({ file: 'k.wgsl', line: 8 });
      if (F) expect(at('b')).toEqual({ file: 'k.wgsl', line: 3 });
      else expect([at('c'), at('e')]).toEqual([{ file: 'k.wgsl', line: 5 }, { file: 'k.wgsl', line: 10 }]);
    }
  });

  it('every shipped kernel variant: the text is unchanged and every non-blank line maps to the identical line of its file', () => {
    let checked = 0;
    for (const s of kernelRegistry.values()) {
      if (s.name.startsWith('test')) continue;
      for (const v of declaredVariants(s)) {
        for (const n of [...(s.prelude ?? []), s.name]) {
          const src = kernelSource(n);
          const m = preprocessMapped(`kernels/${n}.wgsl`, src, v.flags);
          expect(m.text).toBe(preprocess(`kernels/${n}.wgsl`, src, v.flags));
        }
        const { text, lines } = variantSourceMapped(s, v);
        expect(text).toBe(variantSource(s, v));
        const srcLines = new Map<string, string[]>();
        text.split('\n').forEach((l, i) => {
          if (!l.trim()) return;
          const at = lines[i];
          expect(at, `${s.name} line ${i + 1}: ${l}`).toBeTruthy();
          const file = at!.file.replace(/^kernels\/(.*)\.wgsl$/, '$1');
          if (!srcLines.has(file)) srcLines.set(file, kernelSource(file).split('\n'));
          // hoisted `enable` lines keep their text, trimmed
          expect(srcLines.get(file)![at!.line - 1]!.trim() === l.trim(), `${s.name}: output line ${i + 1} "${l}" ↔ ${at!.file}:${at!.line}`).toBe(true);
          checked++;
        });
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  it('sourceMessage: file:LINE:COL through the map; the variant key and the preprocessed line where the map has none', () => {
    const lines = [null, { file: 'kernels/k.wgsl', line: 7 }];
    expect(sourceMessage('k[F]{WG=64}', lines, { lineNum: 2, linePos: 5, message: 'bad' })).toBe('kernels/k.wgsl:7:5: bad');
    expect(sourceMessage('k[F]{WG=64}', lines, { lineNum: 1, linePos: 3, message: 'bad' })).toBe('k[F]{WG=64}:1:3: bad');
    expect(sourceMessage('k[F]{WG=64}', lines, { lineNum: 0, linePos: 0, message: 'no line' })).toBe('k[F]{WG=64}: no line');
  });
});

describe.skipIf(!hasGpu)('compiler messages at the line of the source the user wrote', () => {
  const cases: [string, Record<number, string>, string, number][] = [
    ['after the #if block', { 18: '  y[g.x] = scale(x[g.x]) +;' }, 'test_lines', 18],
    ['inside the #else branch', { 12: '  return twice(v) +;' }, 'test_lines', 12],
    ['on a repeated `}` (an extra one closing main, after the #if block)', { 19: '}}' }, 'test_lines', 19],
  ];
  for (const [what, broken, file, line] of cases) {
    it(`a break ${what}: kernels/${file}.wgsl:${line}, in every variant that compiles that line`, async () => {
      setKernelSource('test_lines', kernel(broken));
      try {
        for (const TRIPLE of line === 12 ? [false] : [false, true]) {
          const r = await compileCheck(gpu!, spec, { flags: { TRIPLE } });
          expect(r.key).toBe(TRIPLE ? 'test_lines[TRIPLE]{WG=64}' : 'test_lines{WG=64}');
          expect(r.errors.length, r.errors.join('\n')).toBeGreaterThan(0);
          expect(r.errors[0]).toMatch(new RegExp(`^kernels/${file}\\.wgsl:${line}:\\d+: \\S`));
        }
        // the branch not taken is not compiled: no message
        if (line === 12) expect((await compileCheck(gpu!, spec, { flags: { TRIPLE: true } })).errors).toEqual([]);
      } finally {
        setKernelSource('test_lines', kernel());
      }
    });
  }

  it('a break in the prelude is reported at the prelude file and line', async () => {
    setKernelSource('test_lines_prelude', PRELUDE.replace('return 2.0 * v;', 'return 2.0 * v +;'));
    try {
      const r = await compileCheck(gpu!, spec);
      expect(r.errors[0]).toMatch(/^kernels\/test_lines_prelude\.wgsl:3:\d+: \S/);
    } finally {
      setKernelSource('test_lines_prelude', PRELUDE);
    }
  });

  it('the column is the column in the source line', async () => {
    setKernelSource('test_lines', kernel({ 18: '  y[g.x] = scale(x[g.x]) + undefined_name;' }));
    try {
      const r = await compileCheck(gpu!, spec, { flags: { TRIPLE: true } });
      const col = '  y[g.x] = scale(x[g.x]) + undefined_name;'.indexOf('undefined_name') + 1;
      expect(r.errors[0]).toMatch(new RegExp(`^kernels/test_lines\\.wgsl:18:${col}: .*undefined_name`));
    } finally {
      setKernelSource('test_lines', kernel());
    }
  });

  it('a plan compiling several variants names the failing one (flags and knobs) with the source line', async () => {
    setKernelSource('test_lines', kernel({ 8: '  return 3.0 * v +;' }));
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(gpu!, alloc);
      const x = alloc.upload(new Float32Array(4), [4], 'f32', 'x');
      for (const TRIPLE of [false, true]) {
        plan.record({ spec, variant: { flags: { TRIPLE }, overrides: { WG: 32 } }, uniforms: [['n', 'u32', 4]], buffers: [x, alloc.tensor([4], 'f32', 'y')], workgroups: [1, 1, 1], shapes: '', flops: 0, bytes: 0 });
      }
      const err = await plan.compile().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ShaderError);
      expect((err as Error).message).toMatch(/^test_lines\[TRIPLE\]\{WG=32\}: pipeline creation failed: kernels\/test_lines\.wgsl:8:\d+: \S/);
    } finally {
      alloc.destroyAll();
      setKernelSource('test_lines', kernel());
    }
  });
});
