// Session 23 bench review #3 and #6: `tessera bench vae` said nothing on stderr for minutes (a Wan decode at real size
// takes most of a minute on a CPU adapter, and it runs 3 + --repeats of them); it now counts its decodes there, with
// the frames of a long decode under way (vaeBenchProgress over progressBar, src/cli/progress.ts). And its peak_bytes is
// weights + activations as in every bench --json (it was the activations alone), with peak_activation_bytes apart.
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { vaeBenchProgress } from '../../src/cli/bench-vae.js';
import { DETAIL_EVERY_S } from '../../src/cli/progress.js';
import { tesseraCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/golden.js';
import { hasGpu } from '../helpers/gpu.js';

describe('vaeBenchProgress off a terminal', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  // on a terminal the bar is redrawn in place instead
  it.skipIf(process.stderr.isTTY === true)('a line per decode that took a second or more, the last always; a long decode says its frames every DETAIL_EVERY_S', async () => {
    const tty = process.env.TESSERA_STDERR_TTY;
    delete process.env.TESSERA_STDERR_TTY;
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (lines.push(String(s).trimEnd()), true));
    try {
      const p = vaeBenchProgress(3, 'frames');
      // a long decode: 9 frames, 4 s each
      await p.decode('check decode 1', async (on) => {
        for (let f = 1; f <= 9; f++) {
          vi.setSystemTime(Date.now() + 4000);
          on(f, 9);
        }
      });
      // two quick ones
      await p.decode('check decode 2', async (on) => on(1, 1));
      await p.decode('timed decode 1/1', async (on) => on(1, 1));
      p.done();
    } finally {
      if (tty !== undefined) process.env.TESSERA_STDERR_TTY = tty;
    }
    // frames at 4, 8, … 36 s: the first starts the clock, then a line once DETAIL_EVERY_S (10 s) has passed: 16 s, 28 s
    expect(DETAIL_EVERY_S).toBe(10);
    expect(lines.filter((l) => l.includes(': frames')), lines.join('\n')).toEqual(['decodes 0/3  check decode 1: frames 4/9  16.0 s elapsed', 'decodes 0/3  check decode 1: frames 7/9  28.0 s elapsed']);
    expect(lines.filter((l) => !l.includes(': frames')).map((l) => l.replace(/  [\d.]+ s elapsed$/, ''))).toEqual(['decodes 1/3', 'decodes 3/3']);
  });
});

describe.skipIf(!hasGpu)('bench vae on the CLI', () => {
  it('the small Wan VAE, 2 repeats, --json: its decodes counted on stderr; peak_bytes = weights + activations', async () => {
    const r = await tesseraCli(['bench', 'vae', '--vae', join(FIXTURES, 'wan_vae_small', 'vae'), '--frames', '2', '--height', '2', '--width', '2', '--repeats', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    // 3 check decodes (height 2: the 2-band one too) + 2 timed
    expect(r.stderr).toMatch(/^decodes 5\/5  [\d.]+ s elapsed$/m);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
    expect(j.peak_activation_bytes).toBeGreaterThan(0);
    expect(j.peak_bytes).toBe(j.weight_bytes + j.peak_activation_bytes);
  }, 120_000);
});
