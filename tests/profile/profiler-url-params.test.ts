// The profiler page's URL parameters (examples/profiler/url-params.ts): a mistyped preset names what was
// typed and lists the presets (the page's <select> used to turn it into ""), a tune value that is not a
// mode is refused with the modes (it used to be ignored: minutes of autotuning on a CPU adapter), and
// repeats outside 1..50 or not a whole number are refused with the range (they used to become 5 or 50).
// The page itself (tests/integration/browser-profiler-edits.test.ts) shows these lines and runs nothing.
import { describe, expect, it } from 'vitest';
import { urlProblems } from '../../examples/profiler/url-params.js';
import { presetNames } from '../../src/index.js';

const problems = (query: string) => urlProblems(new URLSearchParams(query));

describe('profiler page URL parameters', () => {
  it('accepts valid or absent preset, tune and repeats', () => {
    expect(problems('')).toEqual([]);
    expect(problems('?preset=wan-tiny&tune=off&repeats=3')).toEqual([]);
    for (const t of ['off', 'cached', 'auto']) expect(problems(`?tune=${t}`)).toEqual([]);
    for (const r of ['1', '50', ' 7 ']) expect(problems(`?repeats=${encodeURIComponent(r)}`)).toEqual([]);
  });

  it('an unknown preset is named as typed, with the presets listed', () => {
    expect(presetNames()).toContain('wan-tiny');
    expect(problems('?preset=wan-tinyy')).toEqual([`preset="wan-tinyy" is not a preset; presets: ${presetNames().join(', ')}`]);
    expect(problems('?preset=')).toEqual([`preset="" is not a preset; presets: ${presetNames().join(', ')}`]);
  });

  it('a tune value that is not a mode is refused with the modes', () => {
    expect(problems('?tune=of')).toEqual(['tune="of" is not a tuning mode; expected off, cached, auto']);
    expect(problems('?tune=OFF')).toEqual(['tune="OFF" is not a tuning mode; expected off, cached, auto']);
  });

  it('repeats that are not a whole number or outside 1..50 are refused with the range, not clamped', () => {
    const range = 'expected a whole number from 1 to 50 (default 5)';
    expect(problems('?repeats=abc')).toEqual([`repeats="abc" is not a whole number; ${range}`]);
    expect(problems('?repeats=2.5')).toEqual([`repeats="2.5" is not a whole number; ${range}`]);
    expect(problems('?repeats=-3')).toEqual([`repeats="-3" is not a whole number; ${range}`]);
    expect(problems('?repeats=')).toEqual([`repeats="" is not a whole number; ${range}`]);
    expect(problems('?repeats=0')).toEqual([`repeats=0 is out of range; ${range}`]);
    expect(problems('?repeats=500')).toEqual([`repeats=500 is out of range; ${range}`]);
  });

  it('reports every bad parameter, in order', () => {
    expect(problems('?repeats=0&tune=of&preset=x')).toEqual([
      `preset="x" is not a preset; presets: ${presetNames().join(', ')}`,
      'tune="of" is not a tuning mode; expected off, cached, auto',
      'repeats=0 is out of range; expected a whole number from 1 to 50 (default 5)',
    ]);
  });
});
