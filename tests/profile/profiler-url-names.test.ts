// The profiler page's URL parameters by name (examples/profiler/url-params.ts): a name the page does not read
// (step=2 for steps) used to be ignored, the run going ahead with the defaults; it is refused in one line naming
// it, the parameter most likely meant and the ones the page reads. timing and autorun values that are not one
// of theirs are refused too (timing=wal ran with GPU timestamps).
import { describe, expect, it } from 'vitest';
import { URL_PARAMS, urlProblems } from '../../examples/profiler/url-params.js';

const problems = (query: string) => urlProblems(new URLSearchParams(query));
const known = 'it reads prompt, preset, latent, steps, guidance, seed, repeats, timing, tune, autorun, model, maxMemory';

describe('profiler page URL parameter names', () => {
  it('accepts every parameter the page reads', () => {
    expect(problems('?prompt=a&preset=wan-tiny&latent=2x8x8&steps=2&guidance=2&seed=1&repeats=2&timing=wall&tune=off&autorun=0&model=https://x/y/&maxMemory=4GiB')).toEqual([]);
    expect([...URL_PARAMS]).toEqual(['prompt', 'preset', 'latent', 'steps', 'guidance', 'seed', 'repeats', 'timing', 'tune', 'autorun', 'model', 'maxMemory']);
  });

  it('an unknown name is named with the one meant and the known ones, once', () => {
    expect(problems('?step=2')).toEqual([`step=… is not a parameter of this page (did you mean steps?); ${known}`]);
    expect(problems('?Seed=1&seed=2')).toEqual([`Seed=… is not a parameter of this page (did you mean seed?); ${known}`]);
    expect(problems('?step=2&step=3')).toHaveLength(1);
    expect(problems('?xyzzy=1')).toEqual([`xyzzy=… is not a parameter of this page; ${known}`]);
  });

  it('timing and autorun take only their values', () => {
    expect(problems('?timing=wal')).toEqual(['timing="wal" is not a timing; expected wall (leave it out for GPU timestamps)']);
    expect(problems('?autorun=no')).toEqual(['autorun="no": expected 0 (load and wait) or 1 (the default: run on load)']);
    expect(problems('?autorun=1&autorun=0')).toEqual([]);
  });

  it('maxMemory takes a size as the library does (bytes, or with a unit)', () => {
    expect(problems('?maxMemory=2GiB')).toEqual([]);
    expect(problems('?maxMemory=1000000')).toEqual([]);
    expect(problems('?maxMemory=lots')).toHaveLength(1);
    expect(problems('?maxMemory=lots')[0]).toMatch(/^maxMemory: /);
    expect(problems('?maxmemory=2GiB')[0]).toMatch(/^maxmemory=… is not a parameter of this page \(did you mean maxMemory\?\)/);
  });
});
