// A memory-planning dry run (estimateMemory, checkRunFits) builds no host table: DiT's and Latte's 2-D
// sincos position embeddings ([tokens, dim] floats) are sized, not computed, as Wan's RoPE table is.
// At a 2048×2048 latent of DiT-XL/2 (1048576 tokens × 1152) the table alone was 4.5 GiB of host memory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/model/config.js';
import { checkRunFits, estimateMemory, LimitError } from '../../src/model/memory.js';
import { PRESETS } from '../../src/model/presets.js';
import { FIXTURES } from '../helpers/golden.js';
import { thrown } from '../helpers/errors.js';

const LAVAPIPE = { maxBufferSize: 2 * 2 ** 30, maxStorageBufferBindingSize: 128 * 2 ** 20 };
const dit = parseConfig(PRESETS['dit-xl-2']!.config);
// latte_small widened to DiT-XL's 1152 (16 heads × 72)
const latte = parseConfig({ ...JSON.parse(readFileSync(join(FIXTURES, 'latte_small', 'model', 'config.json'), 'utf8')), num_attention_heads: 16, attention_head_dim: 72, cross_attention_dim: 1152 });

/** `run`'s result and how much the process's peak resident memory grew meanwhile (a table freed on return still counts). */
function measured<T>(run: () => T): { value: T; grew: number } {
  const peak = () => Math.max(process.resourceUsage().maxRSS * 1024, process.memoryUsage().rss);
  const before = peak();
  const value = run();
  return { value, grew: peak() - before };
}

describe('dry runs allocate no position table', () => {
  for (const [name, c, latent, text] of [
    ['DiT-XL/2', dit, [1, 4, 2048, 2048], undefined],
    ['Latte (dim 1152)', latte, [1, 4, 1, 2048, 2048], [1, 8, 16]],
  ] as const) {
    it(`${name} at a 2048×2048 latent: estimateMemory sizes the pos_embed table without building it`, () => {
      const { value: m, grew } = measured(() => estimateMemory(c, [...latent], text && [...text], 'f32', LAVAPIPE));
      expect(m.largestName).toBe('x0 [1,1048576,1152]');
      expect(m.activations).toBeGreaterThan(4.5 * 2 ** 30);
      expect(grew).toBeLessThan(1024 * 2 ** 20);
    }, 60_000);

    it(`${name} at a 2048×2048 latent: checkRunFits refuses it (LimitError) without building the table`, () => {
      const { value: e, grew } = measured(() => thrown(() => checkRunFits(c, [...latent], text && [...text], 'f32', LAVAPIPE), LimitError));
      expect(e.message).toMatch(/^this run \(latents \[[\d,]+\](, text \[1,8,16\])?, f32\) needs \d+\.\d\d GiB on the GPU \(weights [^)]+\); its largest tensor, x0 \[1,1048576,1152\], is 4\.50 GiB, above the adapter's maxStorageBufferBindingSize of 128\.0 MiB: /);
      expect(grew).toBeLessThan(1024 * 2 ** 20);
    }, 60_000);
  }
});
