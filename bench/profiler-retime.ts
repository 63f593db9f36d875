// The browser profiler's edit loop, timed (user21 finding 13): a no-op edit (a comment) of one kernel after a
// prompt run, edit-to-result wall time by "Recompile & re-time" (the whole clip re-run) and by "Re-time only"
// (Ctrl+Shift+Enter: that kernel's dispatches of the run replayed), alternating, on headless Chromium's
// SwiftShader. Wall time on a shared CPU machine: give the load beside it.
//
//   npx tsx bench/profiler-retime.ts [--kernel elementwise] [--steps 4] [--pairs 2]
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { buildDemo } from '../scripts/build-demo.js';
import { serveStatic } from '../scripts/serve-demo.js';
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** tests/helpers/browser.ts's CHROMIUM_ARGS (that module imports vitest): SwiftShader WebGPU, quiet start. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run', '--enable-unsafe-webgpu'];
import type { PageInfo } from '../examples/profiler/main.js';

const { values } = parseArgs({ options: { kernel: { type: 'string', default: 'elementwise' }, steps: { type: 'string', default: '4' }, pairs: { type: 'string', default: '2' } } });
const kernel = values.kernel!;
const outDir = mkdtempSync(join(tmpdir(), 'tessera-retime-'));
const build = await buildDemo({ quiet: true, outDir });
const server = await serveStatic(build.dir);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const info = () => page.evaluate(() => (globalThis as unknown as { tessera: PageInfo }).tessera);
  const idle = () => page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 1_800_000, polling: 200 });
  const t0 = performance.now();
  await page.goto(`${server.url}?steps=${values.steps}&prompt=${encodeURIComponent('a red circle moving right')}`);
  await idle();
  const first = await info();
  if (first.state === 'error') throw new Error(first.error ?? 'page error');
  console.log(`first run: ${((performance.now() - t0) / 1000).toFixed(1)} s wall (page load, tuning, run 1), load ${loadavg()[0]!.toFixed(1)}`);
  await page.click(`#kernel-list li[data-kernel="${kernel}"]`);
  const src = await page.inputValue('#source');
  let k = 0;
  for (let pair = 0; pair < Number(values.pairs); pair++) {
    for (const how of pair % 2 ? (['retime', 'recompile'] as const) : (['recompile', 'retime'] as const)) {
      await page.fill('#source', `${src}\n// no-op edit ${++k}\n`);
      const load = loadavg()[0]!;
      const t = performance.now();
      await page.focus('#source');
      await page.keyboard.press(how === 'retime' ? 'Control+Shift+Enter' : 'Control+Enter');
      await page.waitForFunction(() => document.body.dataset.state === 'running', null, { timeout: 60_000, polling: 50 }).catch(() => undefined);
      await idle();
      const s = (performance.now() - t) / 1000;
      const i = await info();
      if (i.state === 'error') throw new Error(i.error ?? 'page error');
      const verdict = how === 'retime' ? (i.lastRetime?.summary?.verdict ?? i.lastRetime?.refused ?? i.lastRetime?.wrong) : (await page.textContent('#compile-log'))?.split('\n')[1];
      console.log(`${how === 'retime' ? 'Re-time only      ' : 'Recompile & re-time'}: ${s.toFixed(1)} s wall (load ${load.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}), runs ${i.runs}; ${verdict}`);
      if (how === 'retime' && pair === Number(values.pairs) - 1) console.log(`  its log:\n${(await page.textContent('#compile-log'))?.replace(/^/gm, '    ')}\n  the note above the table: ${await page.textContent('#retime-note')}`);
    }
  }
} finally {
  await browser.close();
  await server.close();
  rmSync(outDir, { recursive: true, force: true });
}
