// The text side in a real browser (headless Chromium, WebGPU on SwiftShader): the browser entry's
// loadTextEncoder reads the public golden umt5_small's tokenizer/ and text_encoder/ over HTTP
// and must give diffusers' prompt_embeds (resident and streamed). Needs /usr/bin/chromium
// (TESSERA_SETUP_BROWSER=1 bash scripts/setup.sh); skipped with a warning outside CI without it.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readInputs } from '../../src/io/inputs.js';
import { relError } from '../helpers/compare.js';
import { FIXTURES } from '../helpers/golden.js';
import { GOLDEN_F32 } from '../tolerances.js';
import { browserTestsRun, browserTimeout, pageSession, PageWatch } from '../helpers/browser.js';

const run = browserTestsRun(import.meta.filename);

describe.skipIf(!run)('UMT5 text encoder in the browser', () => {
  const s = pageSession('browser-text', (dir) => cpSync(join(FIXTURES, 'umt5_small', 'pipeline'), join(dir, 'pipeline'), { recursive: true }));

  it(`prompt_embeds of umt5_small within ${GOLDEN_F32} (f32), resident and streamed`, async () => {
    const page = await s.browser.newPage();
    const watch = new PageWatch(page);
    await watch.within('loading the page', (timeout) => page.goto(s.server.url, { timeout }));
    await watch.untilState('the page script', ['ready']);
    const want = (await readInputs(join(FIXTURES, 'umt5_small', 'expected.safetensors'))).get('prompt_embeds')!;
    const got = await watch.within('encoding in the page (resident, then streamed on the same device)', () => page.evaluate(([base]) => (globalThis as unknown as { encode: (b: string, p: string[], l: number) => Promise<{ shape: number[]; data: number[]; mode: string }[]> }).encode(base as string, ['a red circle moving left'], 16), [`${s.server.url}pipeline`] as const));
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
