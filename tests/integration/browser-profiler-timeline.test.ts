// The profiler page (examples/profiler) after a prompt run, in headless Chromium (WebGPU on SwiftShader):
// what its per-kernel table covers (GPU timestamps per dispatch in every stage; the transformer's rows one
// denoising step replayed, each step of the loop by the wall clock), and, timed by the wall clock, why the
// tables have no per-dispatch times; the timeline and the tables' rows used by keyboard (one tab stop each,
// + / − zoom, arrows pan, 0 shows all; arrows between rows, Space opens a row's kernel, Enter goes to its
// source); a recompile's before → after over the whole prompt run, without a verdict from one repeat; a window resized without changing the timeline's drawn width does not redraw it; and a new run is
// shown whole (a preset run kept the zoom of the run before it, and could show none of its own bars).
//
// Also: each denoising step's own dispatches (the loop timed as it ran: profilePipeline's profileSteps) in the
// "kernels per stage and denoising step" table, and one line instead when they have no times; the text encoder's
// stage box drawn wide enough to see at the whole view; the MP4 player as one tab stop; the "a run is in progress"
// line cleared when the run ends. Session 22's review: no failed request over the load and the runs (the HEADs of
// the weights files); the canvas and the player captioned as one clip, the canvas showing the player's frame.
//
// One page, the prompt box at 2 steps and 1 timed repeat: two prompt runs (timestamps, then wall clock), then a
// preset run (wan-tiny, 2×8×8, 1 step) after zooming in.
// Needs /usr/bin/chromium, as browser-profiler.test.ts.
import { describe, expect, it } from 'vitest';
import { browserTestsRun, browserTimeout, profilerSession } from '../helpers/browser.js';

const run = browserTestsRun(import.meta.filename);
const QUERY = '?prompt=a%20red%20circle%20moving%20right&steps=2&repeats=1&tune=off';

