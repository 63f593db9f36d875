// loadPipeline's onProgress reports the VAE as component 'vae' (it reported only 'transformer' and
// 'text_encoder', though the VAE is most of the embedded pipeline's bytes: a load bar sat at "done" through it).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { loadPipeline } from '../../src/pipeline/pipeline.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const DIR = join(ROOT, 'models', 'tessera-shapes');

describe.skipIf(!hasGpu)("loadPipeline's onProgress", () => {
  it("reports 'transformer' then 'vae', each up to its total; none for the VAE with vae: false", async () => {
    const seen: [string, number, number][] = [];
    const pipe = await loadPipeline(DIR, { gpu: gpu!, textEncoder: false, onProgress: (c, d, t) => void seen.push([c, d, t]) });
    pipe.dispose();
    const order = seen.map(([c]) => c).filter((c, i, a) => c !== a[i - 1]);
    expect(order).toEqual(['transformer', 'vae']);
    const vae = seen.filter(([c]) => c === 'vae');
    expect(vae.map(([, d]) => d)).toEqual(Array.from({ length: vae[0]![2] }, (_, i) => i + 1));
    const none: string[] = [];
    const latentOnly = await loadPipeline(DIR, { gpu: gpu!, textEncoder: false, vae: false, onProgress: (c) => void none.push(c) });
    latentOnly.dispose();
    expect(new Set(none)).toEqual(new Set(['transformer']));
  }, 300_000);
});
