// `tessera bench model`: the --json contract on tiny presets, refusals with the numbers (before
// any weight is made), usage errors, and the pre-timing check failing on a per-item bug.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tesseraCli, tesseraInProcess } from '../helpers/cli.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { invalidateKernel } from '../../src/gpu/kernel.js';
import { setKernelSource } from '../../src/gpu/shader.js';
import { PRESETS, loadRandomModel } from '../../src/model/presets.js';
import { assertModelCheck, checkModel, stepInputs } from '../../src/profile/model-bench.js';
import { WrongResultError } from '../../src/profile/check.js';
import { sameMesaCache } from '../helpers/mesa-cache.js';

const tessera = (...args: string[]) => tesseraCli(args);

const lastJson = (stdout: string): Record<string, unknown> => JSON.parse(stdout.trim().split('\n').pop()!);
const QUICK = ['--json', '--repeats', '2', '--warmup', '0', '--no-wall', '--no-ceiling'];

describe.skipIf(!hasGpu)('tessera bench model --json', () => {
  it('dit-tiny at its preset latent: one CFG step (batch 2), timed, checked, per-kernel table, memory', async () => {
    const r = await tessera('bench', 'model', '--preset', 'dit-tiny', ...QUICK);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(j.bench).toBe('model');
    expect(j.preset).toBe('dit-tiny');
    expect(j.batch).toBe(2);
    expect(j.step).toMatch(/batch \[cond; uncond\]|\[cond; uncond\] \(batch 2\)/);
    expect(j.latent).toEqual([2, 4, 16, 16]);
    expect(j.tokens_per_item).toBe(64);
    expect(j.text).toBeNull();
    expect(j.seconds_per_step as number).toBeGreaterThan(0);
    expect(j.seconds_per_step as number).toBeCloseTo((j.median_ms as number) / 1000, 9);
    expect(j.min_ms as number).toBeLessThanOrEqual(j.median_ms as number);
    expect(j.median_ms as number).toBeLessThanOrEqual(j.max_ms as number);
    expect(j.ceiling_share).toBeNull();
    expect(j.wall).toBeNull();
    const check = j.check as { finite: boolean; deterministic: boolean; batch_max_abs_err: number; batch_bound: number };
    expect(check.finite).toBe(true);
    expect(check.deterministic).toBe(true);
    expect(check.batch_max_abs_err).toBeLessThanOrEqual(check.batch_bound);
    // every dispatch of the step is in the per-kernel table
    const table = j.per_kernel as { calls: number; kernel: string }[];
    expect(table.reduce((a, k) => a + k.calls, 0)).toBe(j.dispatches);
    expect(table.some((k) => k.kernel.startsWith('attention'))).toBe(true);
    // weights + activations, and the estimate the preflight used is of the same size
    expect(j.peak_bytes as number).toBeGreaterThan(j.weight_bytes as number);
    const est = (j.memory_estimate as { total: number }).total;
    expect(j.peak_bytes as number).toBeLessThanOrEqual(est * 1.5);
    expect(j.params).toBeGreaterThan(0);
    // a latent within the check's cap: the check ran at it, every timed kernel variant checked
    expect((j.check as { latent: number[] }).latent).toEqual([2, 4, 16, 16]);
    expect(j.check).toMatchObject({ unchecked_kernels: [] });
    // a non-finite timed output is a WrongResultError (no result), so no always-true field says it
    expect(j.check).not.toHaveProperty('timed_output_finite');
    expect((j.check as { kernels_checked: number }).kernels_checked).toBe((j.check as { kernels_timed: number }).kernels_timed);
    const ph = j.phases_s as Record<string, number | string>;
    expect(Object.keys(ph)).toEqual(['weights', 'weights_made', 'check', 'record', 'tune', 'compile', 'timed']);
    expect(ph.weights_made).toBe('gpu');
    expect(ph.record).toBe(0);
    for (const k of ['weights', 'check', 'tune', 'compile', 'timed']) expect(ph[k] as number, k).toBeGreaterThanOrEqual(0);
    expect(ph.check as number).toBeGreaterThan(0);
  });

  it('wan-tiny above the check\'s 2×16×16 cap: checked at the cap, timed at the latent, phases apart (text report)', async () => {
    const r = await tessera('bench', 'model', '--preset', 'wan-tiny', '--frames', '3', '--height', '18', '--width', '16', '--repeats', '1', '--warmup', '0', '--no-wall', '--no-ceiling');
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toContain('making wan-tiny with seeded random weights on the GPU (');
    expect(out).toContain('checking wan-tiny at the smaller latent 2×16×16 (128 tokens/item; the timed latent is 3×18×16): finite, deterministic, batch-consistent (3 forwards)…\n');
    expect(out).toContain('recording, tuning and compiling the step at latent 3×18×16…\n');
    expect(out).toContain('model wan-tiny f32 latent 3×18×16 (216 tokens/item), CFG batch 2  [');
    expect(out).toMatch(/^ {2}check at latents \[2,16,2,16,16\] \(smaller than the timed ones\): finite, bit-identical on a second forward, batch item 0 vs alone max \|err\| \S+ ≤ \S+; the timed output finite$/m);
    const ran = /^ {2}the check ran (\d+) of the timed step's (\d+) kernel variants( \(not: [^)]*\}(, [^)]*\})*\))?$/m.exec(out);
    expect(ran, out).not.toBeNull();
    expect(Number(ran![1])).toBeLessThanOrEqual(Number(ran![2]));
    expect(Number(ran![1])).toBeGreaterThan(0);
    expect(ran![3] === undefined).toBe(ran![1] === ran![2]);
    expect(out).toMatch(/^ {2}phases: weights \d+\.\d s \(made on the GPU\), check \d+\.\d s \(3 forwards\), record \d+\.\d s, tune \d+\.\d s, compile \d+\.\d s, timed \d+\.\d s \(0 warm-up \+ 1 repeat\)$/m);
    expect(out).toMatch(/latents \[2,16,3,18,16\], text \[2,8,64\]/);
  });

  it('dit-tiny checked at its timed latent: the text report says the check includes recording, tuning and compiling (no 0.0 s phases)', async () => {
    const r = await tessera('bench', 'model', '--preset', 'dit-tiny', '--repeats', '1', '--warmup', '0', '--no-wall', '--no-ceiling');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}phases: weights \d+\.\d s \(made on the GPU\), check \d+\.\d s \(3 forwards, incl\. recording, tuning and compiling the timed plan\), timed \d+\.\d s \(0 warm-up \+ 1 repeat\)$/m);
    expect(r.stdout).not.toMatch(/record \d|tune \d|compile \d/);
  });

  it('a non-finite timed output (TESSERA_TEST_NAN_TIMED_OUTPUT) is a WrongResultError: exit 1, no time, no JSON', async () => {
    const r = await tesseraCli(['bench', 'model', '--preset', 'dit-tiny', ...QUICK], { env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', TESSERA_TEST_NAN_TIMED_OUTPUT: '1' } });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').pop()).toBe("tessera: error: WrongResultError: model dit-tiny f32 latent 16×16 (64 tokens/item), CFG batch 2: the timed forward's output has a non-finite value (NaN) at flat index 0. Refusing to report a time.");
    expect(r.stdout.trim()).toBe('');
  });

  describe('--max-memory limits the timed plan\'s tuning', () => {
    // tuning on (not the suite's TESSERA_TUNE=off) with a fresh cache: the timed latent's GEMM buckets (M512) are new
    const cache = mkdtempSync(join(tmpdir(), 'tessera-bench-budget-'));
    afterAll(() => rmSync(cache, { recursive: true, force: true }));
    it('wan-tiny 3×18×16 under 3000 KiB: the timed plan\'s buckets are skipped with the numbers, nothing is cached, peak within the budget', async () => {
      const { TESSERA_TUNE: _t, ...rest } = process.env;
      const env = { ...rest, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...sameMesaCache(), XDG_CACHE_HOME: cache };
      const r = await tesseraCli(['bench', 'model', '--preset', 'wan-tiny', '--frames', '3', '--height', '18', '--width', '16', '--max-memory', '3000KiB', ...QUICK], { env });
      expect(r.code, r.stderr).toBe(0);
      // the weights (1.3 MiB) and the timed plan (1.5 MiB) leave ~0.1 MiB; each bucket's candidates need MiBs
      expect(r.stderr).toMatch(/^\[tessera\] tuning gemm f32 M512 N512 K128 SWG\d+x\d skipped, keeping the heuristic \S+: its scratch needs [\d.]+ MiB, above the [\d.]+ KiB the budget \(maxMemory\) leaves$/m);
      for (const l of r.stderr.split('\n').filter((x) => x.includes(' M512 '))) expect(l).toContain(' skipped, keeping the heuristic ');
      expect(existsSync(join(cache, 'tessera'))).toBe(false);
      const j = lastJson(r.stdout);
      expect(j.budget_bytes).toBe(3000 * 1024);
      expect(j.peak_bytes as number).toBeLessThanOrEqual(3000 * 1024);
      // --frames/--height/--width override the preset's latent; the text is the preset's (a 1×8×8 run of its own checked these)
      expect(j.family).toBe('wan');
      expect(j.latent).toEqual([2, 16, 3, 18, 16]);
      expect(j.text).toEqual([2, PRESETS['wan-tiny']!.textLen, 64]);
      expect(j.tokens_per_item).toBe(216);
      expect(j.seconds_per_step as number).toBeGreaterThan(0);
    });
  });
});

