// The profiler page's prompt box in headless Chromium (WebGPU on SwiftShader, no f16): the trained
// tessera-shapes pipeline served with the page (dist/models/tessera-shapes) generates a clip from a typed
// prompt, the page plays it and draws one timeline with all three stages (text encoder, transformer,
// VAE decode); a prompt outside the model's vocabulary runs with the note; a kernel edit re-generates and
// visibly changes the clip, and reverting restores it.
//
// Needs /usr/bin/chromium (`TESSERA_SETUP_BROWSER=1 bash scripts/setup.sh`); skipped with a warning without
// it outside CI. 2 denoising steps, 1 timed repeat and tune=off (no autotuner candidates to compile) keep
// each page run short on SwiftShader; what is left is SwiftShader compiling each kernel variant once.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemo } from '../../scripts/build-demo.js';
import { serveStatic } from '../../scripts/serve-demo.js';
import type { PageInfo } from '../../examples/profiler/main.js';
import { browserTestsRun, browserTimeout, launchChromium, PAGE_WAIT_MS, PageWatch } from '../helpers/browser.js';

const run = browserTestsRun(import.meta.filename);

describe.skipIf(!run)('profiler page: prompt → clip with the trained pipeline (headless Chromium)', () => {
  let server: Awaited<ReturnType<typeof serveStatic>>;
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;
  const info = () => page.evaluate(() => (globalThis as unknown as { tessera: PageInfo }).tessera);
  /** `waits` page waits: the first run compiles every kernel of three models on SwiftShader (7 min at a load average of 20–25 on 2 cores, 2 waits of PAGE_WAIT_MS). */
  const settle = async (what: string, waits = 1) => {
    await watch.untilState(`the page after ${what}`, ['done', 'error'], waits * PAGE_WAIT_MS);
    const i = await info();
    if (i.state === 'error') throw new Error(`page failed during ${what}: ${i.error}`);
    return i;
  };

  beforeAll(async () => {
    const build = await buildDemo({ quiet: true, outDir: mkdtempSync(join(tmpdir(), 'tessera-demo-')) }); // own folder: the browser files build in parallel
    server = await serveStatic(build.dir);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    watch = new PageWatch(page, { consoleErrors: true });
    await watch.within('loading the profiler page', (timeout) => page.goto(`${server.url}?autorun=0&tune=off&steps=2&repeats=1`, { timeout }));
    await settle('loading');
  }, browserTimeout(2));

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('generates from a typed prompt (outside the vocabulary: runs, with the note), plays the clip, and times all three stages', async () => {
    await page.fill('#prompt', 'a purple circle moving right');
    await page.click('#run-prompt');
    const i = await settle('generating from the prompt', 2);
    expect(i.mode).toBe('prompt');
    expect(i.prompt).toBe('a purple circle moving right');
    // the clip: 9 decoded frames of 32×32 in the canvas, as a GIF link (and an MP4 where WebCodecs can encode)
    expect(i.decoded).toBe(true);
    expect([i.frames, ...i.frameSize!]).toEqual([9, 32, 32]);
    expect(i.frameHash).toMatch(/^[0-9a-f]{8}$/);
    expect(await page.getAttribute('#gif', 'href')).toMatch(/^blob:/);
    expect(i.mp4 !== null || (i.mp4Error ?? '').length > 0).toBe(true);
    // the note for words the model was not trained on
    expect(i.vocabNote).toMatch(/trained only on .*it does not know: purple/);
    expect(await page.isVisible('#vocab-note')).toBe(true);
    expect(await page.textContent('#vocab-note')).toContain('purple');
    expect(i.judge).toBeNull(); // not a prompt of the training set's form
    // one timeline with the three stages, each with profiled dispatches drawn as bars
    expect(i.stages.map((s) => s.stage)).toEqual(['text_encoder', 'transformer', 'vae']);
    expect(i.stages.map((s) => s.name)).toEqual(['text encoder (UMT5EncoderModel)', 'transformer (WanTransformer3DModel)', 'VAE decode (AutoencoderKLWan)']);
    for (const s of i.stages) {
      expect(s.dispatches, s.name).toBeGreaterThan(0);
      expect(s.bars, s.name).toBe(s.dispatches);
      expect(s.wallMs, s.name).toBeGreaterThan(0);
    }
    expect(i.dispatches).toBe(i.stages.reduce((a, s) => a + s.dispatches, 0));
    expect(await page.$$eval('#timeline rect.stage', (rs) => rs.map((r) => r.getAttribute('data-stage')))).toEqual(['text_encoder', 'transformer', 'vae']);
    expect(await page.$$eval('#timeline rect.bar', (rs) => rs.length)).toBe(i.dispatches);
    expect(await page.textContent('#timeline')).toContain('VAE decode (AutoencoderKLWan)');
    // the kernel list counts every stage's dispatches: the VAE's conv is there
    expect(await page.textContent('#kernel-list li[data-kernel="conv"]')).toMatch(/\d+×/);
    expect(watch.errors).toEqual([]);
  }, browserTimeout(2));

  it('a kernel edit re-generates the clip and changes it; revert restores it', async () => {
    const before = await info();
    await page.click('#kernel-list li[data-kernel="norm"]');
    const original = await page.inputValue('#source');
    // every norm output doubled (a fixture mutant of kernels/norm.wgsl): the text encoder's and the transformer's norms
    await page.fill('#source', readFileSync(new URL('../fixtures/kernels/norm_output_doubled.wgsl', import.meta.url), 'utf8'));
    await page.click('#recompile');
    const edited = await settle('recompiling norm');
    expect(edited.lastCompile).toMatchObject({ kernel: 'norm', ok: true });
    expect(edited.runs).toBe(before.runs + 1);
    expect(edited.mode).toBe('prompt');
    expect(edited.frames).toBe(9);
    expect(edited.frameHash).not.toBe(before.frameHash);
    expect(edited.stages.map((s) => s.stage)).toEqual(['text_encoder', 'transformer', 'vae']);
    await page.click('#revert');
    const reverted = await settle('reverting norm');
    expect(await page.inputValue('#source')).toBe(original);
    expect(reverted.frameHash).toBe(before.frameHash);
    expect(watch.errors).toEqual([]);
  }, browserTimeout(2));
});
