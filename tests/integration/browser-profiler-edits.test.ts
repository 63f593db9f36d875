// The browser profiler (examples/profiler) after a user review, in headless Chromium (WebGPU on
// SwiftShader): a run reads its fields once, when its button is pressed, and a kernel-edit re-run
// repeats that run's settings; unsaved WGSL is kept per kernel; text after `#endif` is reported at its
// line of the edited file; Revert of an edit that never ran re-runs nothing and clears the status;
// the latents field is checked inline with the preset's rules; "Re-time only" (Ctrl+Shift+Enter) replays
// one kernel's dispatches without a new clip, and is refused in one line for a kernel the run does not use.
//
// One page, prompt runs of 1 step with 1 timed repeat (three of them: the run, a recompile, a revert);
// everything else runs nothing. Needs /usr/bin/chromium, as browser-profiler.test.ts.
import { describe, expect, it } from 'vitest';
import { browserTestsRun, browserTimeout, PageWatch, profilerSession } from '../helpers/browser.js';
import { presetNames } from '../../src/index.js';

const run = browserTestsRun(import.meta.filename);
const PROMPT = 'a red circle moving right';
const QUERY = `?autorun=0&repeats=1&tune=off&prompt=${encodeURIComponent(PROMPT)}`;

describe.skipIf(!run)('browser profiler: fields read once, drafts, directive errors, revert, latents', () => {
  const s = profilerSession(QUERY, { loaded: 'loading (autorun=0)' });
  const { info, settle, kernelSource: open } = s;

  it('a mistyped preset, tune mode or repeats count in the URL is refused in one line naming each, and nothing runs', async () => {
    const p = await s.browser.newPage();
    const w = new PageWatch(p);
    try {
      await w.within('loading the page with bad URL parameters', (timeout) => p.goto(`${s.server.url}?preset=wan-tinyy&tune=of&repeats=0`, { timeout }));
      await w.untilState('the page with bad URL parameters', ['error', 'done']);
      const i = await info(p);
      expect(i.state).toBe('error');
      expect(i.error).toBe(
        `UrlParameterError: preset="wan-tinyy" is not a preset; presets: ${presetNames().join(', ')}; tune="of" is not a tuning mode; expected off, cached, auto; ` +
          'repeats=0 is out of range; expected a whole number from 1 to 50 (default 5). Fix the URL and reload; nothing was run.',
      );
      expect(await p.textContent('#error')).toBe(i.error);
      expect(i.runs).toBe(0);
      expect(i.adapter, 'refused before asking for a GPU').toBeNull();
      for (const id of ['run', 'run-prompt', 'recompile', 'revert']) {
        expect(await p.isDisabled(`#${id}`), id).toBe(true);
        expect(await p.getAttribute(`#${id}`, 'title')).toBe('the URL parameters are invalid: see the message above');
      }
      expect(w.errors).toEqual([]);
    } finally {
      await p.close();
    }
  }, browserTimeout(1));

  it("latents are checked inline with the preset's rules, stated beside the field, before anything runs", async () => {
    await s.page.click('#preset-box summary');
    expect(await s.page.textContent('#latent-hint')).toBe('wan-tiny takes frames 1–64, height and width 2–256 in multiples of 2 (patch_size [1, 2, 2])');
    const cases: [string, string][] = [
      ['100000x100000x100000', 'latents: frames 100000 is too large: this page takes frames up to 64; latents: height 100000 is too large: this page takes height up to 256; latents: width 100000 is too large: this page takes width up to 256'],
      ['1x7x8', "latents: height 7 is not a multiple of 2 (wan-tiny's patch_size [1, 2, 2] must divide frames × height × width)"],
      ['0x8x8', 'latents: frames 0 is too small: at least 1'],
      ['not-a-size', 'latents: expected frames×height×width as three whole numbers, e.g. 4x16x16, got "not-a-size"'],
    ];
    const was = await s.page.inputValue('#latent');
    for (const [value, message] of cases) {
      await s.page.fill('#latent', value);
      await s.page.click('#run');
      const i = await settle(`a run with latents ${value}`);
      expect(i.inputError, value).toBe(`Not run: ${message}.`);
      expect(await s.page.textContent('#preset-input-error')).toBe(`Not run: ${message}.`);
      expect(await s.page.getAttribute('#latent', 'aria-invalid')).toBe('true');
      expect(i.error, 'not the global error box').toBeNull();
      expect(await s.page.isVisible('#error')).toBe(false);
      expect(i.runs, 'nothing ran').toBe(0);
    }
    await s.page.selectOption('#preset', 'dit-tiny');
    expect(await s.page.textContent('#latent-hint')).toBe('dit-tiny takes frames ignored (an image model; 1–64), height and width 2–256 in multiples of 2 (patch_size 2)');
    await s.page.selectOption('#preset', 'wan-tiny');
    await s.page.fill('#latent', was);
    expect(s.watch.errors).toEqual([]);
  });

  it('a prompt run uses the steps and seed of the click, though the fields change while the pipeline loads', async () => {
    await s.page.fill('#prompt-steps', '1');
    await s.page.fill('#prompt-seed', '3');
    // hold the pipeline's file list until the fields have changed: the page is then "loading the pipeline"
    let release!: () => void;
    const changed = new Promise<void>((r) => (release = r));
    await s.page.route('**/models/tessera-shapes/files.json', async (route) => {
      await changed;
      await route.continue();
    });
    await s.page.click('#run-prompt');
    await s.page.waitForFunction(() => document.getElementById('status')!.textContent!.startsWith('loading the tessera-shapes pipeline'), null, { timeout: 60_000 });
    await s.page.fill('#prompt-seed', '-1');
    await s.page.fill('#prompt-steps', '2');
    release();
    const i = await settle('a prompt run whose fields changed while it loaded', 2);
    await s.page.unroute('**/models/tessera-shapes/files.json');
    expect(i.runs).toBe(1);
    expect(i.runSettings).toEqual({ mode: 'prompt', prompt: PROMPT, steps: 1, seed: 3, wallClock: false });
    expect(await s.page.textContent('#frames-caption')).toMatch(/^"a red circle moving right", seed 3: .*, 1 steps,/);
    expect(i.inputError).toBeNull();
    expect(await s.page.textContent('#rerun-note')).toBe(`Recompile and Revert re-run run 1's settings ("${PROMPT}", 1 step, seed 3), not what the fields above hold now, so before → after compare the same work.`);
    expect(s.watch.errors).toEqual([]);
  }, browserTimeout(2));

  it("text after #endif is reported at that line of the edited file; Revert of the failed edit re-runs nothing and clears the status", async () => {
    const original = await open('norm');
    const lines = original.split('\n');
    const at = lines.indexOf('#endif') + 1; // 1-based
    expect(at).toBeGreaterThan(0);
    lines[at - 1] = '#endif }';
    await s.page.fill('#source', lines.join('\n'));
    await s.page.click('#recompile');
    const failed = await settle('a recompile with text after #endif');
    const message = `kernels/norm.wgsl:${at}: unexpected text after #endif: '}' (put it on a line of its own; only a // comment may follow #endif)`;
    expect(failed.lastCompile).toMatchObject({ kernel: 'norm', ok: false, errors: [message] });
    expect([...new Set(failed.lastCompile!.errorLines)]).toEqual([at]); // once per variant checked
    const log = (await s.page.textContent('#compile-log')) ?? '';
    expect(log).toContain(message);
    expect(log).not.toContain('prelude');
    // the caret is on that line
    const caretLine = await s.page.$eval('#source', (t) => (t as HTMLTextAreaElement).value.slice(0, (t as HTMLTextAreaElement).selectionStart).split('\n').length);
    expect(caretLine).toBe(at);
    expect(await s.page.textContent('#compile-status')).toBe('1 error(s)');
    expect(failed.runs).toBe(1);
    await s.page.click('#revert');
    const reverted = await settle('reverting the failed edit');
    expect(reverted.runs, 'the failed source never ran: nothing to re-time').toBe(1);
    expect(await s.page.inputValue('#source')).toBe(original);
    expect(await s.page.textContent('#compile-status')).toBe('');
    expect(await s.page.isVisible('#compile-log')).toBe(false);
    expect(reverted.lastCompile).toBeNull();
    expect(await s.page.textContent('#status')).toBe('reverted norm; nothing re-run: the last run (run 1) already used the shipped source');
    expect(reverted.drafts).toEqual([]);
    expect(s.watch.errors).toEqual([]);
  }, browserTimeout(1));

  it('an edit that compiles but whose pipeline the device refuses: one line at @workgroup_size naming the limit, its line once', async () => {
    const original = await open('norm');
    const lines = original.split('\n');
    const at = lines.indexOf('@compute @workgroup_size(WG)') + 1; // the first entry point (ROW_PER_THREAD, as the step's norms)
    expect(at).toBeGreaterThan(0);
    lines[at - 1] = '@compute @workgroup_size(WG, 32)';
    await s.page.fill('#source', lines.join('\n'));
    await s.page.click('#recompile');
    const failed = await settle('a recompile over the invocation limit');
    const errors = failed.lastCompile!.errors;
    expect(failed.lastCompile).toMatchObject({ kernel: 'norm', ok: false, errorLines: [at] });
    expect(errors.length).toBeGreaterThan(0);
    expect(new Set(errors).size).toBe(errors.length); // the same message from several variants is one line
    for (const e of errors) expect(e).toMatch(new RegExp(`^kernels/norm\\.wgsl:${at}:10: pipeline creation failed: The total number of workgroup invocations \\(\\d+\\) exceeds the maximum allowed \\(\\d+\\): this device's maxComputeInvocationsPerWorkgroup$`));
    expect(await s.page.textContent('#compile-log')).not.toContain('While calling');
    await s.page.click('#revert');
    await settle('reverting the refused edit');
    expect(await s.page.inputValue('#source')).toBe(original);
    expect(s.watch.errors).toEqual([]);
  }, browserTimeout(2));

  it('unsaved WGSL is kept per kernel when another kernel is opened, and marked in the list', async () => {
    const norm = await open('norm');
    const draft = `${norm}\n// my unsaved idea\n`;
    await s.page.fill('#source', draft);
    expect(await s.page.isVisible('#kernel-draft')).toBe(true);
    const rope = await open('rope');
    expect(rope).not.toBe(draft);
    expect(rope).toContain('fn ');
    expect((await info()).drafts).toEqual(['norm']);
    expect(await s.page.getAttribute('#kernel-list li[data-kernel="norm"]', 'class')).toMatch(/\bdraft\b/);
    expect(await s.page.textContent('#kernel-list li[data-kernel="norm"] span:first-child')).toBe('norm ●');
    expect(await s.page.getAttribute('#kernel-list li[data-kernel="norm"]', 'title')).toContain('unsaved edits (not compiled yet)');
    expect(await s.page.getAttribute('#kernel-list li[data-kernel="rope"]', 'class')).not.toMatch(/\bdraft\b/);
    expect(await open('norm')).toBe(draft);
    expect(await s.page.isVisible('#kernel-draft')).toBe(true);
    // typed back to the source in use: no draft any more
    await s.page.fill('#source', norm);
    expect((await info()).drafts).toEqual([]);
    expect(await s.page.isVisible('#kernel-draft')).toBe(false);
    expect(await s.page.textContent('#kernel-list li[data-kernel="norm"] span:first-child')).toBe('norm');
    expect(s.watch.errors).toEqual([]);
  });

  it("a kernel-edit re-run repeats the compared run's settings, not the fields' (invalid) values; Revert of an edit that ran re-times", async () => {
    expect(await s.page.inputValue('#prompt-seed')).toBe('-1'); // still as typed during the first run
    const src = await open('norm');
    expect(src).toMatch(/^override WG: u32 = 128;$/m);
    // a default every dispatch overrides: nothing that runs changes, the timings stay comparable
    await s.page.fill('#source', src.replace(/^override WG: u32 = 128;$/m, 'override WG: u32 = 256;'));
    await s.page.click('#recompile');
    const edited = await settle('recompiling norm');
    expect(edited.lastCompile).toMatchObject({ kernel: 'norm', ok: true });
    expect(edited.runs).toBe(2);
    expect(edited.runSettings).toEqual({ mode: 'prompt', prompt: PROMPT, steps: 1, seed: 3, wallClock: false });
    expect(edited.inputError).toBeNull();
    expect(await s.page.textContent('#compile-log')).toContain(`re-generated and re-timed with the settings of run 1 ("${PROMPT}", 1 step, seed 3), not what the fields hold now.`);
    expect(await s.page.textContent('#frames-caption')).toMatch(/seed 3: .*, 1 steps,/);
    await s.page.click('#revert');
    const reverted = await settle('reverting the edit that ran');
    expect(reverted.runs, 'the edit ran: the shipped source is re-timed').toBe(3);
    expect(reverted.runSettings).toEqual(edited.runSettings);
    expect(await s.page.inputValue('#source')).toBe(src);
    expect(await s.page.textContent('#status')).toBe('reverted norm; re-timed (run 3)');
    expect(s.watch.errors).toEqual([]);
  }, browserTimeout(2));

  it('Re-time only (Ctrl+Shift+Enter): the kernel replayed before → after, its table rows updated, no new clip; Revert puts the rows back; an unused kernel refused in one line', async () => {
    const was = await info();
    const unused = await s.page.$$eval('#kernel-list li.unused', (lis) => lis.map((li) => (li as HTMLElement).dataset.kernel!));
    expect(unused.length).toBeGreaterThan(0);
    await open(unused[0]!);
    await s.page.focus('#source');
    await s.page.keyboard.press('Control+Shift+Enter');
    const refused = await settle('re-timing a kernel the run does not use');
    const refusal = `Not re-timed: run ${was.runs} has no dispatch of ${unused[0]} to replay; "Recompile & re-time" compiles it and re-runs the clip. Nothing was compiled.`;
    expect(refused.lastRetime).toEqual({ kernel: unused[0], run: was.runs, refused: refusal });
    expect(await s.page.textContent('#compile-log')).toBe(refusal);
    expect(refused.runs).toBe(was.runs);

    // a no-op edit (a comment) of a kernel of the denoising step: replayed, checked, timed over 5 interleaved rounds
    const name = 'adaln'; // the transformer's only: the replay is of the denoising step
    const src = await open(name);
    const inRun = await s.page.$eval(`#kernel-list li[data-kernel="${name}"]`, (li) => li.textContent ?? '');
    const n = Number(/(\d+)×/.exec(inRun)?.[1]);
    expect(n).toBeGreaterThan(0);
    // the per-kernel table's total ms of the kernel's rows (one per variant)
    const rowsMs = () => s.page.$$eval('#kernels tbody tr', (trs, k) => trs.filter((tr) => (tr as HTMLElement).dataset.kernel!.replace(/[[{].*$/, '') === k).map((tr) => Number(tr.children[2]!.textContent)), name);
    const rowBefore = await rowsMs();
    expect(rowBefore.length).toBeGreaterThan(0);
    await s.page.fill('#source', `${src}\n// a comment: the same kernel\n`);
    await s.page.focus('#source');
    await s.page.keyboard.press('Control+Shift+Enter');
    const re = await settle('re-timing the edited kernel only');
    expect(re.runs, 'no new run').toBe(was.runs);
    expect(re.frameHash, 'the clip is not re-rendered').toBe(was.frameHash);
    const r = re.lastRetime!;
    expect(r).toMatchObject({ kernel: name, run: was.runs, rowsUpdated: n });
    expect(r.refused).toBeUndefined();
    expect(r.summary!.dispatches).toHaveLength(n);
    expect(r.summary!.total.before.repeats).toBe(5);
    expect(r.check).toMatchObject({ checked: n, wrong: [] });
    const log = (await s.page.textContent('#compile-log')) ?? '';
    expect(log).toContain(`the clip was NOT re-rendered (still run ${was.runs}'s`);
    expect(log).toContain(`re-timed only — the clip was NOT re-rendered: run ${was.runs}'s ${n} dispatch${n === 1 ? '' : 'es'} of ${name} replayed on their recorded inputs with the previous source and the edit, interleaved over 5 rounds (${r.timing === 'gpu-timestamps' ? 'GPU timestamps' : 'wall clock'}`);
    expect(log).toMatch(new RegExp(`${name}, its ${n} dispatch(es)? in total: before [\\d.]+ ms \\(round totals [\\d.]+–[\\d.]+\\) → after [\\d.]+ ms \\(round totals [\\d.]+–[\\d.]+\\) over 5 rounds; (the ranges overlap: no change beyond the run-to-run spread|(faster|slower) by [\\d.]+ % \\(ranges do not overlap\\))`));
    expect(log).toContain(`checked: all ${n} dispatches of ${name} match the shipped kernel's output`);
    expect(await s.page.isVisible('#retime-note')).toBe(true);
    expect(await s.page.textContent('#retime-note')).toContain(`not re-rendered`);
    expect(await s.page.textContent('#compile-status')).toMatch(new RegExp(`re-timed only \\(run ${was.runs}'s clip\\)$`));
    // the table's row is the edit's replayed medians: their sum, as the table rounds it
    const sum = r.summary!.dispatches.reduce((a, d) => a + d.after.ms, 0);
    expect((await rowsMs()).reduce((a, x) => a + x, 0)).toBeCloseTo(sum, 2);
    expect(await s.page.isVisible('#kernel-edited')).toBe(true);

    await s.page.click('#revert');
    const back = await settle('reverting the re-timed edit');
    expect(back.runs, 'the clip already used the shipped source: nothing re-run').toBe(was.runs);
    expect(await s.page.textContent('#status')).toBe(`reverted ${name}; nothing re-run: the last run (run ${was.runs}) already used the shipped source, and the table rows of ${name} show its times again`);
    expect(await rowsMs()).toEqual(rowBefore);
    expect(await s.page.isVisible('#retime-note')).toBe(false);
    expect(s.watch.errors).toEqual([]);
  }, browserTimeout(1));
});