// The refusals run through the CLI's entry in this process (main(), whose return the launcher exits with): each
// comes before any weight is made, where a spawn only added two Node starts and a module load. One is also spawned
// ('spawned: …'), for the exit status and the streams a shell sees.
const refused = (...args: string[]) => tesseraInProcess(args);

describe('tessera bench model refusals (before any weight is made)', () => {
  it.skipIf(!hasGpu)('wan-1.3b over a budget: LimitError with the numbers and the f16 way out, no JSON', async () => {
    const r = await refused('bench', 'model', '--preset', 'wan-1.3b', '--max-memory', '4GiB', '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/LimitError: the model's weights need 5\.\d+ GiB in f32 \(30 layers, dim 1536\), above the budget of 4\.00 GiB/);
    expect(r.stderr).toMatch(/--dtype f16/);
    expect(r.stdout.trim()).toBe('');
  });

  it.skipIf(!hasGpu)('a latent whose activations exceed the budget: the run is refused with what would fit', async () => {
    const r = await refused('bench', 'model', '--preset', 'dit-tiny', '--height', '512', '--width', '512', '--max-memory', '100MiB', '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/LimitError: this run \(latents \[2,4,512,512\], f32\) needs [\d.]+ MiB on the GPU .* above the budget of 100\.0 MiB/);
    expect(r.stderr).toMatch(/tokens per item fit/);
    expect(r.stdout.trim()).toBe('');
  });

  const usage: [string[], RegExp][] = [
    [['bench', 'model'], /give exactly one of --preset NAME .* or --model DIR/],
    [['bench', 'model', '--preset', 'dit-tiny', '--model', 'x'], /give exactly one of/],
    [['bench', 'model', '--preset', 'nope'], /--preset must be one of dit-s-2/],
    [['bench', 'model', '--model', 'tests/fixtures/wan_small/model'], /--model DIR: give --height and --width/],
    [['bench', 'model', '--model', 'x'], /--model x: no such folder/],
    [['bench', 'model', '--preset', 'dit-tiny', '--height', '0'], /--height must be between 1 and 4096/],
    [['bench', 'gemm', '--m', '8', '--k', '8', '--n', '8', '--preset', 'dit-tiny'], /--preset does not apply \(it is a flag of bench model\/plan\)/],
  ];
  it('spawned: a usage refusal exits 2, its line on stderr, nothing on stdout', async () => {
    const r = await tessera('bench', 'model', '--preset', 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tessera: error: UsageError: --preset must be one of dit-s-2/);
    expect(r.stdout.trim()).toBe('');
  });
  for (const [args, msg] of usage) {
    it(`usage: ${args.slice(1).join(' ')}`, async () => {
      const r = await refused(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stdout.trim()).toBe('');
    });
  }

  // exact lines: the flags named, UsageError (exit 2), no raw op error ("patchify: …"); a preset's before the GPU, a folder's before its weights
  const G = 'tests/fixtures';
  const lines: [string[], string, boolean][] = [
    [['bench', 'model', '--preset', 'dit-tiny', '--height', '7', '--width', '8'], 'tessera: error: UsageError: tessera bench model: latent 7×8 must be divisible by the patch size 2×2 of dit-tiny: --height 7 is not a multiple of 2', true],
    [['bench', 'model', '--preset', 'wan-tiny', '--height', '5', '--width', '9'], 'tessera: error: UsageError: tessera bench model: latent 8×5×9 must be divisible by the patch size 1×2×2 of wan-tiny: --height 5 is not a multiple of 2, --width 9 is not a multiple of 2', true],
    [['bench', 'model', '--model', `${G}/wan_small/model`, '--frames', '2', '--height', '5', '--width', '8'], `tessera: error: UsageError: tessera bench model: latent 2×5×8 must be divisible by the patch size 1×2×2 of ${G}/wan_small/model: --height 5 is not a multiple of 2`, true],
    [['bench', 'model', '--preset', 'dit-tiny', '--frames', '3'], 'tessera: error: UsageError: tessera bench model: --frames applies to video models; dit-tiny is a DiT (image latents, no frames): leave out --frames', true],
    [['bench', 'model', '--model', `${G}/dit_small/model`, '--frames', '2', '--height', '8', '--width', '8'], `tessera: error: UsageError: tessera bench model: --frames applies to video models; ${G}/dit_small/model is a DiT (image latents, no frames): leave out --frames`, true],
    [['bench', 'model', '--preset', 'dit-tiny', '--text-len', '5'], 'tessera: error: UsageError: tessera bench model: --text-len applies to Wan and Latte models; dit-tiny is a DiT (class-conditioned, no text input): leave out --text-len', true],
    [['bench', 'model', '--model', `${G}/dit_small/model`, '--height', '8', '--width', '8', '--text-len', '5'], `tessera: error: UsageError: tessera bench model: --text-len applies to Wan and Latte models; ${G}/dit_small/model is a DiT (class-conditioned, no text input): leave out --text-len`, true],
    [['bench', 'model', '--model', '/nonexistent', '--height', '4', '--width', '4'], 'tessera: error: UsageError: --model /nonexistent: no such folder', true],
    [['bench', 'model', '--model', 'models/tessera-shapes', '--height', '4', '--width', '4'], 'tessera: error: UsageError: --model models/tessera-shapes: a pipeline folder (it has model_index.json); give --model models/tessera-shapes/transformer', true],
    [['bench', 'model', '--model', 'package.json', '--height', '4', '--width', '4'], 'tessera: error: UsageError: --model package.json: not a folder (expected a diffusers model folder with config.json)', true],
  ];
  for (const [args, line, can] of lines) {
    it.skipIf(!can)(`usage line: ${args.slice(1).join(' ')}`, async () => {
      const r = await refused(...args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n').pop()).toBe(line);
      expect(r.stderr).not.toMatch(/patchify|ModelFolderError|making /);
    });
  }

  it('--help names the step and the flags', async () => {
    const r = await refused('bench', 'model', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tessera bench model --preset NAME \| --model DIR/);
    for (const f of ['--frames', '--height', '--width', '--max-memory', '--json', '--trace', '--repeats', '--warmup', '--dtype']) expect(r.stdout).toContain(f);
  });
});

describe.skipIf(!hasGpu)('the pre-timing check fails honestly', () => {
  it('a per-item offset bug (norm modulation reading the other batch item) fails batch consistency', async () => {
    // item 0 of a batch of 2 reads item 1's shift/scale; a batch of 1 is unaffected (a mutant
    // kept as a fixture file, not a string edit of the shipped kernel)
    setKernelSource('norm', readFileSync(new URL('../fixtures/kernels/norm_mod_row_reversed.wgsl', import.meta.url), 'utf8'));
    invalidateKernel(gpu!, 'norm');
    try {
      const model = await loadRandomModel(PRESETS['dit-tiny']!.config, { gpu: gpu!, seed: 0 });
      try {
        const latent = { frames: 1, height: 8, width: 8 };
        const c = await checkModel(model, stepInputs(model, latent, { textLen: 0, batch: 1 }), stepInputs(model, latent, { textLen: 0, batch: 2 }));
        expect(c.finite).toBe(true);
        expect(c.deterministic).toBe(true);
        expect(c.ok).toBe(false);
        expect(c.batchMaxAbsErr).toBeGreaterThan(c.batchBound);
        expect(() => assertModelCheck('dit-tiny', c)).toThrow(WrongResultError);
        expect(() => assertModelCheck('dit-tiny', c)).toThrow(/item 0 of the CFG batch differs .* Refusing to report a time/);
      } finally {
        model.destroy();
      }
    } finally {
      setKernelSource('norm', null);
      invalidateKernel(gpu!, 'norm');
    }
  });

  it('the same model with the correct kernel passes (so the failure above is the bug, not the check)', async () => {
    const model = await loadRandomModel(PRESETS['dit-tiny']!.config, { gpu: gpu!, seed: 0 });
    try {
      const latent = { frames: 1, height: 8, width: 8 };
      const c = await checkModel(model, stepInputs(model, latent, { textLen: 0, batch: 1 }), stepInputs(model, latent, { textLen: 0, batch: 2 }));
      expect(c.ok, c.failure).toBe(true);
    } finally {
      model.destroy();
    }
  });
});
