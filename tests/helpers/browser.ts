// Headless Chromium for the browser tests (WebGPU on SwiftShader, a CPU device): one place for the
// executable, its flags and how long a page may take, so every browser test waits the same bounded
// time, and fails at once, saying what the page threw, when the page throws or crashes instead of
// waiting out its timeout.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import { buildDemo, type DemoBuild } from '../../scripts/build-demo.js';
import { serveStatic } from '../../scripts/serve-demo.js';
import type { PageInfo } from '../../examples/profiler/main.js';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { ROOT } from './golden.js';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Whether a browser test file runs: Chromium is there, or CI is set (where a missing browser must
 * fail, not skip). Outside CI without Chromium it warns once, naming the file, and skips.
 */
export function browserTestsRun(file: string): boolean {
  const run = existsSync(CHROMIUM) || !!process.env.CI;
  if (!run) console.warn(`\n*** tests/integration/${basename(file)} SKIPPED: ${CHROMIUM} not found (install it with TESSERA_SETUP_BROWSER=1 bash scripts/setup.sh) ***\n`);
  return run;
}

/** WebGPU in headless Chromium on Linux: a secure origin (127.0.0.1) plus --enable-unsafe-webgpu gives SwiftShader. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--enable-unsafe-webgpu',
];

/**
 * The longest one page action may take: a page load, a profiler run (generate + decode + profile,
 * every pipeline compiled by SwiftShader on first use), a recompile, a UMT5 encode. Measured:
 * 10–30 s on a quiet 2-core machine, 65 s at a load average of 5–8, 119 s at 19 (the
 * profiler's first run; the old 100 s waits ran out there) and over 240 s at 21–23 (the UX
 * file's first run, beside a training job and other suites); 300 s, so only a stuck page or a
 * machine past that load waits it out. TESSERA_BROWSER_WAIT_S sets it.
 */
export const PAGE_WAIT_MS = Number(process.env.TESSERA_BROWSER_WAIT_S ?? 300) * 1000;

/** A test's (or hook's) timeout when it makes `waits` page waits one after another: room for each, plus a minute for the rest. */
export const browserTimeout = (waits: number): number => waits * PAGE_WAIT_MS + 60_000;

/**
 * The profiler page built into a temp folder of its own (the browser files build in parallel, and a
 * build removes and re-copies the page's model weights); `remove()` deletes the folder (afterAll).
 */
export async function buildDemoInTemp(): Promise<DemoBuild & { remove(): void }> {
  const outDir = mkdtempSync(join(tmpdir(), 'tessera-demo-'));
  try {
    return { ...(await buildDemo({ quiet: true, outDir })), remove: () => rmSync(outDir, { recursive: true, force: true }) };
  } catch (e) {
    rmSync(outDir, { recursive: true, force: true });
    throw e;
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/**
 * What a page reports (uncaught exceptions as `uncaught: …`, console.error lines when asked), and
 * waits on it that end early when it throws or crashes.
 */
export class PageWatch {
  /** Every uncaught exception (`uncaught: …`) and, with consoleErrors, console.error line, in order. */
  readonly errors: string[] = [];
  private uncaught: string[] = [];
  private failure: string | null = null;
  private listeners = new Set<(why: string) => void>();

  constructor(
    readonly page: Page,
    opts: { consoleErrors?: boolean } = {},
  ) {
    const fail = (why: string) => {
      this.failure ??= why;
      for (const l of this.listeners) l(why);
    };
    page.on('pageerror', (e) => {
      this.errors.push(`uncaught: ${e.message}`);
      this.uncaught.push(e.message);
      fail(`the page threw: ${e.message}`);
    });
    if (opts.consoleErrors) page.on('console', (m) => m.type() === 'error' && this.errors.push(m.text()));
    page.on('crash', () => fail('the page crashed'));
    page.on('close', () => fail('the page was closed'));
  }

  /**
   * `work` (a page call), bounded by `timeout`; rejects as soon as the page throws an uncaught
   * exception or crashes (also one from before the call), with `what` and the page's message.
   */
  async within<T>(what: string, work: (timeout: number) => Promise<T>, timeout = PAGE_WAIT_MS): Promise<T> {
    if (this.failure) throw new Error(`${what}: ${this.failure}`);
    let stop!: (why: string) => void;
    const failed = new Promise<never>((_, reject) => {
      stop = (why) => reject(new Error(`${what}: ${why}`));
    });
    // work that takes no timeout of its own (page.evaluate) is bounded here
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { name: 'TimeoutError' })), timeout);
    });
    this.listeners.add(stop);
    const running = work(timeout);
    running.catch(() => {}); // settled after a page failure or our own timeout: nobody waits on it then
    try {
      return await Promise.race([running, failed, late]);
    } catch (e) {
      if ((e as Error).name === 'TimeoutError') {
        const state = await this.page.evaluate(() => document.body?.dataset.state ?? '').catch(() => 'unknown');
        throw new Error(`${what}: not done after ${timeout / 1000} s (page state "${state}"); SwiftShader on an overloaded machine? TESSERA_BROWSER_WAIT_S raises the bound`);
      }
      throw e;
    } finally {
      this.listeners.delete(stop);
      clearTimeout(timer);
    }
  }

  /**
   * Waits until `document.body.dataset.state` is one of `states` (see `within`); polled every
   * 250 ms rather than every animation frame, which takes CPU from the page it waits on.
   */
  untilState(what: string, states: string[], timeout = PAGE_WAIT_MS): Promise<void> {
    return this.within(what, async (t) => {
      await this.page.waitForFunction((s) => s.includes(document.body?.dataset.state ?? ''), states, { timeout: t, polling: 250 });
    }, timeout);
  }
}

