// README.md "Library": the smallest whole run (the embedded pipeline, prompt to GIF), run as written against the
// source ('tessera' pointed at src/index.ts) in a folder of its own, so that it cannot rot. The tests' own
// environment (TESSERA_TUNE=off: heuristic kernels, no tuning cache) is what it runs under.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GifReader } from 'omggif';
import { afterAll, describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { ROOT } from '../helpers/golden.js';

const work = mkdtempSync(join(tmpdir(), 'tessera-readme-embedded-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The ```ts block after the sentence that introduces it. */
function example(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('The smallest whole run, prompt to GIF with the embedded pipeline');
  expect(at, 'README.md "Library": the smallest whole run').toBeGreaterThan(0);
  return /```ts\n([\s\S]*?)```/.exec(readme.slice(at))![1]!;
}

describe.skipIf(!hasGpu)("the README's smallest whole run", () => {
  it('writes the GIF of the prompt: 9 frames of 32×32 at 16 fps', async () => {
    const code = example().replace("from 'tessera'", `from ${JSON.stringify(join(ROOT, 'src', 'index.ts'))}`);
    const file = join(work, 'run.mts'); // an ES module (top-level await), as in a project of "type": "module"
    writeFileSync(file, code);
    const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };
    // killed before the test's own timeout, so a hung example cannot outlive the test
    const r = await new Promise<{ code: number; err: string }>((resolve) =>
      execFile(process.execPath, ['--import', pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, file], { cwd: work, env, timeout: 270_000, killSignal: 'SIGKILL' }, (e, _out, err) =>
        resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, err }),
      ),
    );
    expect(r.code, r.err).toBe(0);
    const gif = new GifReader(new Uint8Array(readFileSync(join(work, 'clip.gif'))));
    expect([gif.numFrames(), gif.width, gif.height]).toEqual([9, 32, 32]);
    // 16 fps: delays of 6 and 7 hundredths of a second, 56 in all for 9 frames (round(9 · 100 / 16))
    const delays = Array.from({ length: gif.numFrames() }, (_, i) => gif.frameInfo(i).delay);
    expect(delays.reduce((a, b) => a + b, 0)).toBe(56);
  }, 300_000);
});
