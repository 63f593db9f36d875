// The profiler page (examples/profiler) after session 17's fresh-user review, in headless Chromium (WebGPU on
// SwiftShader): the timeline's bars, the Chrome trace's dur, the captions and the tables all give each
// dispatch's median (the bars and the trace drew one repeat: an adaln bar 9.45 ms beside a 0.084 ms median);
// the per-kernel table says what its 100 % is, section by section (one denoising step beside the whole encode
// and decode); kernel compilation is shown as it happens and counted in step 1's time; a kernel edit's check
// counts the dispatches it compared (the negative prompt's encode was not re-run: "all 22" of 27); a wrong edit
// is marked in the kernel list, a slower one is not shown in the "ok" green, Ctrl+Enter during a run says why
// nothing happens; an edited kernel's list row stays readable; a binding the device refuses is pointed at its
// declaration, not at `fn main`; a tiny kernel's work is not "0.00 MFLOP"; another model folder is loaded from a
// URL (and a bad one is refused in one line, the loaded pipeline kept) or picked on this computer; an unknown URL
// parameter is named, with the one meant.
//
// One page, the prompt box at 2 steps and 2 timed repeats (tune=off); a second page with no run yet (autorun=0,
// autotuned when a picked folder runs at 2 steps, 1 repeat); a third for the URL check (no run). The cases that
// can read one run read the same one (each page run costs ~18 CPU s, a page's first ~30).
// Needs /usr/bin/chromium, as browser-profiler.test.ts.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { browserTestsRun, browserTimeout, PAGE_WAIT_MS, PageWatch, profilerSession } from '../helpers/browser.js';
import type { PageInfo } from '../../examples/profiler/main.js';
import { verdictWords } from '../../src/eval/shapes-judge.js';

const run = browserTestsRun(import.meta.filename);
const QUERY = '?prompt=a%20red%20circle%20moving%20right&steps=2&repeats=2&tune=off';

interface TraceX {
  ph: string;
  name: string;
  tid: number;
  ts: number;
  dur: number;
  args: { shown?: string; median_ms?: number | null };
}