/**
 * The profiler page of one browser test file: its build (a temp folder), the server on 127.0.0.1,
 * one Chromium, one 1280×900 page at the file's query (console errors watched), and how to wait on
 * it. Made by profilerSession; the fields are set once its beforeAll has run.
 */
export class ProfilerSession {
  build!: DemoBuild & { remove(): void };
  server!: Awaited<ReturnType<typeof serveStatic>>;
  browser!: Browser;
  page!: Page;
  watch!: PageWatch;
  /** Every request the page made that failed (`requestfailed`: `METHOD URL ERROR`), from its first load on. */
  readonly failedRequests: string[] = [];

  /** The page's `window.tessera` (examples/profiler/main.ts), of `p` (default: the session's page). */
  readonly info = (p: Page = this.page): Promise<PageInfo> => p.evaluate(() => (globalThis as unknown as { tessera: PageInfo }).tessera);

  /**
   * Waits until the page is idle (done or error) after `what`, for `waits` page waits at most (a
   * run that also compiles new kernels takes 2); an error state fails the test with its message.
   */
  readonly settle = async (what: string, waits = 1): Promise<PageInfo> => {
    await this.watch.untilState(`the page after ${what}`, ['done', 'error'], waits * PAGE_WAIT_MS);
    const i = await this.info();
    if (i.state === 'error') throw new Error(`page failed during ${what}: ${i.error}`);
    return i;
  };

  /** Opens `kernel` in the editor (its entry in the kernel list) and returns the source shown. */
  readonly kernelSource = async (kernel: string): Promise<string> => {
    await this.page.click(`#kernel-list li[data-kernel="${kernel}"]`);
    return this.page.inputValue('#source');
  };
}

/**
 * Registers a browser test file's beforeAll and afterAll (call it inside the file's describe):
 * builds and serves the profiler page, launches Chromium, opens `query` on it and, with `loaded`,
 * waits until that load is idle (a page opened with autorun=0: `loaded` names the wait); afterAll
 * closes the browser and the server and removes the build.
 */
export function profilerSession(query: string, opts: { loaded?: string } = {}): ProfilerSession {
  const s = new ProfilerSession();
  beforeAll(async () => {
    s.build = await buildDemoInTemp();
    s.server = await serveStatic(s.build.dir);
    s.browser = await launchChromium();
    s.page = await s.browser.newPage({ viewport: { width: 1280, height: 900 } });
    s.watch = new PageWatch(s.page, { consoleErrors: true });
    s.page.on('requestfailed', (r) => s.failedRequests.push(`${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
    await s.watch.within('loading the profiler page', (timeout) => s.page.goto(s.server.url + query, { timeout }));
    if (opts.loaded) await s.settle(opts.loaded);
  }, browserTimeout(opts.loaded ? 2 : 1));
  afterAll(async () => {
    await s.browser?.close();
    await s.server?.close();
    s.build?.remove();
  });
  return s;
}

/**
 * A browser test file's own page: tests/integration/<name>/page.ts bundled for the browser (no Node
 * module may reach the bundle) into tests/.tmp/<name> beside an index.html that loads it, with what
 * `fill(dir)` puts there (fixtures), served on 127.0.0.1, and one Chromium. Made by pageSession; the
 * fields are set once its beforeAll has run.
 */
export class PageSession {
  dir!: string;
  server!: Awaited<ReturnType<typeof serveStatic>>;
  browser!: Browser;
}

/**
 * Registers a browser test file's beforeAll (call it inside the file's describe): builds, fills and
 * serves its page (PageSession) and launches Chromium; afterAll closes both and removes the folder.
 */
export function pageSession(name: string, fill: (dir: string) => void): PageSession {
  const s = new PageSession();
  s.dir = join(ROOT, 'tests', '.tmp', name);
  beforeAll(async () => {
    rmSync(s.dir, { recursive: true, force: true });
    mkdirSync(s.dir, { recursive: true });
    const r = await build({ entryPoints: [join(ROOT, 'tests', 'integration', name, 'page.ts')], bundle: true, format: 'esm', platform: 'browser', outfile: join(s.dir, 'page.js'), metafile: true, logLevel: 'silent' });
    expect(Object.keys(r.metafile!.inputs).filter((p) => p.startsWith('node:') || p.includes('node_modules/webgpu/'))).toEqual([]);
    writeFileSync(join(s.dir, 'index.html'), '<!doctype html><meta charset="utf-8"><body><script type="module" src="page.js"></script></body>');
    fill(s.dir);
    s.server = await serveStatic(s.dir);
    s.browser = await launchChromium();
  }, browserTimeout(1));
  afterAll(async () => {
    await s.browser?.close();
    await s.server?.close();
    rmSync(s.dir, { recursive: true, force: true });
  });
  return s;
}
