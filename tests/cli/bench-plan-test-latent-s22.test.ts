// user22 finding 14: `tessera bench plan --preset wan-1.3b` planned the preset's 2×16×16 test latent (128 tokens) by
// default and said "every binding fits", which a user read as "Wan-1.3B fits"; at 480p × 81 frames f32 does not fit
// 128 MiB bindings. The header now says the plan is of the test latent and gives the flags of the released size.
// No GPU: bench plan is a dry run.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Parsed } from '../../src/cli/args.js';
import { printPlanResult, runPlanBench } from '../../src/cli/bench-plan.js';
import { PRESETS } from '../../src/model/presets.js';

const plan = (flags: Record<string, unknown>) => runPlanBench({ _: ['plan'], ...flags } as unknown as Parsed);

/** The flags string "--frames 21 --height 60 …" as Parsed flags. */
const flagsOf = (s: string): Record<string, number> => {
  const t = s.split(' ');
  const o: Record<string, number> = {};
  for (let i = 0; i < t.length; i += 2) o[t[i]!.slice(2)] = Number(t[i + 1]);
  return o;
};

/** printPlanResult's stdout lines. */
const printed = (r: ReturnType<typeof plan>): string[] => {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((l: string) => void lines.push(...String(l).split('\n')));
  printPlanResult(r);
  return lines;
};

afterEach(() => vi.restoreAllMocks());

describe('bench plan --preset: the test latent is called one, with the flags of the released size', () => {
  it('wan-1.3b by default: the header says test latent and names --frames 21 --height 60 --width 104 --text-len 512', () => {
    const r = plan({ preset: 'wan-1.3b' });
    expect(r.latent).toEqual([2, 16, 2, 16, 16]);
    expect(r.test_latent).toEqual({ released: '480p (832×480) × 81 frames', flags: '--frames 21 --height 60 --width 104 --text-len 512' });
    expect(printed(r)[1]).toBe("planned at the preset's small test latent (its default, for quick CPU runs), not a real clip: wan-1.3b at 480p (832×480) × 81 frames is --frames 21 --height 60 --width 104 --text-len 512");
  });

  it('the named flags plan the released size (wan-1.3b 480p × 81: f32 does not fit 128 MiB bindings), with no such line', () => {
    const r = plan({ preset: 'wan-1.3b', ...flagsOf(plan({ preset: 'wan-1.3b' }).test_latent!.flags) });
    expect(r.latent).toEqual([2, 16, 21, 60, 104]);
    expect(r.text).toEqual([2, 512, 4096]);
    expect(r.test_latent).toBeNull();
    expect(r.rows.find((x) => x.dtype === 'f32')!.fits_binding_limit).toBe(false);
    expect(printed(r).join('\n')).not.toContain('test latent');
  });

  it('any latent flag given: the user chose the size, no test-latent line', () => {
    for (const f of [{ frames: 4 }, { height: 32 }, { width: 32 }, { 'text-len': 64 }]) expect(plan({ preset: 'wan-1.3b', ...f }).test_latent, JSON.stringify(f)).toBeNull();
  });

  it('presets without a released size (DiT at its 256² latent, the tiny ones) and --model folders get no line', () => {
    for (const preset of ['dit-s-2', 'dit-xl-2', 'wan-tiny', 'dit-tiny']) expect(plan({ preset }).test_latent, preset).toBeNull();
    expect(plan({ model: 'tests/fixtures/wan_small/model', frames: 2, height: 8, width: 8 }).test_latent).toBeNull();
  });

  it("every preset's released size is its words: latent × 8 pixels (VAE factor), Wan's 4k+1 frames", () => {
    const withReleased = Object.entries(PRESETS).filter(([, p]) => p.released);
    expect(withReleased.map(([n]) => n).sort()).toEqual(['latte-1', 'wan-1.3b', 'wan-14b']);
    for (const [name, p] of withReleased) {
      const rel = p.released!;
      const r = plan({ preset: name });
      expect(r.test_latent!.flags, name).toBe(`--frames ${rel.frames} --height ${rel.height} --width ${rel.width} --text-len ${rel.textLen}`);
      const wh = /\((\d+)×(\d+)\)/.exec(rel.what) ?? /^(\d+)²/.exec(rel.what);
      const [w, h] = [Number(wh![1]), Number(wh![2] ?? wh![1])];
      expect([rel.width * 8, rel.height * 8], name).toEqual([w, h]);
      const frames = Number(/× (\d+) frames/.exec(rel.what)![1]);
      expect(name.startsWith('wan') ? (rel.frames - 1) * 4 + 1 : rel.frames, name).toBe(frames);
    }
  });
});
