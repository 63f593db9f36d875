// tessera demo's stage lines say what a first run's kernel work cost: autotuning (timing candidate
// kernels, the compiles it makes included) and compiling outside it, per stage, from the device's
// KernelEvents (watchKernels).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { oneOffNote, oneOffTimer } from '../../src/cli/cmd-demo.js';
import type { KernelEvent } from '../../src/gpu/kernel.js';

const tune = (done: number, total: number): KernelEvent => ({ type: 'tune', family: 'gemm', bucket: 'f32 M8 N8 K8', candidates: ['a', 'b'], done, total, where: '/c/tessera/tune.json', explicit: false });
const compile = (done: number, total: number): KernelEvent => ({ type: 'compile', done, total });

describe('demo: one-off kernel work per stage', () => {
  afterEach(() => vi.restoreAllMocks());

  it('tuning passes and compile batches are timed apart, each charged to its stage', () => {
    let now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    const t = oneOffTimer();
    // before any stage: not charged
    t.event(compile(0, 1));
    now = 50;
    t.event(compile(1, 1));
    t.stage = 'text_encoder';
    now = 100;
    t.event(compile(0, 2));
    now = 300;
    t.event(compile(2, 2)); // 200 ms compiling
    t.stage = 'transformer';
    now = 1000;
    t.event(tune(0, 2));
    t.event(compile(0, 1)); // a candidate's compile, inside the tuning pass: tuning's
    now = 1500;
    t.event(compile(1, 1));
    t.event(tune(1, 2));
    now = 9000;
    t.event(tune(2, 2)); // 8000 ms tuning
    now = 9100;
    t.event(compile(0, 3));
    now = 9400;
    t.event(compile(3, 3)); // 300 ms compiling
    expect(t.of('text_encoder')).toEqual({ tuneMs: 0, compileMs: 200 });
    expect(t.of('transformer')).toEqual({ tuneMs: 8000, compileMs: 300 });
    expect(t.of('vae')).toEqual({ tuneMs: 0, compileMs: 0 });
    expect(t.where).toBe('/c/tessera/tune.json');
  });

  it('the note names the parts a stage had', () => {
    expect(oneOffNote({ tuneMs: 8000, compileMs: 300 })).toBe('autotuning 8.00 s, compiling kernels 0.30 s');
    expect(oneOffNote({ tuneMs: 0, compileMs: 1230 })).toBe('compiling kernels 1.23 s');
    expect(oneOffNote({ tuneMs: 0, compileMs: 1 })).toBe('');
  });
});
