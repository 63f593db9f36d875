// torchLinspaceF32 against torch's own linspace, bit for bit: the betas of every 'linear' and
// 'scaled_linear' schedule come from it, and a last-bit difference there moved an exponential-sigma
// schedule's first timestep from 999 to 998 (audit 13 K, defect 1).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { betasFor, torchLinspaceF32 } from '../../src/sampler/scheduler.js';

interface Case { start: number; end: number; steps: number; values: number[] }
const fixture = JSON.parse(readFileSync(new URL('../fixtures/sampler/torch_linspace.json', import.meta.url), 'utf8')) as { cases: Case[] };

describe('torchLinspaceF32: torch.linspace(start, end, steps, dtype=float32) on CPU', () => {
  it(`${fixture.cases.length} cases (the Wan/DiT/SD beta ranges at 1000 steps, descending, 1 and 2 steps, random small ones) equal torch's values exactly`, () => {
    expect(fixture.cases.length).toBeGreaterThan(40);
    for (const c of fixture.cases) {
      const got = Array.from(torchLinspaceF32(c.start, c.end, c.steps));
      const bad = got.flatMap((v, i) => (v === c.values[i] ? [] : [`[${i}] ${v} vs ${c.values[i]}`]));
      expect(bad, `linspace(${c.start}, ${c.end}, ${c.steps})`).toEqual([]);
    }
  });
  it("betasFor('linear') is torch's linspace of the released DiT/Latte/Wan range, every entry", () => {
    const c = fixture.cases.find((x) => x.start === 0.0001 && x.end === 0.02 && x.steps === 1000)!;
    expect(Array.from(betasFor('linear', 1000, 0.0001, 0.02))).toEqual(c.values);
  });
});
