// kernelSource looks kernel names up in the shipped sources' own keys: a name on Object.prototype
// ('constructor', 'toString') was found there and came back as a function instead of the documented
// ShaderError. An override of such a name is still the caller's own kernel.
import { afterEach, describe, expect, it } from 'vitest';
import { kernelSource, setKernelSource, ShaderError } from '../../src/gpu/shader.js';

describe('kernelSource names', () => {
  afterEach(() => setKernelSource('toString', null));

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'no_such_kernel'])('%s: ShaderError naming the file', (name) => {
    expect(() => kernelSource(name)).toThrow(new ShaderError(`no kernel source kernels/${name}.wgsl`));
  });

  it('a shipped kernel and an override', () => {
    expect(kernelSource('norm')).toContain('fn ');
    setKernelSource('toString', 'fn f() {}');
    expect(kernelSource('toString')).toBe('fn f() {}');
  });
});
