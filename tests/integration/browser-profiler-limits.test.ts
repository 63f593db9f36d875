// The profiler page's fit check and Stop button, in headless Chromium (WebGPU on SwiftShader, 1 GiB bindings), after
// session 23's bench review (#1): `?preset=wan-14b` began making 53 GiB of random weights on a 23 GiB host, and
// `latent=64x256x256` ran on with no way out but a reload. Now both are refused before any upload in one status line
// with the figures and what to change, against the page's budget (maxMemory in the address here, so that the test
// does not depend on navigator.deviceMemory); a run can be stopped, and the page is usable after. And (#11) a preset
// run at guidance 1 no longer makes the library note that its negative embeddings are unused.
// One page: the refusals cost no GPU work; the stopped run and the run after it are wan-tiny at 2×8×8 (~30 CPU s),
// then a prompt run stopped in its denoising loop.
// Needs /usr/bin/chromium, as browser-profiler.test.ts.
import { describe, expect, it } from 'vitest';
import { browserTestsRun, browserTimeout, profilerSession } from '../helpers/browser.js';

const run = browserTestsRun(import.meta.filename);

describe.skipIf(!run)('browser profiler: the fit check before a preset run, and the Stop button', () => {
  // autorun: the page starts the wan-14b run at once, and must refuse it before uploading anything
  const s = profilerSession('?preset=wan-14b&steps=1&repeats=1&tune=off&maxMemory=4GiB');
  const { info } = s;
  const consoleLines: string[] = [];

  it('wan-14b is refused before any upload: one status line with its weights, the budget and what to change; the page stays usable', async () => {
    s.page.on('console', (m) => consoleLines.push(m.text()));
    await s.watch.untilState('the wan-14b run on load', ['error', 'done', 'stopped']);
    const i = await info();
    const status = (await s.page.textContent('#status')) ?? '';
    expect(status).toMatch(
      /^Not run: wan-14b, latents \d+×\d+×\d+: the model's weights need 53\.23 GiB in f32 \(40 layers, dim 5120\), above the budget of 4\.00 GiB \(maxMemory\): a larger maxMemory budget or a smaller preset\. Budget 4\.00 GiB: maxMemory=4GiB in the address\. Nothing was uploaded\.$/,
    );
    expect(i).toMatchObject({ state: 'error', error: status, uploads: 0, runs: 0, budget: { bytes: 4 * 2 ** 30, source: 'maxMemory=4GiB in the address' } });
    expect(await s.page.isVisible('#error'), 'the status line says it; no second copy below').toBe(false);
    expect(await s.page.isDisabled('#run')).toBe(false);
    expect(await s.page.isDisabled('#stop'), 'nothing to stop').toBe(true);
  });

  it('an oversize latent (wan-tiny at 64×256×256) is refused before any upload: the clip, its bytes and the frames that fit', async () => {
    await s.page.selectOption('#preset', 'wan-tiny');
    await s.page.fill('#latent', '64x256x256');
    await s.page.click('#run');
    await s.watch.untilState('the 64×256×256 run', ['error', 'done', 'stopped']);
    const i = await info();
    const status = (await s.page.textContent('#status')) ?? '';
    // the step's 2.72 GiB on the GPU (a CPU adapter) leaves room for 3 latent frames' clip (9 frames of 2048×2048)
    expect(status).toMatch(
      /^Not run: wan-tiny, latents 64×256×256: the decoded clip, sample \[1,3,253,2048,2048\], needs 31\.63 GiB on the host \(.*\) \+ the step's [\d.]+ GiB on the GPU \(a CPU adapter: the same memory\), above the budget of 4\.00 GiB: use at most 3 latent frames at this height×width or smaller latents, or a larger maxMemory budget \(\d+ bytes or more\)\. Budget 4\.00 GiB: maxMemory=4GiB in the address\. Nothing was uploaded\.$/,
    );
    expect(i).toMatchObject({ state: 'error', uploads: 0, runs: 0 });
  });

  it('Stop during a run: the page says where it stopped and is usable again; the next run completes; no negative-embeds note at guidance 1', async () => {
    await s.page.fill('#latent', '2x8x8');
    await s.page.fill('#steps', '200');
    await s.page.click('#run');
    expect(await s.page.isDisabled('#stop')).toBe(false);
    // in the denoising loop (past step 1, which records the plan and compiles its kernels)
    await s.watch.within('the run reaching denoising step 3', (timeout) => s.page.waitForFunction(() => /denoising step ([3-9]|\d\d+)\/200/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout, polling: 250 }));
    await s.page.click('#stop');
    await s.watch.untilState('the stopped run', ['stopped', 'error', 'done']);
    const i = await info();
    const status = (await s.page.textContent('#status')) ?? '';
    expect(i.state).toBe('stopped');
    expect(status).toMatch(/^stopped: generate, before step \d+\/200: aborted \(the Stop button\); no run has finished yet$/);
    expect(i.stopped).toBe(status);
    expect(i).toMatchObject({ runs: 0, uploads: 1, error: null });
    expect(await s.page.isDisabled('#run')).toBe(false);
    expect(await s.page.isDisabled('#stop')).toBe(true);

    // usable: the same model runs to the end (its weights are not made again)
    await s.page.fill('#steps', '1');
    await s.page.click('#run');
    const done = await s.settle('the run after the stopped one', 2);
    expect(done).toMatchObject({ state: 'done', runs: 1, uploads: 1 });
    expect(consoleLines.filter((l) => l.includes('negative_encoder_hidden_states unused')), 'the page passes negative embeddings only with CFG').toEqual([]);
    expect(s.watch.errors).toEqual([]);
  }, browserTimeout(3));

  it('Stop during a prompt run (the pipeline loaded, in its denoising loop): stopped where the library says, the last run kept', async () => {
    await s.page.fill('#prompt-steps', '20');
    await s.page.click('#run-prompt');
    await s.watch.within('the prompt run reaching denoising step 3', (timeout) => s.page.waitForFunction(() => /denoising step ([3-9]|1\d)\/20/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout, polling: 250 }));
    await s.page.click('#stop');
    await s.watch.untilState('the stopped prompt run', ['stopped', 'error', 'done']);
    const i = await info();
    const status = (await s.page.textContent('#status')) ?? '';
    expect(status).toMatch(/^stopped: Pipeline\.generate, .*: aborted \(the Stop button\); the timeline and tables are still run 1's$/);
    expect(i).toMatchObject({ state: 'stopped', runs: 1, mode: 'preset', modelError: null });
    expect(await s.page.isDisabled('#run-prompt')).toBe(false);
    expect(await s.page.isHidden('#model-error'), 'stopped, not refused: nothing under the model box').toBe(true);
    expect(s.watch.errors).toEqual([]);
  }, browserTimeout(2));
});
