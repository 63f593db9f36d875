// The text side in a real browser (headless Chromium, WebGPU on SwiftShader): the browser entry's
// loadTextEncoder reads the public golden umt5_small's tokenizer/ and text_encoder/ over HTTP
// and must give diffusers' prompt_embeds (resident and streamed). Needs /usr/bin/chromium
// (TESSERA_SETUP_BROWSER=1 bash scripts/setup.sh); skipped with a warning outside CI without it.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic } from '../../scripts/serve-demo.js';
import { readInputs } from '../../src/io/inputs.js';
import { relError } from '../helpers/compare.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';
import { GOLDEN_F32 } from '../tolerances.js';
import { browserTestsRun, browserTimeout, launchChromium, PageWatch } from '../helpers/browser.js';

const run = browserTestsRun(import.meta.filename);
const DIR = join(ROOT, 'tests', '.tmp', 'browser-text');

describe.skipIf(!run)('UMT5 text encoder in the browser', () => {
  let server: Awaited<ReturnType<typeof serveStatic>>;
  let browser: Browser;
  beforeAll(async () => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    const r = await build({ entryPoints: [join(ROOT, 'tests', 'integration', 'browser-text', 'page.ts')], bundle: true, format: 'esm', platform: 'browser', outfile: join(DIR, 'page.js'), metafile: true, logLevel: 'silent' });
    const inputs = Object.keys(r.metafile!.inputs);
    expect(inputs.filter((p) => p.startsWith('node:') || p.includes('node_modules/webgpu/'))).toEqual([]);
    writeFileSync(join(DIR, 'index.html'), '<!doctype html><meta charset="utf-8"><body><script type="module" src="page.js"></script></body>');
    cpSync(join(FIXTURES, 'umt5_small', 'pipeline'), join(DIR, 'pipeline'), { recursive: true });
    server = await serveStatic(DIR);
    browser = await launchChromium();
  }, browserTimeout(1));
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(DIR, { recursive: true, force: true });
  });

  it(`prompt_embeds of umt5_small within ${GOLDEN_F32} (f32), resident and streamed`, async () => {
    const page = await browser.newPage();
    const watch = new PageWatch(page);
    await watch.within('loading the page', (timeout) => page.goto(server.url, { timeout }));
    await watch.untilState('the page script', ['ready']);
    const want = (await readInputs(join(FIXTURES, 'umt5_small', 'expected.safetensors'))).get('prompt_embeds')!;
    const got = await watch.within('encoding in the page (resident, then streamed on the same device)', () => page.evaluate(([base]) => (globalThis as unknown as { encode: (b: string, p: string[], l: number) => Promise<{ shape: number[]; data: number[]; mode: string }[]> }).encode(base as string, ['a red circle moving left'], 16), [`${server.url}pipeline`] as const));
    expect(got.map((g) => g.mode)).toEqual(['resident', 'stream']);
    for (const g of got) {
      expect(g.shape).toEqual(want.shape);
      const e = relError(Float32Array.from(g.data), want.f32!);
      console.log(`browser umt5_small (${g.mode}): rel ${e.toExponential(3)}`);
      expect(e).toBeLessThan(GOLDEN_F32);
    }
    expect(watch.errors).toEqual([]);
  }, browserTimeout(4));
});
