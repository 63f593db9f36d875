// The browser profiler as a new user trips over it (issue 14), in headless Chromium (WebGPU on
// SwiftShader): sortable tables, timeline zoom/pan, a WGSL error on a repeated line (`}`) shown
// at that line, an edited `override` default that the ops set themselves reported as ignored with
// a before/after and its spread, an old error box cleared by a good run, the kernel's variant
// list following a preset switch, and a page without WebGPU whose buttons say they cannot run.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDemo } from '../../scripts/build-demo.js';
import { serveStatic } from '../../scripts/serve-demo.js';
import type { PageInfo } from '../../examples/profiler/main.js';
import { browserTestsRun, browserTimeout, launchChromium, PageWatch } from '../helpers/browser.js';

const run = browserTestsRun(import.meta.filename);

describe.skipIf(!run)('browser profiler: what a new user trips over', () => {
  let server: Awaited<ReturnType<typeof serveStatic>>;
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;
  const info = (p: Page = page) => p.evaluate(() => (globalThis as unknown as { tessera: PageInfo }).tessera);
  const idle = async (what: string, allowError = false) => {
    await watch.untilState(`the page after ${what}`, ['done', 'error']);
    const i = await info();
    if (i.state === 'error' && !allowError) throw new Error(`page failed during ${what}: ${i.error}`);
    return i;
  };
  const selectKernel = async (name: string) => {
    await page.click(`#kernel-list li[data-kernel="${name}"]`);
    return page.inputValue('#source');
  };

  beforeAll(async () => {
    const build = await buildDemo({ quiet: true, outDir: mkdtempSync(join(tmpdir(), 'tessera-demo-')) }); // own folder: the browser files build in parallel
    server = await serveStatic(build.dir);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    watch = new PageWatch(page);
    await watch.within('loading the profiler page', (timeout) => page.goto(`${server.url}?preset=wan-tiny&latent=2x8x8&steps=1&repeats=3`, { timeout }));
    await idle('the first run');
  }, browserTimeout(2));

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('the per-kernel table sorts by a clicked column, then the other way', async () => {
    const calls = () => page.$$eval('#kernels tbody tr', (trs) => trs.map((tr) => Number((tr as HTMLTableRowElement).cells[1]!.textContent)));
    await page.click('#kernels thead th:nth-child(2)');
    const desc = await calls();
    expect(desc.length).toBeGreaterThan(3);
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
    expect(await page.getAttribute('#kernels thead th:nth-child(2)', 'aria-sort')).toBe('descending');
    await page.click('#kernels thead th:nth-child(2)');
    const asc = await calls();
    expect(asc).toEqual([...desc].sort((a, b) => a - b));
    expect(await page.getAttribute('#kernels thead th:nth-child(2)', 'aria-sort')).toBe('ascending');
    // rows still select their kernel after sorting
    await page.click('#kernels tbody tr >> nth=0');
    expect(await page.textContent('#kernel-name')).toMatch(/^kernels\/\w+\.wgsl$/);
  });

  it('the timeline zooms with the wheel, pans by dragging and resets on double-click', async () => {
    const i0 = await info();
    expect(i0.timelineView).toBeNull();
    const box = (await page.locator('#timeline svg').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.6, box.y + 10);
    for (let k = 0; k < 4; k++) await page.mouse.wheel(0, -200);
    const zoomed = (await info()).timelineView!;
    expect(zoomed).not.toBeNull();
    const width = zoomed[1] - zoomed[0];
    const bars = (await info()).bars;
    expect(bars).toBeLessThan(i0.bars); // bars outside the view are not drawn
    // drag to the right: the view moves towards earlier times by the same width
    await page.mouse.move(box.x + box.width * 0.6, box.y + 10);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + 10, { steps: 4 });
    await page.mouse.up();
    const panned = (await info()).timelineView!;
    expect(panned[1] - panned[0]).toBeCloseTo(width, 6);
    expect(panned[0]).toBeLessThan(zoomed[0]);
    await page.mouse.dblclick(box.x + box.width * 0.5, box.y + 10);
    const reset = await info();
    expect(reset.timelineView).toBeNull();
    expect(reset.bars).toBe(i0.bars);
  });

  it('a WGSL error on a repeated line (`}`) is shown at that line, not the first `}` of the file', async () => {
    const src = await selectKernel('norm');
    const broken = `${src.replace(/\n$/, '')}\n}\n`; // one closing brace too many, at the end
    const lines = broken.split('\n');
    const at = lines.length - 1; // 1-based line of the extra brace
    expect(lines[at - 1]).toBe('}');
    const first = lines.indexOf('}') + 1;
    expect(first).toBeLessThan(at); // the text `}` occurs earlier too
    await page.fill('#source', broken);
    await page.click('#recompile');
    const i = await idle('a recompile with an extra brace');
    expect(i.lastCompile).toMatchObject({ kernel: 'norm', ok: false });
    expect(i.lastCompile!.errorLines).toContain(at);
    expect(i.lastCompile!.errorLines).not.toContain(first);
    expect(await page.textContent('#compile-log')).toContain(`kernels/norm.wgsl:${at}:`);
    await page.fill('#source', src); // back to the source in use (the failed one never ran)
  }, browserTimeout(1));

  it('an edited override default that every dispatch sets itself is reported as ignored, with before → after and the spread', async () => {
    const src = await selectKernel('norm');
    expect(src).toMatch(/^override WG: u32 = 128;$/m);
    const before = await info();
    await page.fill('#source', src.replace(/^override WG: u32 = 128;$/m, 'override WG: u32 = 256;'));
    await page.click('#recompile');
    const i = await idle('a recompile with a new override default');
    expect(i.runs).toBe(before.runs + 1);
    expect(i.lastCompile).toMatchObject({ kernel: 'norm', ok: true, ignoredOverrides: ['WG'] });
    const { before: b, after: a } = i.lastCompile!;
    for (const t of [b!, a!]) {
      expect(t.lo).toBeLessThanOrEqual(t.ms);
      expect(t.ms).toBeLessThanOrEqual(t.hi);
      expect(t.repeats).toBe(3);
    }
    const log = (await page.textContent('#compile-log')) ?? '';
    expect(log).toContain('override WG: the default is now 256 (was 128), but every dispatch of norm sets WG itself');
    expect(log).toContain('this edit changes nothing that runs');
    expect(log).toMatch(/norm per step: before [\d.]+ ms \([\d.]+–[\d.]+ over 3 repeats\) → after [\d.]+ ms \([\d.]+–[\d.]+ over 3 repeats\); /);
  }, browserTimeout(1));

  it("an old error box goes away when the next run succeeds; after switching preset the selected kernel's variants are the new model's", async () => {
    await selectKernel('norm');
    await page.fill('#latent', 'not-a-size');
    await page.click('#run');
    const bad = await idle('a run with a malformed latent size', true);
    expect(bad.state).toBe('error');
    expect(await page.isVisible('#error')).toBe(true);
    await page.selectOption('#preset', 'dit-tiny');
    await page.fill('#latent', '1x8x8');
    await page.click('#run');
    const ok = await idle('a run of dit-tiny');
    expect(ok.error).toBeNull();
    expect(await page.isVisible('#error')).toBe(false);
    const rows = await page.$$eval('#kernels tbody tr[data-family="norm"]', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.kernel!));
    expect(rows.length).toBeGreaterThan(0);
    const text = (await page.textContent('#kernel-variants')) ?? '';
    expect(text.replace(/^variants in this step: /, '').split(', ').sort()).toEqual(rows.sort());
    expect(watch.errors).toEqual([]);
  }, browserTimeout(2));

  it('without WebGPU the page says so and its buttons are disabled, saying why', async () => {
    const p = await browser.newPage();
    const w = new PageWatch(p);
    try {
      await p.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }));
      await w.within('loading the page without WebGPU', (timeout) => p.goto(server.url, { timeout }));
      await w.untilState('the page without WebGPU', ['error']);
      const i = await info(p);
      expect(i.error).toMatch(/no WebGPU \(navigator\.gpu\)/);
      expect(await p.isVisible('#error')).toBe(true);
      for (const id of ['run', 'recompile', 'revert']) {
        expect(await p.isDisabled(`#${id}`), id).toBe(true);
        expect(await p.getAttribute(`#${id}`, 'title')).toMatch(/no WebGPU device/);
      }
      expect(w.errors).toEqual([]);
    } finally {
      await p.close();
    }
  }, browserTimeout(1));
});