describe.skipIf(!run)("browser profiler: session 17's review (medians everywhere, shares, edits, model folders)", () => {
  const s = profilerSession(QUERY, { loaded: 'the prompt run on load' });
  const { info, settle } = s;
  const open = async (k: string) => {
    await s.page.click(`#kernel-list li[data-kernel="${k}"]`);
    return s.page.inputValue('#source');
  };

  // session 19 (page polish): the editor opened adaln while the kernel list, reordered by the run, began with conv.
  // First in this file: the later cases open kernels on this page, which keeps the editor on the one opened.
  it('S19: after a run the editor shows the kernel list\'s first entry, the one the list marks selected', async () => {
    const first = await s.page.$eval('#kernel-list li', (li) => (li as HTMLElement).dataset.kernel!);
    expect(first, 'the run reorders the list (most dispatched first)').not.toBe('adaln');
    expect(await s.page.textContent('#kernel-name')).toBe(`kernels/${first}.wgsl`);
    expect(await s.page.$$eval('#kernel-list li[aria-selected="true"]', (lis) => lis.map((li) => (li as HTMLElement).dataset.kernel))).toEqual([first]);
  });

  // session 19 (page polish): the per-kernel table of a prompt run opened all its ~90 rows (the page ~5300 px tall)
  it('S19: the per-kernel table shows its 12 slowest rows and says so beside the 100 %; "show all" shows every row and back', async () => {
    const rows = () => s.page.$$eval('#kernels tbody tr', (trs) => trs.map((tr) => ({ ms: Number(tr.children[2]!.textContent), shown: !(tr as HTMLElement).hidden && (tr as HTMLElement).offsetHeight > 0 })));
    let r = await rows();
    expect(r.length).toBeGreaterThan(12);
    const shown = r.filter((x) => x.shown);
    expect(shown).toHaveLength(12);
    const cut = Math.min(...shown.map((x) => x.ms));
    for (const x of r.filter((y) => !y.shown)) expect(x.ms, 'a hidden row is not slower than a shown one').toBeLessThanOrEqual(cut);
    expect(await s.page.isVisible('#kernels-top')).toBe(true);
    expect(await s.page.textContent('#kernels-shown')).toBe(`top 12 of ${r.length} kernels shown (the slowest by total ms); the % column and the 100 % above are of all ${r.length}`);
    expect(await s.page.textContent('#kernels-more')).toBe(`show all ${r.length} kernels`);
    const tall = () => s.page.$eval('#table-section', (e) => e.getBoundingClientRect().height);
    const short = await tall();
    await s.page.click('#kernels-more');
    r = await rows();
    expect(r.every((x) => x.shown)).toBe(true);
    expect(await s.page.textContent('#kernels-shown')).toBe(`all ${r.length} kernels shown`);
    expect(await tall()).toBeGreaterThan(short);
    await s.page.click('#kernels-more');
    expect((await rows()).filter((x) => x.shown)).toHaveLength(12);
    expect(await s.page.textContent('#kernels-more')).toBe(`show all ${r.length} kernels`);
  });

  // session 19 (page polish): "Kernels per stage and denoising step" listed all ~90 dispatches of the chosen stage
  it('S19: the stage table shows the 12 slowest dispatches in the order they ran, says so beside the stage\'s total, and shows all on request', async () => {
    const i = await info();
    expect(await s.page.inputValue('#step-pick')).toBe('step 1');
    const step1 = i.stepKernels.find((c) => c.stage === 'step 1')!;
    const rows = () => s.page.$$eval('#step-kernels tbody tr', (trs) => trs.map((tr) => ({ n: Number(tr.children[0]!.textContent), ms: Number(tr.children[3]!.textContent), shown: !(tr as HTMLElement).hidden && (tr as HTMLElement).offsetHeight > 0 })));
    let r = await rows();
    expect(r).toHaveLength(step1.dispatches);
    expect(r.length).toBeGreaterThan(12);
    const shown = r.filter((x) => x.shown);
    expect(shown).toHaveLength(12);
    expect(shown.map((x) => x.n), 'in the order they ran').toEqual([...shown.map((x) => x.n)].sort((a, b) => a - b));
    const cut = Math.min(...shown.map((x) => x.ms));
    for (const x of r.filter((y) => !y.shown)) expect(x.ms, `dispatch ${x.n} hidden`).toBeLessThanOrEqual(cut);
    // the stage's caption (the option) counts all its dispatches; the line beside it says how many are shown
    expect(await s.page.$eval('#step-pick', (e) => (e as HTMLSelectElement).selectedOptions[0]!.textContent)).toMatch(new RegExp(`^denoising step 1/2: ${r.length} dispatches, `));
    expect(await s.page.textContent('#step-kernels-shown')).toBe(`top 12 of ${r.length} dispatches shown (the slowest by median ms, in the order they ran); the stage's dispatches and ms above are of all ${r.length}`);
    await s.page.click('#step-kernels-more');
    r = await rows();
    expect(r.every((x) => x.shown)).toBe(true);
    expect(await s.page.textContent('#step-kernels-more')).toBe('show the top 12 only');
    await s.page.click('#step-kernels-more');
    expect((await rows()).filter((x) => x.shown)).toHaveLength(12);
    expect(await s.page.textContent('#step-kernels-more')).toBe(`show all ${r.length} dispatches`);
    expect(s.watch.errors).toEqual([]);
  });

  it("the packed timeline's bars, the trace's dur and the tooltip are each dispatch's median, as the tables; the trace is shown in ms", async () => {
    const i = await info();
    expect(i.timing).toBe('gpu-timestamps');
    expect(await s.page.textContent('#timeline-basis')).toBe("Bars: each dispatch's median over 2 repeats, as in the tables and the Chrome trace, end to end (gaps removed).");
    // the two widest bars: their widths are in the ratio of the medians their tooltips give
    const bars = await s.page.$$eval('#timeline rect.bar', (rs) => rs.map((r) => ({ i: Number(r.getAttribute('data-i')), w: Number(r.getAttribute('width')) })).sort((a, b) => b.w - a.w).slice(0, 2));
    const medianOf = async (k: number) => {
      await s.page.hover(`#timeline rect.bar[data-i="${k}"]`);
      return Number(/time\s+([\d.]+) ms median/.exec((await s.page.textContent('#tip')) ?? '')![1]);
    };
    const [a, b] = [await medianOf(bars[0]!.i), await medianOf(bars[1]!.i)];
    expect(bars[0]!.w / bars[1]!.w).toBeCloseTo(a / b, 1);
    // the trace: every X event's dur is its median_ms, events end to end within a track; displayTimeUnit ms
    const trace = (await s.page.evaluate(async () => (await fetch((document.getElementById('trace') as HTMLAnchorElement).href)).json())) as { displayTimeUnit: string; traceEvents: TraceX[] };
    expect(trace.displayTimeUnit).toBe('ms');
    const xs = trace.traceEvents.filter((e) => e.ph === 'X');
    expect(xs.length).toBeGreaterThan(100);
    // both rounded to the ns by chromeTrace (f1441f0), each on its own: they may differ by 1 ns (0.001 µs)
    for (const e of xs) expect(e.dur).toBeCloseTo(e.args.median_ms! * 1000, 2);
    expect(xs[0]!.args.shown).toMatch(/^dur is this dispatch's median over [23] repeats \(median_ms\), as the tables show; dispatches laid end to end/);
    const first = xs.filter((e) => e.tid === 1);
    for (let k = 1; k < first.length; k++) expect(first[k]!.ts).toBeCloseTo(first[k - 1]!.ts + first[k - 1]!.dur, 2);
    expect(s.watch.errors).toEqual([]);
  });

  it("the captions' totals are the tables' sums, and the per-kernel table says what its 100 % is, stage by stage", async () => {
    const sum = (id: string) => s.page.$$eval(`#${id} tbody tr`, (trs) => trs.reduce((a, tr) => a + Number(tr.children[2]!.textContent), 0));
    const vae = (await s.page.textContent('#vae-caption')) ?? '';
    const m = /, ([\d.]+) ms GPU \(the sum of each dispatch's median over 2 repeats: the table's total, 100 % of "% decode"\)/.exec(vae);
    expect(m, vae).not.toBeNull();
    expect(Number(m![1])).toBeCloseTo(await sum('vae-kernels'), 1);
    const base = (await s.page.textContent('#share-base')) ?? '';
    const b = /^100 % = ([\d.]+) ms: the whole text encoder \(UMT5EncoderModel\) ([\d.]+) ms \+ one denoising step of 2 \(transformer \(WanTransformer3DModel\)\) ([\d.]+) ms \+ the whole VAE decode \(AutoencoderKLWan\) ([\d.]+) ms/.exec(base);
    expect(b, base).not.toBeNull();
    expect(Number(b![1])).toBeCloseTo(await sum('kernels'), 1);
    expect(Number(b![2]) + Number(b![3]) + Number(b![4])).toBeCloseTo(Number(b![1]), 1);
    expect(await s.page.getAttribute('#share-head', 'title')).toBe(base);
    expect(await s.page.isVisible('#share-base')).toBe(true);
  });

  it('counts the kernel compilation of the run by stage, and says step 1 includes it', async () => {
    const i = await info();
    expect(i.kernelWork.transformer?.compiled, JSON.stringify(i.kernelWork)).toBeGreaterThan(0);
    expect(i.lastProgress).toMatch(/^compiling kernel pipelines \d+\/\d+ \((text encoder|transformer|vae)\)$/);
    expect(i.tableNote).toContain(`step 1 `);
    expect(i.tableNote).toMatch(new RegExp(`step 1 [\\d.]+ s \\(with recording the step and compiling ${i.kernelWork.transformer!.compiled} kernel pipelines\\)`));
    expect(await s.page.isVisible('#progress')).toBe(false); // cleared when the run ended
  });

  it("a tiny kernel's work is in a unit that shows it; the editor's variants line says it covers the run's three stages", async () => {
    const tiny = await s.page.$$eval('#timeline rect.bar', (rs) => rs.map((r) => Number(r.getAttribute('data-i'))));
    let shown = '';
    for (const k of tiny.slice(0, 12)) {
      await s.page.hover(`#timeline rect.bar[data-i="${k}"]`);
      shown = (await s.page.textContent('#tip')) ?? '';
      if (/\((?:[\d.]+ kFLOP|\d+ FLOP)\)/.test(shown)) break;
    }
    expect(shown).toMatch(/GFLOP\/s .*\((?:[\d.]+ kFLOP|\d+ FLOP)\)/);
    expect(shown).not.toContain('0.00 MFLOP');
    expect(shown).toMatch(/GB\/s .*\([\d.]+ (KiB|MiB) read and written\)/);
    await open('norm');
    expect(await s.page.textContent('#kernel-variants')).toMatch(/^variants in this run's text encoder, denoising step and VAE decode: norm/);
    expect(await s.page.textContent('#timeline-caption')).toMatch(/MiB moved/);
  });

  it('a binding the device refuses is reported at its declaration, not at fn main', async () => {
    const src = await open('norm');
    const lines = src.split('\n');
    const main = lines.findIndex((l) => l.startsWith('fn main(@builtin(global_invocation_id)'));
    expect(main).toBeGreaterThan(0);
    lines.splice(main + 2, 0, '  let extra_v = extra[0];');
    const decl = lines.findIndex((l) => l.includes('@binding('));
    lines.splice(decl, 0, '@group(0) @binding(9) var<storage, read> extra: array<f32>;');
    await s.page.fill('#source', lines.join('\n'));
    await s.page.click('#recompile');
    const i = await settle('an edit with a binding the layout lacks');
    expect(i.lastCompile).toMatchObject({ kernel: 'norm', ok: false, errorLines: [decl + 1] });
    expect(i.lastCompile!.errors[0]).toMatch(new RegExp(`^kernels/norm\\.wgsl:${decl + 1}:1: pipeline creation failed: .*binds @group\\(0\\) @binding\\(0\\) to @binding\\(5\\) only`));
    await s.page.fill('#source', src);
  }, browserTimeout(1));

  // one edit, correct and slower, for both the check's count and the "not in the ok green" verdict (they were two
  // edits, a comment-only one and a slower one, each re-run and reverted: two runs more)
  it('an edit check compares every dispatch of the kernel in the run (the negative prompt\'s encode too); a correct edit that is slower is not shown in the "ok" green; a wrong edit is marked in the list; Ctrl+Enter meanwhile says why nothing starts', async () => {
    const src = await open('norm');
    const listed = parseInt((await s.page.textContent('#kernel-list li[data-kernel="norm"] span:last-child'))!, 10);
    expect(listed).toBeGreaterThan(0);
    const lines = src.split('\n');
    const main = lines.findIndex((l) => l.startsWith('fn main(@builtin(global_invocation_id)'));
    // the same result, much more work (a uniform loop whose sum is never negative)
    lines.splice(main + 2, 0, '  var waste = 0.0;', '  for (var k = 0u; k < p.cols * 300u; k++) { waste += f32(k & 7u); }', '  if (waste < 0.0) { return; }');
    await s.page.fill('#source', lines.join('\n'));
    await s.page.click('#recompile');
    const slow = await settle('recompiling norm with wasted work', 2);
    const log = (await s.page.textContent('#compile-log')) ?? '';
    expect(log).toContain(`checked: all ${listed} dispatches of norm match the shipped kernel's output`);
    expect(slow.lastCompile!.wrong).toBeUndefined();
    expect(log).toMatch(/slower by [\d.]+ % \(ranges do not overlap\)/);
    expect(await s.page.getAttribute('#compile-log', 'class')).toBe('slower');
    expect(await s.page.$eval('#compile-log', (e) => getComputedStyle(e).color)).not.toBe('rgb(31, 122, 56)');
    expect(await s.page.textContent('#compile-status')).toBe(`correct, but slower — run ${slow.runs}`);
    // the edited row: the row's own colours (not the "edited" badge's white on orange), and its ✎
    const row = await s.page.$eval('#kernel-list li[data-kernel="norm"]', (li) => ({ cls: li.className, color: getComputedStyle(li).color, bg: getComputedStyle(li).backgroundColor, after: getComputedStyle(li, '::after').content }));
    expect(row.cls).toContain('edited');
    expect(row.color).not.toBe('rgb(255, 255, 255)');
    expect(row.bg).not.toBe('rgb(178, 107, 0)');
    expect(row.after).toBe('"✎"');

    const before = await info();
    await s.page.fill('#source', readFileSync(new URL('../fixtures/kernels/norm_output_doubled.wgsl', import.meta.url), 'utf8'));
    await s.page.click('#recompile');
    await s.page.waitForFunction(() => document.body.dataset.state === 'running');
    await s.page.focus('#source');
    await s.page.keyboard.press('Control+Enter');
    expect(await s.page.textContent('#compile-status')).toBe('not compiled: a run is in progress; press Ctrl+Enter again when it has ended');
    const w = await settle('recompiling norm with every output doubled');
    expect(w.lastCompile!.wrong).toMatch(/^the output is WRONG/);
    expect(w.runs, 'Ctrl+Enter during the run started nothing').toBe(before.runs + 1);
    const li = await s.page.$eval('#kernel-list li[data-kernel="norm"]', (e) => ({ cls: e.className, title: e.getAttribute('title'), after: getComputedStyle(e, '::after').content }));
    expect(li.cls).toContain('wrong');
    expect(li.after).toBe('"✎ ✗"');
    expect(li.title).toContain('the edit in use computes a WRONG result');
    expect(await s.page.textContent('#kernel-edited')).toBe('edited: WRONG result');
    await s.page.click('#revert');
    await settle('reverting norm');
    expect(await s.page.getAttribute('#kernel-list li[data-kernel="norm"]', 'class')).not.toMatch(/wrong|edited/);
    expect(s.watch.errors).toEqual([]);
  }, browserTimeout(5));

  it('loads a model folder from a URL (a folder picked during its run is refused in one line, not kept for the next run; the picker is disabled meanwhile); a folder that is not one is refused in one line and the loaded pipeline stays', async () => {
    await s.page.click('#model-box summary');
    await s.page.fill('#model-url', 'models/nope/');
    await s.page.click('#model-load');
    await s.watch.untilState('loading a folder that is not there', ['done', 'error']);
    const bad = await info();
    expect(bad.modelError).toMatch(/^Not loaded: models\/nope\/: .*model_index\.json/);
    expect(bad.modelError!.split('\n')).toHaveLength(1);
    expect(await s.page.isVisible('#model-error')).toBe(true);
    expect(bad.model).toBe('tessera-shapes, served with this page');
    // the refused folder's own console lines (the two 404s and the PipelineError) are expected here; the tests after
    // this one check that nothing else is logged, so they leave the list
    const expected = s.watch.errors.splice(0);
    expect(expected.length).toBeGreaterThan(0);
    for (const e of expected) expect(e).toMatch(/404 \(Not Found\)|models\/nope\/model_index\.json: missing/);

    // a folder picked during this run (the picker disabled; files set anyway, as a script can, fire its change event)
    // is refused and not kept for the next run (it was a case of its own with two runs more)
    const before = await info();
    await s.page.fill('#model-url', 'models/tessera-shapes/');
    await s.page.click('#model-load');
    await s.page.waitForFunction(() => document.body.dataset.state === 'running');
    expect(await s.page.isDisabled('#model-pick')).toBe(true);
    await s.page.setInputFiles('#model-pick', fileURLToPath(new URL('../../models/tessera-shapes', import.meta.url)));
    expect(await s.page.textContent('#model-error')).toBe('Not loaded: a run is in progress; choose the model again when it has ended.');
    const i = await settle('a prompt run on the folder at a URL, with a folder picked meanwhile', 2);
    expect(i.runs).toBe(before.runs + 1);
    expect(i.model).toBe('models/tessera-shapes/');
    expect(i.modelError).toBeNull();
    expect(await s.page.isVisible('#model-error')).toBe(false);
    expect(await s.page.isDisabled('#model-pick')).toBe(false);
    expect(await s.page.textContent('#model-name')).toBe('models/tessera-shapes/');
    expect(new URL(s.page.url()).searchParams.get('model')).toBe('models/tessera-shapes/');
    expect(i.mode).toBe('prompt');
    expect(i.frames).toBe(9);
    await s.page.click('#run-prompt');
    const next = await settle('the next prompt run');
    expect(next.model, 'the folder picked during the run is not the next run\'s model').toBe(i.model);
    expect(s.watch.errors).toEqual([]);
  }, browserTimeout(4));

  // A second page (autorun=0; tune left at its default, auto) for what needs a page with no run yet: the kernel
  // list before any run, a folder picked on this computer before any run, and that first run's kernel-work lines as
  // they change (it autotunes). They were three pages, two of them with a first run each (every kernel compiled
  // again), and the picked folder had a run of its own on the first page.
  const fresh = {} as { page: Page; watch: PageWatch };

  it(`before any run the kernel list says nothing is "unused", nor the editor "not dispatched"`, async () => {
    const page = (fresh.page = await s.browser.newPage());
    const watch = (fresh.watch = new PageWatch(page, { consoleErrors: true }));
    // every change of the status line, with the progress line as it is then (observed from the page's start; read
    // by the kernel-work case below)
    await page.addInitScript(() => {
      const seen: { status: string; progress: string }[] = [];
      const progressSeen = new Set<string>();
      (globalThis as unknown as { statusLog: typeof seen; progressSeen: Set<string> }).statusLog = seen;
      (globalThis as unknown as { progressSeen: Set<string> }).progressSeen = progressSeen;
      new MutationObserver(() => {
        const st = document.getElementById('status')?.textContent ?? '';
        const pr = document.getElementById('progress');
        const progress = pr && !pr.hidden ? (pr.textContent ?? '') : '';
        if (progress) progressSeen.add(progress.replace(/ \d+\/\d+ /, ' '));
        if (seen.at(-1)?.status !== st) seen.push({ status: st, progress });
      }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['hidden'] });
    });
    // "a green triangle moving up" (a held-out pair) at 2 steps: the judge finds no shape (in the CLI demo too:
    // a frame with no bright pixel, another with 11 % of them); one timed repeat: no check on this page compares repeats
    // model=… in the address: the picked folder's run must take it out (a picked folder has no address)
    await page.goto(`${s.server.url}?autorun=0&steps=2&repeats=1&prompt=a%20green%20triangle%20moving%20up&model=models/tessera-shapes/`);
    await watch.untilState('the page with autorun=0', ['done']);
    const list = await page.$$eval('#kernel-list li', (lis) => lis.map((li) => [li.className, li.children[1]!.textContent, li.getAttribute('title')] as const));
    expect(list.length).toBeGreaterThan(5);
    for (const [cls, count, title] of list) {
      expect(cls).not.toContain('unused');
      expect(count).toBe('');
      expect(title).toBe('no run yet: the first run counts the dispatches of each kernel');
    }
    // nor does the editor say of the open kernel that the model does not dispatch it
    expect(await page.textContent('#kernel-variants')).toBe('no run yet: the first run shows the variants it dispatches (an edit now is compile-checked, and the next run uses it)');
  }, browserTimeout(1));

  it('loads a model folder picked on this computer (webkitdirectory), read through mapFolder; picked before any run (autorun=0) it is the first run\'s model; before the script has run, the picker is disabled as the buttons are', async () => {
    // the page as parsed, before main.ts runs (JavaScript off): a folder picked then had no handler and was dropped
    const bare = await s.browser.newContext({ javaScriptEnabled: false });
    try {
      const p = await bare.newPage();
      await p.goto(`${s.server.url}?autorun=0`);
      for (const id of ['run', 'run-prompt', 'model-load', 'model-served', 'model-pick']) expect(await p.isDisabled(`#${id}`), `#${id} before the script runs`).toBe(true);
    } finally {
      await bare.close();
    }
    const { page, watch } = fresh;
    expect(await page.isDisabled('#model-pick')).toBe(false);
    expect(new URL(page.url()).searchParams.get('model'), 'the address names a model folder before the pick').toBe('models/tessera-shapes/');
    // the folder itself, as a user picks it: the repository's tessera-shapes (no files.json: the picked files are the list)
    await page.setInputFiles('#model-pick', fileURLToPath(new URL('../../models/tessera-shapes', import.meta.url)));
    await watch.within(
      'a prompt run (it autotunes) on a folder picked before any run',
      (timeout) => page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? '') && (globalThis as unknown as { tessera: PageInfo }).tessera.runs > 0, null, { timeout, polling: 250 }),
      2 * PAGE_WAIT_MS,
    );
    const i = await s.info(page);
    expect(i.error).toBeNull();
    expect(i.runs).toBe(1);
    expect(i.mode).toBe('prompt');
    expect(i.model).toMatch(/^tessera-shapes \(picked: \d+ files\)$/);
    expect(i.modelError).toBeNull();
    expect(i.frames).toBe(9);
    expect(new URL(page.url()).searchParams.has('model'), 'a picked folder has no address').toBe(false);
    expect(watch.errors).toEqual([]);
  }, browserTimeout(3));

  // session 19's review (finding 2): "autotuning gemm …: candidate 2/2" stayed under the status through all the
  // denoising steps after the tuning had ended, until the decode
  it('S19: the kernel-work line is cleared when its work ends and at each stage and denoising step; the judge says in words why it read no shape', async () => {
    const { page, watch } = fresh;
    const i = await s.info(page);
    const log = await page.evaluate(() => (globalThis as unknown as { statusLog: { status: string; progress: string }[] }).statusLog);
    const kinds = await page.evaluate(() => [...(globalThis as unknown as { progressSeen: Set<string> }).progressSeen]);
    // the kernel work this run showed: pipelines compiling (since 11a7b34 the embedded pipeline's first run tunes
    // nothing: its text work runs over the real rows, below the tuner's 2^24-FLOP floor)
    expect(kinds.some((k) => k.startsWith('compiling ')), kinds.join('\n')).toBe(true);
    const phases = log.filter((e) => /^(encoding "|denoising|decoding with|profiling)/.test(e.status));
    expect(phases.map((e) => e.status)).toEqual(expect.arrayContaining(['denoising step 1/2…', 'denoising step 2/2…', 'decoding with AutoencoderKLWan…']));
    // at each new stage or step the line was cleared; what it shows then is work of that stage still under way
    // (a count short of its total: a finished count is cleared), never the stage or step before's
    const stageOf = (status: string) => (status.startsWith('encoding') ? 'text encoder' : status.startsWith('decoding') ? 'vae' : 'transformer');
    for (const e of phases.filter((x) => x.progress)) {
      expect(e.progress, `under "${e.status}"`).not.toMatch(/\b(\d+)\/\1\b/);
      expect(e.progress, `under "${e.status}"`).toContain(`(${stageOf(e.status)}`);
    }
    expect(await page.isVisible('#progress')).toBe(false);
    // the judge's line (finding 8) says in words why it read no shape, as the demo does
    expect(i.judge?.colour, JSON.stringify(i.judge)).toBeNull();
    const judge = (await page.textContent('#judge')) ?? '';
    expect(judge).toBe(`judge: ${verdictWords(i.judge!)}`);
    expect(judge).toMatch(/^judge: reads no shape: the clip's bright area \(a channel above 0\.35\) covers [\d.]+–[\d.]+ % of a frame, the judge reads a shape covering 0\.3–40 % of every frame \(cover [\d.]+\.\.[\d.]+ outside 0\.003\.\.0\.4\) — does not match the prompt$/);
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it('an unknown URL parameter stops the page in one line naming it, the one meant and the known ones', async () => {
    const page = await s.browser.newPage();
    const watch = new PageWatch(page);
    await page.goto(`${s.server.url}?prompt=a&step=2&tune=off`);
    await watch.untilState('the page with step=2', ['error']);
    const i = await s.info(page);
    expect(i.error).toMatch(/^UrlParameterError: step=… is not a parameter of this page \(did you mean steps\?\); it reads prompt, preset, latent, steps, guidance, seed, repeats, timing, tune, autorun, model, maxMemory\. Fix the URL and reload; nothing was run\.$/);
    expect(i.runs).toBe(0);
    await page.close();
  });

  // session 19's review (findings 15, 8): the frames strip was nine 32×32 frames at 1:1 (half size, in fact), the
  // timeline's last axis label was cut by the drawing's edge, the judge said "reads — — (cover …)"
  it("S19: the frames strip is enlarged by a whole factor, pixelated, and fits the page; no axis label is cut; the judge line is in words", async () => {
    const strip = await s.page.$eval('#strip', (c) => {
      const cv = c as HTMLCanvasElement;
      const r = cv.getBoundingClientRect();
      const sec = document.getElementById('frames-section')!.getBoundingClientRect();
      return { w: cv.width, h: cv.height, cssW: cv.clientWidth, cssH: cv.clientHeight, right: r.right, secRight: sec.right, rendering: getComputedStyle(cv).imageRendering, hidden: cv.hidden };
    });
    expect(strip.hidden).toBe(false);
    expect(strip.h).toBe(32); // the frames at 1:1 in the canvas
    const scale = strip.cssW / strip.w;
    expect(scale, JSON.stringify(strip)).toBeGreaterThanOrEqual(2);
    expect(Number.isInteger(scale), `scale ${scale}`).toBe(true);
    expect(strip.cssH / strip.h).toBeCloseTo(scale, 6);
    expect(strip.rendering).toBe('pixelated');
    expect(strip.right).toBeLessThanOrEqual(strip.secRight);
    // every axis label of the timeline lies inside its drawing
    const ticks = await s.page.$$eval('#timeline svg', (svgs) => {
      const svg = svgs[0]!;
      const box = svg.getBoundingClientRect();
      return Array.from(svg.querySelectorAll('text.tick')).map((t) => ({ text: t.textContent, left: t.getBoundingClientRect().left - box.left, right: box.right - t.getBoundingClientRect().right }));
    });
    expect(ticks.length).toBeGreaterThan(2);
    for (const t of ticks) {
      expect(t.left, t.text!).toBeGreaterThanOrEqual(0);
      expect(t.right, t.text!).toBeGreaterThanOrEqual(0);
    }
    // the judge's line is its verdict in words, as the demo prints it
    const i = await info();
    expect(i.judge).not.toBeNull();
    const judge = (await s.page.textContent('#judge')) ?? '';
    expect(judge).toBe(`judge: ${verdictWords(i.judge!)}`);
    expect(judge).not.toMatch(/— —|reads — /);
  });

  // session 19's review (findings 1, 7): a folder that does not load relabelled the preset's results on the page
  // as the trained pipeline's, and its message (library advice, "use loadModel") stood twice, in the error box too
  it('S19: a folder that does not load leaves the results on the page and their captions as they were, and says so once, in the page\'s terms', async () => {
    await s.page.click('#preset-box summary');
    await s.page.selectOption('#preset', 'wan-tiny');
    await s.page.fill('#steps', '1');
    await s.page.fill('#guidance', '1');
    await s.page.click('#run');
    const ran = await settle('a wan-tiny preset run', 2);
    expect(ran.mode).toBe('preset');
    const shown = () =>
      s.page.evaluate(() => ({
        about: document.getElementById('frames-about')!.textContent,
        title: document.getElementById('timeline-title')!.textContent,
        caption: document.getElementById('frames-caption')!.textContent,
        random: !document.getElementById('random-note')!.hidden,
        steps: !document.getElementById('steps-section')!.hidden,
        judge: !document.getElementById('judge')!.hidden,
      }));
    const before = await shown();
    expect(before).toMatchObject({ title: 'Timeline of one forward step', random: true, steps: false, judge: false });
    expect(before.about).toContain('random weights');

    if (!(await s.page.$eval('#model-box', (d) => (d as HTMLDetailsElement).open))) await s.page.click('#model-box summary');
    await s.page.fill('#model-url', 'models/nope/');
    await s.page.click('#model-load');
    await s.watch.untilState('loading a folder that is not there, after a preset run', ['done', 'error']);
    const i = await info();
    expect(await shown()).toEqual(before);
    expect(i.mode).toBe('preset');
    expect(i.runs).toBe(ran.runs);
    expect(i.frameHash).toBe(ran.frameHash);
    // one line, under the model box only, saying what to give
    const line = (await s.page.textContent('#model-error')) ?? '';
    expect(await s.page.isVisible('#model-error')).toBe(true);
    expect(line).toMatch(/^Not loaded: models\/nope\/: no model_index\.json there \(\S+\/models\/nope\/model_index\.json: missing\); give the URL of the folder that holds model_index\.json \(a diffusers WanPipeline or LattePipeline folder\)$/);
    expect(line).not.toMatch(/loadModel|loadPipeline/);
    expect(await s.page.isVisible('#error')).toBe(false);
    expect(await s.page.textContent('#status')).toBe(`not loaded: see the line under the model box; the results below are still run ${ran.runs}'s`);
    const expected = s.watch.errors.splice(0);
    for (const e of expected) expect(e).toMatch(/404 \(Not Found\)|models\/nope\/model_index\.json: missing/);
  }, browserTimeout(3));

});
