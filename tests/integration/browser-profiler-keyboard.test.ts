// The browser profiler (examples/profiler) used the way a demanding user does, in headless Chromium
// (WebGPU on SwiftShader): keyboard only (the kernel list is a listbox, Ctrl+Enter recompiles, the
// table headers sort with Enter), an edit compiled before any run (no TypeError, nothing runs), a
// narrow window (no sideways scrolling of the page), what the adapter cannot run (no shader-f16 on
// SwiftShader: said on the page and beside each kernel with F16 code), the address holding the run's
// settings (a reload repeats it), the step's FLOP count equal to `tessera bench model`'s for the same
// workload, and concurrency: a recompile pressed twice and another kernel opened while it runs apply
// the edit once, to the kernel it was pressed for, with the results dimmed (aria-busy) until it ends;
// and leaving the page with a kernel edit asks first.
//
// One page, wan-tiny at 2×8×8 latents, 1 step, 1 timed repeat, CFG (guidance 2, batch 2: bench model's
// batch): three runs in all (the run, a recompile, a revert). Needs /usr/bin/chromium, as browser-profiler.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { browserTestsRun, browserTimeout, profilerSession } from '../helpers/browser.js';
import { tesseraCli } from '../helpers/cli.js';

const run = browserTestsRun(import.meta.filename);
const QUERY = '?autorun=0&repeats=1&tune=off&preset=wan-tiny&latent=2x8x8&steps=1&guidance=2';
const DOUBLED_NORM = readFileSync(new URL('../fixtures/kernels/norm_output_doubled.wgsl', import.meta.url), 'utf8');

