// The whole WanPipeline in a real browser (headless Chromium, WebGPU on SwiftShader) through the
// browser entry: loadPipeline on a golden pipeline folder's URL (tests/fixtures/umt5/pipeline_prompt's
// tokenizer and UMT5 with wan_pipeline_embeds' transformer, scheduler and VAE, assembled as
// umt5-pipeline.test.ts does; and as Blobs, a folder the user picked), generate from prompt text and
// from the embeds cases' prompt embeddings and latents, against diffusers' latents and video within
// the Node tests' bound (pipeline.test.ts, umt5-pipeline.test.ts); two calls at once on one pipeline
// (queued: both right); dispose() during a call (it and the call queued behind it finish, later calls
// get DisposedError, the pipeline's own device is destroyed after them); dtype f16 on an adapter
// without shader-f16 (refused before any weight byte is fetched). Then the autotuner's cache in
// IndexedDB across page loads: written once, read back, a corrupt record one warning. One page load
// for the pipeline tests (SwiftShader compiles every kernel once per device: the first generate is
// most of the file's time). Needs /usr/bin/chromium (TESSERA_SETUP_BROWSER=1 bash scripts/setup.sh);
// skipped with a warning outside CI without it.
import { closeSync, cpSync, openSync, readdirSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { readInputs } from '../../src/io/inputs.js';
import { relError } from '../helpers/compare.js';
import { FIXTURES } from '../helpers/golden.js';
import { goldenF32Tol } from '../tolerances.js';
import { browserTestsRun, browserTimeout, pageSession, PageWatch } from '../helpers/browser.js';

const run = browserTestsRun(import.meta.filename);
const CASE = join(FIXTURES, 'wan_pipeline_embeds');
const cases = JSON.parse(readFileSync(join(CASE, 'cases.json'), 'utf8'));
const TOL = goldenF32Tol(cases.tolerance.max); // f32: 1e-4, as the Node test
const PROMPT = join(FIXTURES, 'umt5', 'pipeline_prompt');
const prompt = JSON.parse(readFileSync(join(PROMPT, 'case.json'), 'utf8'));

type Out = { latents: { shape: number[]; data: number[] }; video: { shape: number[]; data: number[] } };
type Thrown = { name: string; message: string; disposed: boolean; dtype: boolean; input: boolean };
/** The page's `tessera` (browser-pipeline/page.ts), as page.evaluate reaches it. */
type PageApi = {
  load(base: string): Promise<{ className: string; scheduler: string; vae: boolean; textEncoder: boolean }>;
  generatePrompt(base: string, inputsUrl: string, c: { prompt: string[]; negative_prompt: string; max_sequence_length: number; num_inference_steps: number; guidance_scale: number }): Promise<Out & { encoded: number[] }>;
  generate(base: string, name: string): Promise<Out>;
  generateFromBlobs(base: string, files: string[], name: string): Promise<Out & { pipeline: string }>;
  concurrent(base: string, names: string[]): Promise<{ outs: Out[]; order: string[] }>;
  disposeDuring(base: string, running: string, queued: string): Promise<{ results: ({ out: Out } | { error: Thrown })[]; afterDispose: Thrown | null; later: Thrown | null; lostAtDispose: string | null; lostAfter: string | null }>;
  f16(url: string): Promise<{ hasF16: boolean; adapter: string; error: Thrown | null }>;
  tuneGemm(runs?: number): Promise<{ tuned: string[]; where: (string | null)[]; ok: boolean[] }>;
  tuneChoices(): Promise<string[]>;
  tuneRecord(put?: { value: unknown }): Promise<unknown>;
};
/** Calls the page's `tessera[fn](...args)`. */
function api<K extends keyof PageApi>(page: Page, fn: K, ...args: Parameters<PageApi[K]>): Promise<Awaited<ReturnType<PageApi[K]>>> {
  return page.evaluate(([f, a]) => (globalThis as unknown as { tessera: Record<string, (...x: unknown[]) => unknown> }).tessera[f as string]!(...(a as unknown[])), [fn, args] as const) as Promise<Awaited<ReturnType<PageApi[K]>>>;
}

/**
 * The page's result for embeds case `name` (or, with `name` 'prompt', the prompt-text case) against
 * diffusers' (shapes, then max|Δ|/max|expected| of latents and video).
 */
async function expectGolden(name: string, got: Out, what: string): Promise<void> {
  const [file, shape, tol] = name === 'prompt' ? [join(PROMPT, 'expected.safetensors'), prompt.video_shape, goldenF32Tol(prompt.tolerance)] : [join(CASE, `${name}.expected.safetensors`), cases.cases[name].video_shape, TOL];
  const exp = await readInputs(file);
  expect(got.latents.shape, `${what}: latents shape`).toEqual(exp.get('latents')!.shape);
  expect(got.video.shape, `${what}: video shape`).toEqual(shape);
  const rl = relError(got.latents.data, exp.get('latents')!.f32!);
  const rv = relError(got.video.data, exp.get('video')!.f32!);
  console.log(`browser ${what}: latents rel ${rl.toExponential(2)}, video rel ${rv.toExponential(2)} (tolerance ${tol})`);
  expect(rl, `${what}: latents`).toBeLessThan(tol);
  expect(rv, `${what}: video`).toBeLessThan(tol);
}

/**
 * What the page's folder holds beside it: the golden pipeline/ (the prompt case's tokenizer/ and
 * text_encoder/, the embeds case's transformer/, scheduler/ and vae/, one model_index.json naming
 * them all) and the cases' inputs.
 */
function fill(dir: string): void {
  cpSync(join(PROMPT, 'pipeline'), join(dir, 'pipeline'), { recursive: true });
  for (const c of ['transformer', 'vae', 'scheduler']) cpSync(join(CASE, 'pipeline', c), join(dir, 'pipeline', c), { recursive: true });
  const index = { ...JSON.parse(readFileSync(join(CASE, 'pipeline', 'model_index.json'), 'utf8')), ...JSON.parse(readFileSync(join(PROMPT, 'pipeline', 'model_index.json'), 'utf8')) };
  writeFileSync(join(dir, 'pipeline', 'model_index.json'), JSON.stringify(index));
  for (const name of Object.keys(cases.cases)) cpSync(join(CASE, `${name}.inputs.safetensors`), join(dir, `${name}.inputs.safetensors`));
  cpSync(join(PROMPT, 'inputs.safetensors'), join(dir, 'prompt.inputs.safetensors'));
}

/** 8 + the header length of safetensors file `file`: where its first tensor's bytes start. */
function dataStart(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(8);
    readSync(fd, b, 0, 8, 0);
    return 8 + Number(b.readBigUInt64LE(0));
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!run)('tessera in the browser', () => {
  const s = pageSession('browser-pipeline', fill);
  /** Requests the server answered (method, path and Range header), since the last clear. */
  const requests: { method: string; path: string; range: string | undefined }[] = [];
  let base: string;
  beforeAll(() => {
    s.server.server.on('request', (req) => requests.push({ method: req.method ?? '', path: new URL(req.url ?? '/', 'http://x').pathname, range: req.headers.range }));
    base = s.server.url;
  });

  /** The test page in a browser context of its own (so an IndexedDB of its own), loaded and ready; its console lines of `types` that match `match` are collected in `lines`; `load` loads it again. */
  async function openPage(types: string[], match: RegExp): Promise<{ page: Page; watch: PageWatch; lines: string[]; load: (what: string) => Promise<void> }> {
    const page = await s.browser.newPage();
    const watch = new PageWatch(page);
    const lines: string[] = [];
    page.on('console', (m) => types.includes(m.type()) && match.test(m.text()) && lines.push(m.text()));
    const load = async (what: string) => {
      await watch.within(what, (timeout) => page.goto(s.server.url, { timeout }));
      await watch.untilState(`the page script (${what})`, ['ready']);
    };
    await load('loading the page');
    return { page, watch, lines, load };
  }

  describe('WanPipeline', () => {
    let page: Page;
    let watch: PageWatch;
    /** The page's console lines of type warning or error that come from WebGPU or tessera. */
    let noise: string[];
    beforeAll(async () => {
      ({ page, watch, lines: noise } = await openPage(['warning', 'error'], /webgpu|tessera|GPU/i));
    }, browserTimeout(1));

    it('dtype f16 on an adapter without shader-f16: DtypeUnsupportedError naming the dtype and the feature, before any weight byte is fetched', async () => {
      requests.length = 0;
      const r = await watch.within('loadPipeline with dtype f16', () => api(page, 'f16', `${base}pipeline/`));
      expect(r.hasF16, `this check needs an adapter without shader-f16; ${r.adapter} has it`).toBe(false);
      // DtypeUnsupportedError, an InputError with a name of its own (session 20)
      expect(r.error).toMatchObject({ name: 'DtypeUnsupportedError', dtype: true, input: true });
      expect(r.error!.message).toMatch(/^dtype: 'f16' needs the adapter feature shader-f16, which .+ lacks: use dtype: 'f32'$/);
      // the weights files: at most their sizes (HEAD) and headers were read (a Range that ends before the first tensor)
      const weights = requests.filter((q) => q.path.endsWith('.safetensors') && q.method !== 'HEAD');
      for (const q of weights) {
        const start = dataStart(join(s.dir, q.path));
        const m = /^bytes=(\d+)-(\d+)$/.exec(q.range ?? '');
        expect(m, `${q.path} was fetched whole or open-ended (Range ${q.range})`).not.toBeNull();
        expect(Number(m![2]), `${q.path}: bytes ${m![1]}-${m![2]} reach its tensors (from byte ${start})`).toBeLessThan(start);
      }
      expect(weights.map((q) => q.path).filter((p) => !p.includes('/transformer/'))).toEqual([]);
    }, browserTimeout(1));

    it(`loadPipeline(URL), prompt text in (tokenizer, UMT5, transformer, VAE): latents and video within ${goldenF32Tol(prompt.tolerance)} of diffusers; the prompts are encoded once`, async () => {
      const info = await watch.within('loading the pipeline', () => api(page, 'load', base));
      expect(info).toEqual({ className: 'WanPipeline', scheduler: 'FlowMatchEulerDiscreteScheduler', vae: true, textEncoder: true });
      const c = { prompt: prompt.prompt, negative_prompt: prompt.negative_prompt, max_sequence_length: prompt.max_sequence_length, num_inference_steps: prompt.num_inference_steps, guidance_scale: prompt.guidance_scale };
      const got = await watch.within('generating from the prompts', () => api(page, 'generatePrompt', base, `${base}prompt.inputs.safetensors`, c));
      await expectGolden('prompt', got, 'prompt text');
      // two prompts and the negative prompt, encoded by the first call; the second reads the prompt cache
      expect(got.encoded).toEqual([3, 3]);
      expect(watch.errors).toEqual([]);
      expect(noise).toEqual([]);
    }, browserTimeout(2));

    it(`euler_b1 from prompt embeddings, the folder by URL and as picked files (Blobs): latents and video within ${TOL} of diffusers`, async () => {
      const got = await watch.within('generating euler_b1', () => api(page, 'generate', base, 'euler_b1'));
      await expectGolden('euler_b1', got, 'euler_b1');
      const files = readdirSync(join(s.dir, 'pipeline'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(join(s.dir, 'pipeline'), join(e.parentPath, e.name)));
      const picked = await watch.within('generating euler_b1 from Blobs', () => api(page, 'generateFromBlobs', base, files, 'euler_b1'));
      expect(picked.pipeline).toBe('picked');
      await expectGolden('euler_b1', picked, 'euler_b1 (Blobs)');
      expect(watch.errors).toEqual([]);
      expect(noise).toEqual([]);
    }, browserTimeout(1));

    it('two calls started at once on one pipeline (euler_b2 and euler_b1): queued in call order, both match diffusers', async () => {
      const r = await watch.within('two generations at once', () => api(page, 'concurrent', base, ['euler_b2', 'euler_b1']));
      expect(r.order).toEqual(['euler_b2', 'euler_b1']);
      await expectGolden('euler_b2', r.outs[0]!, 'concurrent euler_b2');
      await expectGolden('euler_b1', r.outs[1]!, 'concurrent euler_b1');
      expect(watch.errors).toEqual([]);
      expect(noise).toEqual([]);
    }, browserTimeout(2));

    it('dispose() at a running call\'s second step: it and the call queued before dispose finish right; calls after get DisposedError; the device goes after them', async () => {
      const r = await watch.within('dispose during generate', () => api(page, 'disposeDuring', base, 'euler_b1', 'euler_b2'));
      const [first, second] = r.results;
      expect(first, JSON.stringify((first as { error?: Thrown }).error)).toHaveProperty('out');
      expect(second, JSON.stringify((second as { error?: Thrown }).error)).toHaveProperty('out');
      await expectGolden('euler_b1', (first as { out: Out }).out, 'running at dispose, euler_b1');
      await expectGolden('euler_b2', (second as { out: Out }).out, 'queued before dispose, euler_b2');
      const disposed = `pipeline ${base}pipeline was disposed: load it again to use it`;
      expect(r.afterDispose).toEqual({ name: 'DisposedError', message: disposed, disposed: true, dtype: false, input: false });
      expect(r.later).toEqual(r.afterDispose);
      // the pipeline acquired its device (no gpu option): destroyed once the calls had settled, not at dispose()
      expect(r.lostAtDispose).toBeNull();
      expect(r.lostAfter).toMatch(/destroyed/);
      expect(watch.errors).toEqual([]);
      expect(noise).toEqual([]);
    }, browserTimeout(2));
  });

  describe('the tuning cache in IndexedDB', () => {
    it('written by the first tuning, read back on the next page load without tuning; a corrupt record: one warning, tuned again, replaced', async () => {
      const { page, watch, lines: warnings, load } = await openPage(['warning', 'error'], /tessera|webgpu/i);
      expect(await api(page, 'tuneRecord')).toBeUndefined(); // a fresh context: nothing stored yet
      // two runs on one page: the bucket is timed once, by the first
      const first = await watch.within('tuning a GEMM (first page load)', () => api(page, 'tuneGemm', 2));
      expect(first.ok).toEqual([true, true]);
      expect(first.tuned).toEqual([expect.stringMatching(/^gemm /)]);
      expect(first.where).toEqual(['IndexedDB tessera/tune']);
      const stored = (await api(page, 'tuneRecord')) as Record<string, { choice: string; ms: Record<string, number> }>;
      const keys = Object.keys(stored);
      expect(keys).toEqual([expect.stringMatching(/^v1\|.*\|gemm\|/)]);
      expect(Object.keys(stored[keys[0]!]!.ms)).toContain(stored[keys[0]!]!.choice);
      expect(warnings).toEqual([]);

      await load('the second page load');
      const second = await watch.within('the GEMM again (second page load)', () => api(page, 'tuneGemm', 1));
      expect(second).toEqual({ tuned: [], where: [], ok: [true] });
      expect(await api(page, 'tuneRecord')).toEqual(stored);
      expect(warnings).toEqual([]);

      await api(page, 'tuneRecord', { value: 'not a cache' });
      await load('the third page load (corrupt record)');
      const third = await watch.within('the GEMM on a corrupt record (two runs)', () => api(page, 'tuneGemm', 2));
      expect(third.ok).toEqual([true, true]);
      expect(third.tuned).toEqual(first.tuned);
      expect(warnings).toEqual([`[tessera] tuning cache IndexedDB tessera/tune is unreadable, ignoring it (it will be replaced when tuned kernel choices are next saved): not a tessera tuning cache (its "entries" record is the string "not a cache", not an object of tuned choices)`]);
      expect(Object.keys((await api(page, 'tuneRecord')) as object)).toEqual(keys);
      expect(watch.errors).toEqual([]);
    }, browserTimeout(4));

    it("an old-format GEMM key (no ' SWG' part, before session 18) is not loaded as a choice and is gone after the next save", async () => {
      const { page, watch, lines: warnings, load } = await openPage(['warning', 'error'], /tessera|webgpu/i);
      const first = await watch.within('tuning a GEMM (first page load)', () => api(page, 'tuneGemm', 1));
      expect(first.tuned).toEqual([expect.stringMatching(/^gemm .* SWG\d+x\d+$/)]);
      const stored = (await api(page, 'tuneRecord')) as Record<string, unknown>;
      const [key] = Object.keys(stored);
      const old = key!.replace(/ SWG\d+x\d+$/, '');
      // only the old key: the GEMM is tuned again and saved on the next load
      await api(page, 'tuneRecord', { value: { [old]: stored[key!] } });
      await load('the second page load (an old-format key stored)');
      expect(await api(page, 'tuneChoices')).toEqual([]);
      const again = await watch.within('the GEMM again (second page load)', () => api(page, 'tuneGemm', 1));
      expect(again.tuned).toEqual(first.tuned);
      expect(Object.keys((await api(page, 'tuneRecord')) as object)).toEqual([key]);
      expect(await api(page, 'tuneChoices')).toEqual([key!.split('|').slice(-2).join('|')]);
      expect(warnings).toEqual([]);
      expect(watch.errors).toEqual([]);
    }, browserTimeout(3));
  });
});
