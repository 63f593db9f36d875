// Mutation tests (round 3) for src/model/input-error.ts: inputErrorAt leads an InputError with a function's or a
// file's name and leaves every other error as it is (tessera decode passes the VAE's LimitError, GpuError and
// DisposedError through it: wrapped, they became InputErrors naming the inputs file); checkGpuOption takes
// acquireGpu()'s object by destroy, f16 and adapterInfo together (without the adapterInfo half, an object with
// destroy() and f16 alone passed, then failed at the first adapterInfo read with a message about something else);
// kindOf lists up to 6 keys of a plain object and marks more with an ellipsis (6 keys got one too); shown writes a
// bigint inside an object or array as 1n (JSON.stringify alone throws on it, and the fallback read "[object Object]").
import { describe, expect, it } from 'vitest';
import { LimitError } from '../../src/gpu/plan.js';
import { GpuError } from '../../src/gpu/device.js';
import { checkGpuOption, InputError, inputErrorAt, kindOf, shown } from '../../src/model/input-error.js';

describe('inputErrorAt', () => {
  it('an InputError: a new InputError led by the name', () => {
    const e = inputErrorAt('in.safetensors', new InputError('latents: 5 channels'));
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe('in.safetensors: latents: 5 channels');
  });
  it('anything else: the same object, unwrapped', () => {
    for (const e of [new LimitError('too big'), new GpuError('lost', 'lost', 'decode'), new TypeError('x'), 'a string']) expect(inputErrorAt('in.safetensors', e)).toBe(e);
  });
});

describe('checkGpuOption: destroy, f16 and adapterInfo together', () => {
  const base = { destroy() {}, f16: true };
  it('without adapterInfo (or with a null one): refused', () => {
    expect(() => checkGpuOption(base)).toThrow(InputError);
    expect(() => checkGpuOption({ ...base, adapterInfo: null })).toThrow(InputError);
    expect(() => checkGpuOption({ ...base, adapterInfo: 'fake' })).toThrow(InputError);
  });
  it('with it: taken', () => {
    expect(() => checkGpuOption({ ...base, adapterInfo: { vendor: 'v', architecture: '', device: '', description: '' } })).not.toThrow();
  });
});

describe("kindOf: a plain object's keys", () => {
  it('6 keys: all, no ellipsis; 7: the first 6 and an ellipsis', () => {
    expect(kindOf({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 })).toBe('a plain object with keys a, b, c, d, e, f');
    expect(kindOf({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 })).toBe('a plain object with keys a, b, c, d, e, f, …');
  });
});

describe('shown: bigints inside a value', () => {
  it('written as 1n, the rest as JSON', () => {
    expect(shown([1n, 2])).toBe('["1n",2]');
    expect(shown({ seed: 5n })).toBe('{"seed":"5n"}');
    expect(shown(7n)).toBe('7');
  });
});
