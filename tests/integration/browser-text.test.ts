// The text side in a real browser (headless Chromium, WebGPU on SwiftShader): the browser entry's
// loadTextEncoder reads the public golden umt5_small's tokenizer/ and text_encoder/ over HTTP
// and must give diffusers' prompt_embeds (resident and streamed). Needs /usr/bin/chromium
// (TESSERA_SETUP_BROWSER=1 bash scripts/setup.sh); skipped with a warning outside CI without it.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic } from '../../scripts/serve-demo.js';
import { readInputs } from '../../src/io/inputs.js';
import { relError } from '../helpers/compare.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';

const CHROMIUM = '/usr/bin/chromium';
const run = existsSync(CHROMIUM) || !!process.env.CI;
if (!run) console.warn(`\n*** tests/integration/browser-text.test.ts SKIPPED: ${CHROMIUM} not found ***\n`);
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
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--no-first-run', '--disable-background-networking', '--enable-unsafe-webgpu'], timeout: 30_000 });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(DIR, { recursive: true, force: true });
  });

  it('prompt_embeds of umt5_small within 2e-3, resident and streamed', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 30_000 });
    const want = (await readInputs(join(FIXTURES, 'umt5_small', 'expected.safetensors'))).get('prompt_embeds')!;
    for (const stream of [false, true]) {
      const got = (await page.evaluate(([base, s]) => (globalThis as unknown as { encode: (b: string, p: string[], l: number, s: boolean) => Promise<{ shape: number[]; data: number[]; mode: string }> }).encode(base as string, ['a red circle moving left'], 16, s as boolean), [`${server.url}pipeline`, stream] as const));
      expect(got.shape).toEqual(want.shape);
      expect(got.mode).toBe(stream ? 'stream' : 'resident');
      const e = relError(Float32Array.from(got.data), want.f32!);
      console.log(`browser umt5_small (${got.mode}): rel ${e.toExponential(3)}`);
      expect(e).toBeLessThan(2e-3);
    }
    expect(errors).toEqual([]);
  }, 300_000);
});
