// Issue 12's bar, through tessera: the embedded tessera-shapes pipeline (models/tessera-shapes) at its
// defaults (32×32, 9 frames, 20 UniPC steps, guidance 5, negative "", max_sequence_length 512) on every
// prompt "a {colour} {shape} moving {direction}" at seeds 0 and 1, judged by the TypeScript port of
// training/judge.py (src/eval/shapes-judge.ts): at least 90 % of the 72 seen prompts pass at EACH seed.
// The 12 held-out prompts ((green, up), (magenta, left), (cyan, down), (white, right) × 3 shapes) are run and
// reported, not asserted (when TESSERA_JUDGE_SEEDS is set).
//
// Each prompt gets the noise `tessera generate --prompt P --seed S` gives it alone (a list of seeds, one
// per item: randn of one item at seed S), so the batches (CHUNK prompts per pipeline call, as
// training/evaluate.py chunks them) judge the same clips as 84 CLI runs up to f32 rounding (a batch
// runs other GEMM rows per workgroup: latents within 3e-5 of a single run, measured). The cost is
// compute (20 steps × CFG at 48 tokens, the 512 text keys folded to each prompt's ~7–11: KEYFOLD; then the VAE): per prompt, batch 12
// is ~1.2× faster than batch 1 and batch 24 no faster than 12. Slow on a loaded 2-core machine:
// its own timeout.
// `npm test` runs the 72 seen prompts at seed 0 (the asserted part at one seed: 6 batches, ~125 s
// of a cold run on the 2-core machine (160–200 s before the key fold), whose suite must stay under 10 minutes, issue 8);
// TESSERA_JUDGE_SEEDS=0,1 runs the bar as issue 12 set it, both seeds, held-out prompts reported (last
// measured here: seen 66/72 at seed 0, 68/72 at seed 1; held-out 9/12 and 9/12).
// TESSERA_SHAPES_PIPELINE=DIR runs another pipeline folder (e.g. a training checkpoint).
import '../helpers/optimised-compile.js'; // first: the optimised lavapipe compile (run time dominates here)
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeVideo, shapesPrompt, shapesTriples } from '../../src/eval/shapes-judge.js';
import { loadPipeline } from '../../src/index.js';
import { EMBEDDED_DEFAULTS } from '../../src/cli/embedded.js';
import { hasGpu } from '../helpers/gpu.js';

const BAR = 0.9;
const CHUNK = 12;
const SEEDS = (process.env.TESSERA_JUDGE_SEEDS ?? '0').split(',').map((x) => {
  const n = Number(x.trim());
  if (!Number.isInteger(n) || n < 0) throw new Error(`TESSERA_JUDGE_SEEDS: expected comma-separated seeds (non-negative integers), got "${x}"`);
  return n;
});
// held-out prompts are reported, not asserted: run them when the seeds are chosen by hand
const HELD_OUT = process.env.TESSERA_JUDGE_SEEDS !== undefined;
const dir = process.env.TESSERA_SHAPES_PIPELINE ?? join(import.meta.dirname, '..', '..', 'models', 'tessera-shapes');

describe.skipIf(!hasGpu)('tessera-shapes meets the judge bar (issue 12)', () => {
  it(`≥ ${BAR * 100} % of the 72 seen prompts pass at seed${SEEDS.length > 1 ? 's' : ''} ${SEEDS.join(' and ')}${HELD_OUT ? '; held-out reported' : ''}`, async () => {
    const { seen, heldOut } = shapesTriples();
    expect(seen.length).toBe(72);
    const triples = HELD_OUT ? [...seen, ...heldOut] : seen;
    const prompts = triples.map((t) => shapesPrompt(...t));
    const t0 = performance.now();
    // room in the text encoder's cache for every prompt and "": the second seed reuses the embeddings
    const pipe = await loadPipeline(dir, { textEncoder: { cacheSize: prompts.length + 1 } });
    const lines: string[] = [];
    const seenRate: Record<number, number> = {};
    try {
      for (const seed of SEEDS) {
        const ts = performance.now();
        const verdicts: ReturnType<typeof judgeVideo> = [];
        for (let i = 0; i < prompts.length; i += CHUNK) {
          const ps = prompts.slice(i, i + CHUNK);
          const out = await pipe.generate({
            prompt: ps,
            negative_prompt: '',
            seed: ps.map(() => seed), // each item the noise of a single-prompt run at this seed
            height: EMBEDDED_DEFAULTS.height,
            width: EMBEDDED_DEFAULTS.width,
            num_frames: EMBEDDED_DEFAULTS.num_frames,
            num_inference_steps: EMBEDDED_DEFAULTS.num_inference_steps,
            guidance_scale: EMBEDDED_DEFAULTS.guidance_scale,
          });
          expect(out.video!.shape).toEqual([ps.length, EMBEDDED_DEFAULTS.num_frames, EMBEDDED_DEFAULTS.height, EMBEDDED_DEFAULTS.width, 3]);
          verdicts.push(...judgeVideo(out.video!, triples.slice(i, i + CHUNK).map(([c, , d]) => [c, d] as const)));
        }
        const seenV = verdicts.slice(0, seen.length);
        const heldV = verdicts.slice(seen.length);
        const passed = (v: typeof verdicts) => v.filter((x) => x.pass).length;
        const tally = (v: typeof verdicts) => `${passed(v)}/${v.length} = ${(passed(v) / v.length).toFixed(3)}`;
        seenRate[seed] = passed(seenV) / seenV.length;
        // without TESSERA_JUDGE_SEEDS the held-out prompts are not run: say so, not "0/0 = NaN"
        const held = HELD_OUT ? tally(heldV) : 'not run (set TESSERA_JUDGE_SEEDS)';
        lines.push(`seed ${seed}: seen ${tally(seenV)}, held-out ${held} (${((performance.now() - ts) / 1000).toFixed(1)} s)`);
        verdicts.forEach((v, i) => {
          if (!v.pass) lines.push(`   ${i >= seen.length ? 'held-out ' : ''}fail: ${prompts[i]} -> ${v.colour ?? '—'} ${v.direction ?? '—'} ${v.reason}`);
        });
      }
    } finally {
      pipe.dispose();
    }
    console.log(`${dir}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n${lines.join('\n')}`);
    expect(lines.join('\n')).not.toContain('NaN');
    for (const seed of SEEDS) expect(seenRate[seed], `seed ${seed}: seen pass rate (need ≥ ${BAR})`).toBeGreaterThanOrEqual(BAR);
  }, 1_800_000);
});
