// Text after `#else`/`#endif` on the directive's line is refused by the preprocessor at that file and
// line: wgsl-preprocessor passed it through into whichever branch was open, so the compiler's message
// about it landed on another line, or in a prelude (the profiler blamed "line 98 … a prelude").
import { describe, expect, it } from 'vitest';
import { defineKernel, variantSource } from '../../src/gpu/kernel.js';
import { preprocess, preprocessMapped, setKernelSource, ShaderError } from '../../src/gpu/shader.js';

const SRC = ['a', '#if F', 'b', '#else', 'c', '#endif', 'd'];
const withLine = (n: number, text: string) => SRC.map((l, i) => (i === n - 1 ? text : l)).join('\n');
const thrown = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
};

describe('text after #else / #endif', () => {
  for (const [line, text, kw, rest] of [
    [6, '#endif }', 'endif', '}'],
    [6, '#endif}', 'endif', '}'],
    [4, '  #else  fn f() {}', 'else', 'fn f() {}'],
  ] as const) {
    it(`"${text}" at line ${line}: ShaderError at that file and line, with the text, from preprocess and preprocessMapped`, () => {
      for (const F of [false, true]) {
        for (const call of [preprocess, preprocessMapped]) {
          const e = thrown(() => call('kernels/k.wgsl', withLine(line, text), { F }));
          expect(e).toBeInstanceOf(ShaderError);
          expect(e.message).toBe(`kernels/k.wgsl:${line}: unexpected text after #${kw}: '${rest}' (put it on a line of its own; only a // comment may follow #${kw})`);
        }
      }
    });
  }

  it('a // comment or spaces after the directive are fine, and the text is as without them', () => {
    const plain = preprocess('k.wgsl', SRC.join('\n'), { F: true });
    const commented = withLine(6, '#endif   // F');
    expect(preprocess('k.wgsl', commented, { F: true }).replace(/ *\/\/ F/, '')).toBe(plain);
    expect(() => preprocess('k.wgsl', withLine(4, '#else  '), { F: false })).not.toThrow();
    expect(preprocessMapped('k.wgsl', commented, { F: false }).text).toBe(preprocess('k.wgsl', commented, { F: false }));
  });

  it('in a kernel and in its prelude: the message names the file that holds the line (variantSource)', () => {
    setKernelSource('test_directive_prelude', 'fn one() -> f32 { return 1.0; }\n#if F\nfn g() {}\n#endif }\n');
    setKernelSource('test_directive', 'fn main2() {}\n#if F\nfn h() {}\n#else\nfn h() {}\n#endif\n');
    const spec = defineKernel({ name: 'test_directive', prelude: ['test_directive_prelude'], flags: { F: [false, true] }, overrides: {}, bindings: ['rw'] });
    expect(thrown(() => variantSource(spec, { flags: { F: true } })).message).toContain("kernels/test_directive_prelude.wgsl:4: unexpected text after #endif: '}'");
    setKernelSource('test_directive_prelude', 'fn one() -> f32 { return 1.0; }\n');
    setKernelSource('test_directive', 'fn main2() {}\n#if F\nfn h() {}\n#else\nfn h() {}\n#endif }\n');
    expect(thrown(() => variantSource(spec, { flags: { F: false } })).message).toContain("kernels/test_directive.wgsl:6: unexpected text after #endif: '}'");
  });
});