describe.skipIf(!run)('browser profiler: a prompt run\'s tables, the timeline and rows by keyboard, resizing', () => {
  const s = profilerSession(QUERY, { loaded: 'the prompt run on load' });
  const { info, settle } = s;
  const active = () => s.page.evaluate(() => {
    const e = document.activeElement as HTMLElement | null;
    return e?.tagName === 'TR' ? `tr:${e.closest('table')!.id}:${e.dataset.kernel}` : (e?.id ?? '');
  });

  it('makes no failed request over the page load and its prompt run (the README: a single-file folder loads with none)', async () => {
    // session 22's review: every weights file's HEAD (its body never read) and a HEAD of text_encoder's file per encode
    // (the encoder's release() after each encode dropped its HTTP source) were logged as net::ERR_ABORTED
    expect(s.failedRequests).toEqual([]);
  });

  it("times every stage's dispatches; says what the transformer's rows cover and each denoising step's wall time", async () => {
    const i = await info();
    expect(i.mode).toBe('prompt');
    const tr = i.stages.find((st) => st.stage === 'transformer')!;
    expect(tr.stepWallMs, 'one wall time per denoising step').toHaveLength(2);
    for (const ms of tr.stepWallMs!) expect(ms).toBeGreaterThan(0);
    expect(i.stages.find((st) => st.stage === 'vae')!.stepWallMs).toBeUndefined();
    const note = (await s.page.textContent('#table-note')) ?? '';
    expect(await s.page.isVisible('#table-note')).toBe(true);
    expect(i.tableNote).toBe(note);
    if (i.features.includes('timestamp-query')) {
      expect(i.timing).toBe('gpu-timestamps');
      expect(note).toMatch(/^The transformer's rows are one denoising step, replayed after the loop and timed dispatch by dispatch \(each step of the loop as it ran: "Kernels per stage and denoising step" below\); the denoising loop by the wall clock: step 1 [\d.]+ s \(with recording the step and compiling \d+ kernel pipelines\), step 2 [\d.]+ s\.$/);
      // per-dispatch GPU times in the rows of every stage: the text encoder's and transformer's gemm, the VAE's conv
      const totals = await s.page.$$eval('#kernels tbody tr', (trs) => trs.map((tr) => [(tr as HTMLElement).dataset.family!, tr.children[2]!.textContent!] as const));
      for (const f of ['gemm', 'attention', 'conv']) expect(totals.some(([g, t]) => g === f && Number(t) > 0), `a timed ${f} row`).toBe(true);
      expect(await s.page.isVisible('#vae-note')).toBe(false);
    } else {
      expect(note).toContain('this adapter has no timestamp-query feature');
    }
    expect(s.watch.errors).toEqual([]);
  });

  it('lists the dispatches of every stage and of each denoising step of the loop, with GPU times, step by step', async () => {
    const i = await info();
    expect(i.stepKernels.map((c) => c.label)).toEqual(['text encoder (UMT5EncoderModel)', 'denoising step 1/2', 'denoising step 2/2', 'VAE decode (AutoencoderKLWan)']);
    expect(await s.page.isVisible('#steps-section')).toBe(true);
    const [, step1, step2] = i.stepKernels;
    // step 1 also computes the text's cross-attention K/V (once per run); both run the forward, the guidance and the update
    expect(step1!.dispatches).toBeGreaterThan(step2!.dispatches);
    expect(step2!.dispatches).toBeGreaterThan(10);
    expect(await s.page.inputValue('#step-pick'), 'step 1 shown first').toBe('step 1');
    const rows = () => s.page.$$eval('#step-kernels tbody tr', (trs) => trs.map((tr) => Array.from(tr.children, (td) => td.textContent!)));
    if (!i.features.includes('timestamp-query')) {
      expect(i.stepKernelsNote).toMatch(/^No per-dispatch times for denoising step 1\/2: the adapter lacks timestamp-query/);
      expect(await s.page.isVisible('#step-kernels')).toBe(false);
      return;
    }
    for (const c of i.stepKernels) {
      expect(c.timing, c.label).toBe('gpu-timestamps');
      expect(c.timed, `${c.label}: dispatches with a time`).toBeGreaterThan(c.dispatches / 2);
    }
    expect(i.stepKernelsNote).toBeNull();
    expect(await s.page.isVisible('#steps-note')).toBe(false);
    let r = await rows();
    expect(r).toHaveLength(step1!.dispatches);
    expect(r.map((x) => x[0])).toEqual(r.map((_, k) => String(k + 1)));
    expect(r.some(([, k, layer, ms]) => k!.startsWith('gemm') && layer!.startsWith('blocks.') && Number(ms) > 0), 'a timed gemm of a block').toBe(true);
    expect(r.at(-1)![1]!.startsWith('lincomb'), "the scheduler's update last").toBe(true);
    await s.page.selectOption('#step-pick', 'step 2');
    r = await rows();
    expect(r).toHaveLength(step2!.dispatches);
    await s.page.selectOption('#step-pick', 'vae');
    r = await rows();
    expect(r).toHaveLength(i.stepKernels[3]!.dispatches);
    expect(r.some(([, k, , ms]) => k!.startsWith('conv') && Number(ms) > 0)).toBe(true);
    await s.page.selectOption('#step-pick', 'step 1');
    // the trace has a track per denoising step
    const trace = await s.page.evaluate(async () => (await fetch((document.getElementById('trace') as HTMLAnchorElement).href)).text());
    expect(trace).toContain('denoising step 2/2');
    expect(s.watch.errors).toEqual([]);
  });

  it("the text encoder's stage box is wide enough to see and point at in the whole view, labelled, its tooltip saying it was widened", async () => {
    expect((await info()).timelineView).toBeNull();
    const boxes = await s.page.$$eval('#timeline rect.stage', (rs) => rs.map((r) => ({ stage: r.getAttribute('data-stage')!, widened: r.classList.contains('widened'), width: r.getBoundingClientRect().width, left: r.getBoundingClientRect().left, right: r.getBoundingClientRect().right, title: r.querySelector('title')?.textContent ?? '' })));
    expect(boxes.map((b) => b.stage)).toEqual(['text_encoder', 'transformer', 'vae']);
    const te = boxes[0]!;
    expect(te.width, 'the text encoder box').toBeGreaterThanOrEqual(44 - 0.5);
    // ~1-3 % of the run: widened, and said so; on a loaded machine its share can be over the 44 px by itself, not widened then
    if (te.widened) expect(te.title).toMatch(/^text encoder \(UMT5EncoderModel\): \d+ dispatches.*\(drawn 44 px wide to be seen: at this zoom it is narrower\)$/);
    else expect(te.title).toMatch(/^text encoder \(UMT5EncoderModel\): \d+ dispatches, [\d.]+ ms GPU$/);
    for (let k = 1; k < boxes.length; k++) expect(boxes[k]!.left, `${boxes[k]!.stage} starts after ${boxes[k - 1]!.stage}`).toBeGreaterThanOrEqual(boxes[k - 1]!.right - 0.5);
    const label = await s.page.$eval('#timeline text.stage-label[data-stage="text_encoder"]', (t) => t.textContent);
    expect(label, 'a label cut to fit').toMatch(te.width < 150 ? /^te.*…$/ : /^te/);
  });

  it('the MP4 player is one tab stop: Space pauses and plays it, Tab goes on to the next control', async () => {
    const i = await info();
    if (!i.mp4) return; // no WebCodecs encoder here: no player (mp4Error says why)
    expect(await s.page.getAttribute('#clip', 'controls')).toBeNull();
    await s.page.focus('#clip');
    expect(await active()).toBe('clip');
    const paused = () => s.page.$eval('#clip', (v) => (v as HTMLVideoElement).paused);
    const was = await paused();
    await s.page.keyboard.press(' ');
    expect(await paused()).toBe(!was);
    await s.page.keyboard.press('Enter');
    expect(await paused()).toBe(was);
    await s.page.keyboard.press('Tab');
    expect(await active(), 'one Tab leaves the player').toBe('gif');
  });

  it("the canvas and the MP4 player are captioned as one clip shown twice, and the canvas shows the player's frame (paused, stepped, playing)", async () => {
    // session 22's review: two uncaptioned loops side by side (the canvas at 8 fps, the player at 16) read as two clips
    const i = await info();
    expect(await s.page.textContent('#frames-label')).toBe("Decoded frames: the VAE's pixels, exact");
    if (!i.mp4) {
      expect(i.canvasFollows).toBe(false);
      expect(await s.page.isVisible('#clip-label')).toBe(false);
      return;
    }
    expect(await s.page.isVisible('#clip-label')).toBe(true);
    expect(await s.page.textContent('#clip-label')).toBe(`The same clip as the MP4 download (${i.mp4.codec === 'avc' ? 'H.264' : 'VP9'}, lossy). The frames beside it follow its frame.`);
    expect(i.canvasFollows).toBe(true);
    const fps = i.mp4.fps;
    // paused and set to a frame (as the arrow keys do): the canvas shows that frame
    for (const k of [3, 0, i.frames - 1]) {
      const shown = await s.page.evaluate(async ([k, fps]) => {
        const v = document.getElementById('clip') as HTMLVideoElement;
        v.pause();
        // registered after the page's own callback, so it runs after it
        await new Promise<void>((r) => {
          v.requestVideoFrameCallback(() => r());
          v.currentTime = k / fps;
        });
        return (globalThis as unknown as { tessera: { canvasFrame: number } }).tessera.canvasFrame;
      }, [k, fps] as const);
      expect(shown, `the canvas with the player paused at frame ${k}`).toBe(k);
    }
    // playing: at each of 12 presented frames, the canvas shows the frame the player presents
    const pairs = await s.page.evaluate(async (fps) => {
      const v = document.getElementById('clip') as HTMLVideoElement;
      const got: [number, number][] = [];
      // a look at the frames: the page's clip loop (clip-loop.ts) lets it play 20 s more, not stopping it mid-sample
      document.getElementById('frames-section')!.dispatchEvent(new Event('pointermove'));
      await v.play();
      await new Promise<void>((r) => {
        const on = (_: number, meta: VideoFrameCallbackMetadata) => {
          got.push([Math.round(meta.mediaTime * fps), (globalThis as unknown as { tessera: { canvasFrame: number } }).tessera.canvasFrame]);
          if (got.length < 12) v.requestVideoFrameCallback(on);
          else r();
        };
        v.requestVideoFrameCallback(on);
      });
      return got;
    }, fps);
    expect(new Set(pairs.map(([p]) => p)).size, 'the player moved on').toBeGreaterThan(1);
    for (const [p, c] of pairs) expect(c, `player at frame ${p}`).toBe(Math.min(p, i.frames - 1));
  });

  it('the timeline is one tab stop: + and − zoom, the arrows pan, Home/End go to the ends, 0 shows all; said under it', async () => {
    expect(await s.page.getAttribute('#timeline', 'role')).toBe('group');
    expect(await s.page.getAttribute('#timeline', 'aria-label')).toMatch(/\+ and − zoom, left and right arrows pan/);
    expect(await s.page.getAttribute('#timeline', 'aria-describedby')).toBe('timeline-view');
    await s.page.focus('#trace'); // the control before it
    await s.page.keyboard.press('Tab');
    expect(await active()).toBe('timeline');
    expect(await s.page.$eval('#timeline', (e) => getComputedStyle(e).outlineStyle), 'focus is visible').not.toBe('none');
    expect((await info()).timelineView).toBeNull();
    expect(await s.page.textContent('#timeline-view')).toMatch(/^showing all [\d.]+ ms$/);
    await s.page.keyboard.press('+');
    const z = (await info()).timelineView!;
    expect(z, 'zoomed in').not.toBeNull();
    expect(await s.page.textContent('#timeline-view')).toMatch(/^showing [\d.]+–[\d.]+ ms of [\d.]+ ms \(zoomed ×[\d.]+; 0 or a double-click shows all\)$/);
    await s.page.keyboard.press('ArrowRight');
    const r = (await info()).timelineView!;
    expect(r[0]).toBeGreaterThan(z[0]);
    expect(r[1] - r[0]).toBeCloseTo(z[1] - z[0], 6);
    await s.page.keyboard.press('Home');
    expect((await info()).timelineView![0]).toBe(0);
    await s.page.keyboard.press('End');
    const e = (await info()).timelineView!;
    await s.page.keyboard.press('ArrowLeft');
    expect((await info()).timelineView![0]).toBeLessThan(e[0]);
    await s.page.keyboard.press('-');
    const out = (await info()).timelineView;
    expect(out === null || out[1] - out[0] > e[1] - e[0], 'zoomed out').toBe(true);
    await s.page.keyboard.press('0');
    expect((await info()).timelineView).toBeNull();
    expect(await active(), 'the focus stays on the timeline while it is redrawn').toBe('timeline');
  });

  it("a kernel table's rows: one tab stop, the arrows move, Space opens the row's kernel and stays, Enter goes to its source", async () => {
    const rows = await s.page.$$eval('#kernels tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.kernel!));
    await s.page.focus('#kernels thead th:last-child');
    await s.page.keyboard.press('Tab');
    expect(await active()).toMatch(/^tr:kernels:/);
    expect(await s.page.$$eval('#kernels tbody tr[tabindex="0"]', (trs) => trs.length)).toBe(1);
    await s.page.keyboard.press('Home');
    const first = `tr:kernels:${rows[0]}`;
    expect(await active()).toBe(first);
    await s.page.keyboard.press('ArrowDown');
    const second = rows[1]!;
    expect(await active()).toBe(`tr:kernels:${second}`);
    expect(await s.page.$$eval('#kernels tbody tr[tabindex="0"]', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.kernel))).toEqual([second]);
    const file = second.replace(/[[{].*$/, '');
    await s.page.keyboard.press(' ');
    expect(await s.page.textContent('#kernel-name')).toBe(`kernels/${file}.wgsl`);
    expect(await active(), 'Space stays on the row').toBe(`tr:kernels:${second}`);
    expect(await s.page.getAttribute(`#kernels tbody tr[data-kernel="${second}"]`, 'aria-current')).toBe('true');
    expect(await s.page.$eval(`#kernels tbody tr[data-kernel="${second}"]`, (e) => getComputedStyle(e).outlineStyle), 'focus is visible').not.toBe('none');
    await s.page.keyboard.press('Home');
    expect(await active()).toBe(first);
    await s.page.keyboard.press('Enter');
    expect(await active()).toBe('source');
    expect(await s.page.textContent('#kernel-name')).toBe(`kernels/${first.replace(/^tr:kernels:/, '').replace(/[[{].*$/, '')}.wgsl`);
    // the VAE's table too
    await s.page.focus('#vae-kernels tbody tr[tabindex="0"]');
    await s.page.keyboard.press('End');
    const last = await s.page.$eval('#vae-kernels tbody', (b) => { const rows = (b as HTMLTableSectionElement).rows; return rows[rows.length - 1]!.dataset.kernel!; });
    expect(await active()).toBe(`tr:vae-kernels:${last}`);
    expect(s.watch.errors).toEqual([]);
  });

  it("a window resized without changing the timeline's width (a height, or below its 600 px) does not redraw it; one that changes it does", async () => {
    const mark = () => s.page.$eval('#timeline svg', (e) => e.setAttribute('data-mark', '1'));
    const marked = () => s.page.$eval('#timeline svg', (e) => e.getAttribute('data-mark') === '1');
    /** Sets the viewport and waits for its resize event and two frames (the page redraws in the next one). */
    const resize = async (width: number, height: number) => {
      const done = s.page.evaluate(() => new Promise((r) => addEventListener('resize', () => requestAnimationFrame(() => requestAnimationFrame(() => r(null))), { once: true })));
      await s.page.setViewportSize({ width, height });
      await done;
    };
    try {
      await mark();
      await resize(1280, 700);
      expect(await marked(), 'a height change: not redrawn').toBe(true);
      await resize(500, 700);
      expect(await marked(), 'narrower: redrawn').toBe(false);
      expect(await s.page.$eval('#timeline svg', (e) => Number(e.getAttribute('width')))).toBe(600);
      await mark();
      await resize(400, 700);
      expect(await marked(), 'narrower still, the drawing stays 600 px: not redrawn').toBe(true);
      await resize(1280, 900);
      expect(await marked(), 'wider: redrawn').toBe(false);
      expect(await s.page.$eval('#timeline svg', (e) => Number(e.getAttribute('width')))).toBe(await s.page.$eval('#timeline', (e) => e.clientWidth - 2));
    } finally {
      await s.page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it("a recompile in a prompt run times the kernel over the whole run, and one timed repeat gives no faster/slower verdict", async () => {
    const before = await info();
    const src = await s.kernelSource('elementwise');
    await s.page.fill('#source', `${src}\n// a comment: the same kernel\n`);
    await s.page.click('#recompile');
    const i = await settle('recompiling elementwise with a comment');
    expect(i.runs).toBe(before.runs + 1);
    expect(i.lastCompile).toMatchObject({ kernel: 'elementwise', ok: true });
    expect(i.lastCompile!.wrong).toBeUndefined();
    const log = (await s.page.textContent('#compile-log')) ?? '';
    // repeats=1: a single sample each side is no range, so "slower by 16.8 % (ranges do not overlap)" was said of a comment
    expect(log).toMatch(/elementwise per run \(its dispatches in the text encoder, one denoising step and the VAE decode\): before [\d.]+ ms \([\d.]+–[\d.]+ over 1 repeat\) → after [\d.]+ ms \([\d.]+–[\d.]+ over 1 repeat\); one timed repeat: no spread to tell a change from run-to-run noise/);
    expect(log).not.toMatch(/faster by|slower by|ranges overlap/);
    expect(s.watch.errors).toEqual([]);
  }, browserTimeout(2));

  it('a prompt run timed by the wall clock says why its tables have no per-dispatch times, with each stage\'s wall time; Enter meanwhile says a run is in progress', async () => {
    const before = await info();
    await s.page.check('#wall-clock');
    await s.page.click('#run-prompt');
    // Enter in the prompt field while the run is in progress starts nothing, and says so (it was dropped silently)
    await s.page.press('#prompt', 'Enter');
    expect(await s.page.textContent('#prompt-input-error')).toBe('Not run: a run is in progress; press Enter again when it has ended.');
    const i = await settle('a prompt run with wall-clock timing');
    expect(i.runs, 'one run: the Enter pressed meanwhile started none').toBe(before.runs + 1);
    expect(i.timing).toBe('wall-clock');
    const totals = await s.page.$$eval('#kernels tbody tr', (trs) => trs.map((tr) => tr.children[2]!.textContent));
    expect(totals.length).toBeGreaterThan(3);
    expect(new Set(totals)).toEqual(new Set(['—']));
    expect(await s.page.isVisible('#table-note')).toBe(true);
    expect(await s.page.getAttribute('#table-note', 'class')).toBe('note');
    const note = (await s.page.textContent('#table-note')) ?? '';
    expect(note).toMatch(/^No per-dispatch times in this table or the VAE's \(shown as —\): the "wall-clock timing" box was ticked when this run started/);
    for (const st of i.stages) expect(note).toContain(`${st.name} ${(st.wallMs / 1000).toFixed(2)} s`);
    expect(note).toMatch(/the denoising loop by the wall clock: step 1 [\d.]+ s \(with recording the step(?: and compiling \d+ kernel pipelines|; no kernel compiled or tuned in it: all were ready)\), step 2 [\d.]+ s\. Untick the box and generate again for per-dispatch GPU times\.$/);
    // no per-dispatch time: the timeline is in dispatch order, not placeholder milliseconds; the trace's one event per
    // stage (and per denoising step) is named by it, not "step (wall clock)"
    expect(await s.page.textContent('#timeline-view')).toBe(`showing all ${i.stages.reduce((a, st) => a + st.dispatches, 0)} dispatches (no per-dispatch times: bars in dispatch order)`);
    const ticks = await s.page.$$eval('#timeline svg text', (ts) => ts.map((t) => t.textContent ?? '').filter((t) => /^#\d+$|ms$/.test(t)));
    expect(ticks.length).toBeGreaterThan(2);
    for (const t of ticks) expect(t).toMatch(/^#\d+$/);
    const trace = (await s.page.evaluate(async () => (await fetch((document.getElementById('trace') as HTMLAnchorElement).href)).json())) as { traceEvents: { ph: string; name: string }[] };
    expect(trace.traceEvents.filter((e) => e.ph === 'X').map((e) => e.name)).toEqual([...i.stages.flatMap((st) => [st.name, ...(st.stage === 'transformer' ? ['denoising step 1/2', 'denoising step 2/2'] : [])])].map((n) => `${n} (wall clock)`));
    expect(i.tableNote).toBe(note);
    expect(await s.page.isVisible('#vae-note')).toBe(true);
    expect(await s.page.textContent('#vae-note')).toBe('No per-dispatch times in this table either: see the note above the per-kernel table.');
    // the "a run is in progress" line is gone with the run it was about
    expect(await s.page.isVisible('#prompt-input-error')).toBe(false);
    expect(await s.page.textContent('#prompt-input-error')).toBe('');
    // the denoising steps timed by the wall clock: one line in place of their table, saying why
    expect(i.stepKernels.map((c) => c.timing)).toEqual(['wall-clock', 'wall-clock', 'wall-clock', 'wall-clock']);
    expect(i.stepKernelsNote).toMatch(/^No per-dispatch times for denoising step 1\/2: (timestamp queries disabled on request|the adapter lacks timestamp-query): wall clock around onSubmittedWorkDone\(\) over the whole step/);
    expect(await s.page.textContent('#steps-note')).toBe(i.stepKernelsNote);
    expect(await s.page.isVisible('#step-kernels')).toBe(false);
    await s.page.uncheck('#wall-clock');
    expect(s.watch.errors).toEqual([]);
  }, browserTimeout(1));

  it('a new run shows its whole timeline: the zoom of the last one is not kept (a preset after a prompt run)', async () => {
    // zoomed to the first ~0.4 % of the prompt run (~40 ms of ~10 s here): a view inside the preset step's length too
    await s.page.focus('#timeline');
    for (let k = 0; k < 25; k++) await s.page.keyboard.press('+');
    await s.page.keyboard.press('Home');
    expect((await info()).timelineView![0]).toBe(0);
    await s.page.click('#preset-box summary');
    await s.page.fill('#latent', '2x8x8');
    await s.page.fill('#steps', '1');
    await s.page.click('#run');
    const i = await settle('a preset run after a zoomed prompt run', 2);
    expect(i.mode).toBe('preset');
    expect(i.timelineView).toBeNull();
    expect(i.bars).toBe(i.dispatches);
    expect(await s.page.textContent('#timeline-view')).toMatch(/^showing all [\d.]+ ms$/);
    expect(await s.page.isVisible('#table-note'), "a preset step's table has its own times: no prompt note").toBe(false);
    expect(s.watch.errors).toEqual([]);
    // and no failed request over the file's three runs (two prompt runs, a preset run)
    expect(s.failedRequests).toEqual([]);
  }, browserTimeout(2));
});
