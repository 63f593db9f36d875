// The profiler page's memory budget and fit check of a preset run (examples/profiler/budget.ts), in Node: the
// refusals session 23's bench review asked for (#1: `?preset=wan-14b` began making 53 GiB of random weights on a
// 23 GiB host; `latent=64x256x256` ran on), each one line with the figures, what to change and the budget's source.
import { describe, expect, it } from 'vitest';
import { checkPresetFits, pageBudget, RunRefused, DEVICE_MEMORY_SHARE } from '../../examples/profiler/budget.js';

/** Headless Chromium's SwiftShader adapter (1 GiB bindings and buffers) and lavapipe's 128 MiB bindings. */
const SWIFTSHADER = { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 30 };
const LAVAPIPE = { maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28 };
const GiB = 2 ** 30;

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RunRefused);
    return (e as Error).message;
  }
  throw new Error('not refused');
};

describe('profiler page: the memory budget', () => {
  it('maxMemory in the address, else 80 % of navigator.deviceMemory, else none; a bad size is one InputError line', () => {
    expect(pageBudget('4GiB', 8)).toEqual({ bytes: 4 * GiB, source: 'maxMemory=4GiB in the address' });
    expect(pageBudget(null, 8)).toEqual({ bytes: Math.floor(DEVICE_MEMORY_SHARE * 8 * GiB), source: '80 % of navigator.deviceMemory, 8 GiB (browsers report at most 8); maxMemory=SIZE in the address sets another' });
    expect(pageBudget(null, undefined)).toEqual({ source: 'none: this browser has no navigator.deviceMemory; maxMemory=SIZE in the address sets one' });
    expect(() => pageBudget('lots', 8)).toThrow(/^maxMemory: /);
  });
});

describe('profiler page: the fit check of a preset run, before any upload', () => {
  const budget = pageBudget(null, 8); // 6.40 GiB

  it('wan-14b on a CPU adapter: its 53 GiB of f32 weights are above the budget (the figures, a smaller preset, where the budget comes from)', () => {
    const msg = refusal(() => checkPresetFits({ preset: 'wan-14b', latent: { frames: 2, height: 16, width: 16 }, guidance: 1 }, SWIFTSHADER, budget, true));
    expect(msg).toBe(
      "Not run: wan-14b, latents 2×16×16: the model's weights need 53.23 GiB in f32 (40 layers, dim 5120), above the budget of 6.40 GiB (maxMemory): a larger maxMemory budget or a smaller preset. " +
        'Budget 6.40 GiB: 80 % of navigator.deviceMemory, 8 GiB (browsers report at most 8); maxMemory=SIZE in the address sets another. Nothing was uploaded.',
    );
  });

  it("wan-14b on lavapipe's 128 MiB bindings: its largest weight, as `tessera bench model` says", () => {
    const msg = refusal(() => checkPresetFits({ preset: 'wan-14b', latent: { frames: 2, height: 16, width: 16 }, guidance: 1 }, LAVAPIPE, pageBudget('100GiB', 8), true));
    expect(msg).toMatch(/^Not run: wan-14b, latents 2×16×16: the model's largest weight \S+ \[30720,5120\] is 600\.0 MiB in f32, above the adapter's per-buffer limit of 128\.0 MiB: a smaller preset\. Budget 100\.00 GiB: maxMemory=100GiB in the address\. Nothing was uploaded\.$/);
  });

  it('wan-tiny at 64×256×256: the decoded clip is above the budget; the line says how many latent frames fit', () => {
    const msg = refusal(() => checkPresetFits({ preset: 'wan-tiny', latent: { frames: 64, height: 256, width: 256 }, guidance: 1 }, SWIFTSHADER, budget, true));
    expect(msg).toMatch(/^Not run: wan-tiny, latents 64×256×256: the decoded clip, sample \[1,3,253,2048,2048\], needs 31\.63 GiB on the host \(the sample and its \[0, 1\] copy in f32 23\.72 GiB, 8-bit RGBA frames and their canvas copies 7\.91 GiB\) \+ the step's [\d.]+ GiB on the GPU \(a CPU adapter: the same memory\), above the budget of 6\.40 GiB: use at most (\d+) latent frames at this height×width or smaller latents, or a larger maxMemory budget \(\d+ bytes or more\)\. Budget 6\.40 GiB: .*\. Nothing was uploaded\.$/);
    const fit = Number(/at most (\d+) latent/.exec(msg)![1]);
    expect(fit).toBeGreaterThan(0);
    expect(fit).toBeLessThan(64);
    // the frames it names fit, one more patch of frames does not
    expect(() => checkPresetFits({ preset: 'wan-tiny', latent: { frames: fit, height: 256, width: 256 }, guidance: 1 }, SWIFTSHADER, budget, true)).not.toThrow();
  });

  it("the page's default run fits; a GPU adapter takes the weights by its limits alone, the clip still by the budget", () => {
    const ok = checkPresetFits({ preset: 'wan-tiny', latent: { frames: 4, height: 16, width: 16 }, guidance: 1 }, SWIFTSHADER, budget, true);
    expect(ok.clipBytes).toBeGreaterThan(0);
    expect(ok.step.total).toBeLessThan(budget.bytes!);
    expect(() => checkPresetFits({ preset: 'wan-14b', latent: { frames: 2, height: 16, width: 16 }, guidance: 1 }, SWIFTSHADER, budget, false)).not.toThrow();
    expect(refusal(() => checkPresetFits({ preset: 'wan-tiny', latent: { frames: 64, height: 256, width: 256 }, guidance: 1 }, SWIFTSHADER, budget, false))).toMatch(/needs 31\.63 GiB on the host .*\), above the budget of 6\.40 GiB: use at most \d+ latent frames/);
  });

  it('CFG doubles the batch the step is checked at', () => {
    const one = checkPresetFits({ preset: 'wan-tiny', latent: { frames: 4, height: 16, width: 16 }, guidance: 1 }, SWIFTSHADER, budget, true);
    const two = checkPresetFits({ preset: 'wan-tiny', latent: { frames: 4, height: 16, width: 16 }, guidance: 5 }, SWIFTSHADER, budget, true);
    expect(two.step.activations).toBeGreaterThan(one.step.activations);
    expect(two.clipBytes).toBe(one.clipBytes);
  });
});