describe.skipIf(!run)('browser profiler: keyboard, narrow window, features, address, FLOPs, concurrency', () => {
  const s = profilerSession(QUERY, { loaded: 'loading (autorun=0)' });
  const { info, settle } = s;
  /** The focused kernel-list entry's kernel, else the focused element's id. */
  const focused = () => s.page.evaluate(() => {
    const e = document.activeElement as HTMLElement | null;
    return (e?.tagName === 'LI' ? e.dataset.kernel : e?.id) ?? '';
  });

  it('before any run the kernels are listed and editable by keyboard; Ctrl+Enter compiles an edit that the next run will use, and nothing runs', async () => {
    const list = s.page.locator('#kernel-list');
    expect(await list.getAttribute('role')).toBe('listbox');
    const names = await s.page.$$eval('#kernel-list li', (lis) => lis.map((li) => (li as HTMLElement).dataset.kernel!));
    expect(names.length).toBeGreaterThan(10);
    // one entry in the tab order, the open one
    expect(await s.page.$$eval('#kernel-list li[tabindex="0"]', (lis) => lis.map((li) => li.getAttribute('aria-selected')))).toEqual(['true']);
    await s.page.focus('#kernel-list li[tabindex="0"]');
    await s.page.keyboard.press('End');
    expect(await focused()).toBe(names.at(-1));
    expect(await s.page.textContent('#kernel-name')).toBe(`kernels/${names.at(-1)}.wgsl`);
    await s.page.keyboard.press('Home');
    await s.page.keyboard.press('ArrowDown');
    expect(await focused()).toBe(names[1]);
    expect(await s.page.getAttribute(`#kernel-list li[data-kernel="${names[1]}"]`, 'aria-selected')).toBe('true');
    const norm = names.indexOf('norm');
    for (let k = 1; k < norm; k++) await s.page.keyboard.press('ArrowDown');
    expect(await s.page.textContent('#kernel-name')).toBe('kernels/norm.wgsl');
    await s.page.keyboard.press('Enter');
    expect(await focused()).toBe('source');
    const shipped = await s.page.inputValue('#source');
    // a code editor's keys, no keyboard trap: Tab indents, Enter keeps the indent, Shift+Tab outdents, Escape then Tab leaves
    await s.page.$eval('#source', (t) => (t as HTMLTextAreaElement).setSelectionRange(0, 0));
    await s.page.keyboard.press('Tab');
    await s.page.keyboard.type('x');
    await s.page.keyboard.press('Enter');
    await s.page.keyboard.type('y');
    expect(await s.page.inputValue('#source')).toBe(`  x\n  y${shipped}`);
    await s.page.keyboard.press('Shift+Tab');
    expect(await s.page.inputValue('#source')).toBe(`  x\ny${shipped}`);
    expect(await focused()).toBe('source');
    await s.page.keyboard.press('Escape');
    await s.page.keyboard.press('Tab');
    expect(await focused()).toBe('recompile');
    await s.page.keyboard.press('Shift+Tab');
    expect(await focused()).toBe('source');
    await s.page.keyboard.press('Escape');
    await s.page.keyboard.press('Shift+Tab'); // out backwards: the open kernel's entry in the list
    expect(await focused()).toBe('norm');
    await s.page.keyboard.press('Enter');
    expect(await focused()).toBe('source');
    await s.page.keyboard.press('Control+z'); // undo, key by key, back to the shipped text
    for (let k = 0; k < 8 && (await s.page.inputValue('#source')) !== shipped; k++) await s.page.keyboard.press('Control+z');
    expect(await s.page.inputValue('#source')).toBe(shipped);
    await s.page.fill('#source', DOUBLED_NORM);
    await s.page.keyboard.press('Control+Enter');
    const i = await settle('Ctrl+Enter before any run');
    expect(i.error).toBeNull();
    expect(i.runs, 'no run to repeat: nothing ran').toBe(0);
    expect(i.lastCompile).toMatchObject({ kernel: 'norm', ok: true, errors: [] });
    expect(await s.page.textContent('#compile-log')).toContain('nothing re-run: there is no run yet to repeat. The next run uses the edited norm');
    await s.page.click('#revert');
    const r = await settle('reverting before any run');
    expect(r.runs).toBe(0);
    expect(await s.page.inputValue('#source')).toBe(shipped);
    expect(s.watch.errors).toEqual([]);
  }, browserTimeout(2));

  it('every control has a name of its own (the two steps and seed fields say which run they are for)', async () => {
    const names = await s.page.$$eval('input, select, textarea, button', (els) =>
      els.map((e) => {
        const labelled = (e as HTMLInputElement).labels?.[0]?.textContent ?? '';
        return { id: e.id, name: (e.getAttribute('aria-label') ?? (e.tagName === 'BUTTON' ? e.textContent : labelled) ?? '').trim() };
      }),
    );
    expect(names.length).toBeGreaterThan(10);
    for (const n of names) expect(n.name, `#${n.id} has no name`).not.toBe('');
    const seen = new Map<string, string>();
    for (const n of names) {
      expect(seen.get(n.name), `#${n.id} and #${seen.get(n.name)} are both "${n.name}"`).toBeUndefined();
      seen.set(n.name, n.id);
    }
  });

  it('what this adapter cannot run is said on the page (SwiftShader: no shader-f16)', async () => {
    const i = await info();
    const adapter = (await s.page.textContent('#adapter')) ?? '';
    await s.page.click('#kernel-list li[data-kernel="norm"]');
    const features = (await s.page.textContent('#kernel-features')) ?? '';
    if (i.features.includes('shader-f16')) {
      expect(adapter).not.toContain('no shader-f16');
      expect(features).not.toContain('shader-f16');
    } else {
      expect(adapter).toContain('no shader-f16: every kernel runs in f32 (the F16 variants cannot run here)');
      expect(await s.page.isVisible('#kernel-features')).toBe(true);
      // norm's spec needs shader-f16 for F16 and subgroups for SG; SwiftShader has subgroups
      expect(features).toBe(i.features.includes('subgroups') ? 'This adapter lacks shader-f16: F16 is always off here, so the #if F16 code is neither run nor compile-checked.' : 'This adapter lacks shader-f16 and subgroups: F16 and SG are always off here, so the #if F16 / #if SG code is neither run nor compile-checked.');
    }
  });

  it('runs from the keyboard; the address then holds the run; the step does the FLOPs tessera bench counts; headers sort with Enter', async () => {
    expect(await s.page.getAttribute('#preset-box', 'open'), 'a preset in the address opens its box').not.toBeNull();
    await s.page.focus('#run');
    await s.page.keyboard.press('Enter');
    const i = await settle('a preset run started with Enter', 2);
    expect(i.runs).toBe(1);
    expect(i.runSettings).toMatchObject({ mode: 'preset', preset: 'wan-tiny', steps: 1, guidance: 2 });
    const q = new URL(s.page.url()).searchParams;
    expect(Object.fromEntries(['preset', 'latent', 'steps', 'guidance', 'seed', 'repeats', 'tune'].map((k) => [k, q.get(k)]))).toEqual({ preset: 'wan-tiny', latent: '2x8x8', steps: '1', guidance: '2', seed: '0', repeats: '1', tune: 'off' });
    expect(q.has('prompt')).toBe(false);
    // the same workload in Node: bench model's CFG batch 2 at the preset's text length
    const bench = await tesseraCli(['bench', 'model', '--preset', 'wan-tiny', '--frames', '2', '--height', '8', '--width', '8', '--repeats', '1', '--warmup', '0', '--no-wall', '--no-ceiling', '--no-tune', '--quiet', '--json'], { timeoutMs: 240_000 });
    expect(bench.code, bench.stderr).toBe(0);
    const b = JSON.parse(bench.stdout.trim().split('\n').at(-1)!) as { flops: number; bytes: number; dispatches: number; batch: number };
    expect(b.batch).toBe(2);
    const caption = (await s.page.textContent('#timeline-caption')) ?? '';
    // the total is the table's (the sum of the dispatches' medians; one repeat here), said so
    expect(caption).toMatch(/^wan-tiny, batch 2 \(CFG\): \d+ dispatches \([\d.]+ MFLOP, [\d.]+ MiB moved\), [\d.]+ ms GPU \(the sum of its dispatches in one timed run: the table's total\)/);
    expect(Number(/(\d+) dispatches/.exec(caption)![1])).toBe(b.dispatches);
    expect(caption).toContain(`(${(b.flops / 1e6).toFixed(2)} MFLOP, ${(b.bytes / 2 ** 20).toFixed(2)} MiB moved)`);
    // the units of every column
    expect(await s.page.$$eval('#kernels thead th', (ths) => ths.map((th) => th.textContent))).toEqual(['kernel', 'calls', 'total ms', 'mean ms', '% step', 'GFLOP/s', 'GB/s']);
    // sorting by keyboard: the calls header, Enter, Enter
    await s.page.focus('#kernels thead th:nth-child(2)');
    await s.page.keyboard.press('Enter');
    expect(await s.page.getAttribute('#kernels thead th:nth-child(2)', 'aria-sort')).toBe('descending');
    await s.page.keyboard.press('Enter');
    expect(await s.page.getAttribute('#kernels thead th:nth-child(2)', 'aria-sort')).toBe('ascending');
    expect(await s.page.getAttribute('#share-head', 'title')).toMatch(/^100 % = [\d.]+ ms, one forward step \(the sum of its dispatches in one timed run\)$/);
    expect(s.watch.errors).toEqual([]);
  }, browserTimeout(2) + 240_000);

  it('a recompile pressed twice while another kernel is opened runs once, with the edited kernel, and shows its result with it; results are dimmed meanwhile', async () => {
    const before = await info();
    await s.page.click('#kernel-list li[data-kernel="norm"]');
    await s.page.fill('#source', DOUBLED_NORM);
    // in one task: press Recompile, press it again, open rope (the recompile is then compile-checking norm)
    const during = await s.page.evaluate(() => {
      document.getElementById('recompile')!.click();
      document.getElementById('recompile')!.click();
      document.querySelector<HTMLElement>('#kernel-list li[data-kernel="rope"]')!.click();
      return { busy: document.querySelector('main')!.getAttribute('aria-busy'), disabled: (document.getElementById('recompile') as HTMLButtonElement).disabled, open: document.getElementById('kernel-name')!.textContent };
    });
    expect(during).toEqual({ busy: 'true', disabled: true, open: 'kernels/rope.wgsl' });
    const i = await settle('a recompile of norm with rope opened meanwhile', 2);
    expect(i.runs, 'one re-run for two presses').toBe(before.runs + 1);
    expect(i.lastCompile).toMatchObject({ kernel: 'norm', ok: true });
    expect(i.lastCompile!.wrong).toMatch(/^the output is WRONG: (\d+) of \1 dispatches of norm differ/);
    // the clip was re-generated with the edited norm (not its cached shipped pipelines)
    expect(i.frameHash).not.toBe(before.frameHash);
    // the result is shown with norm's text, in red
    expect(await s.page.textContent('#kernel-name')).toBe('kernels/norm.wgsl');
    expect(await s.page.inputValue('#source')).toBe(DOUBLED_NORM);
    expect(await s.page.isVisible('#compile-log')).toBe(true);
    expect(await s.page.getAttribute('#status', 'class')).toBe('bad');
    expect(await s.page.getAttribute('main', 'aria-busy')).toBe('false');
    await s.page.click('#revert');
    const r = await settle('reverting norm', 2);
    expect(r.runs).toBe(i.runs + 1);
    expect(r.frameHash).toBe(before.frameHash);
    expect(s.watch.errors).toEqual([]);
  }, browserTimeout(4));

  it('a narrow window (360 px) does not scroll sideways: tables scroll in their sections, the editor stacks', async () => {
    await s.page.setViewportSize({ width: 360, height: 800 });
    try {
      const [scroll, client] = await s.page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      expect(scroll).toBeLessThanOrEqual(client);
      const src = (await s.page.locator('#source').boundingBox())!;
      expect(src.x + src.width).toBeLessThanOrEqual(360);
      // the timeline is redrawn for the new width (600 px at the least, scrolled in its box)
      const svgWidth = () => s.page.$eval('#timeline svg', (e) => Number(e.getAttribute('width')));
      await s.page.waitForFunction(() => Number(document.querySelector('#timeline svg')!.getAttribute('width')) === 600, null, { timeout: 10_000 });
      await s.page.setViewportSize({ width: 1280, height: 900 });
      const host = await s.page.$eval('#timeline', (e) => e.clientWidth);
      await s.page.waitForFunction((w) => Number(document.querySelector('#timeline svg')!.getAttribute('width')) === w, host - 2, { timeout: 10_000 });
      expect(await svgWidth()).toBeGreaterThan(600);
    } finally {
      await s.page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('leaving the page with a kernel edit asks first (beforeunload cancelled); without one it does not', async () => {
    // headless Chromium does not show the prompt: the page's handler is asked through a cancelable event
    const asks = () => s.page.evaluate(() => {
      const e = new Event('beforeunload', { cancelable: true });
      window.dispatchEvent(e);
      return e.defaultPrevented;
    });
    const shipped = await s.kernelSource('norm');
    expect(await asks(), 'no edit').toBe(false);
    await s.page.fill('#source', `${shipped}\n// an idea\n`);
    expect(await asks(), 'an unsaved edit').toBe(true);
    await s.page.fill('#source', shipped);
    expect(await asks(), 'typed back').toBe(false);
  });
});
