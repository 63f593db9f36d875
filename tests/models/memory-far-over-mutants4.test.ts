// Mutation round 4 (session 17) on farOverBinding (src/model/memory.ts): one item's hidden states are counted in
// tokens after the whole patch, the temporal one too. With patch_size [2,2,2] a latent of 2 frames at 64×64 is
// 1024 tokens (64× a 6 KiB binding for wan-tiny's dim 96 in f32: a dry run), not 2048 (refused from the shapes).
// Failed under a mutant (tokens = F · …, the temporal patch ignored) that survived memory-far-over.test.ts,
// whose presets all have a temporal patch of 1.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/model/config.js';
import { estimateMemory, LimitError } from '../../src/model/memory.js';
import { PRESETS } from '../../src/model/presets.js';
import { thrown } from '../helpers/errors.js';

const tiny = PRESETS['wan-tiny']!.config as Record<string, unknown>;
const limits = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 6 * 1024 };
const text = [1, 8, 64];

describe('farOverBinding with a temporal patch of 2', () => {
  const c = parseConfig({ ...tiny, patch_size: [2, 2, 2] });

  it('2 latent frames at 64×64 are 1×32×32 = 1024 tokens, exactly 64× the binding: estimated, not refused', () => {
    const est = estimateMemory(c, [1, 16, 2, 64, 64], text, 'f32', limits);
    expect(est.plan.dispatches).toBeGreaterThan(0);
  });

  it('4 latent frames are 2048 tokens: refused from the shapes, naming [2048,96] per item', () => {
    const e = thrown(() => estimateMemory(c, [1, 16, 4, 64, 64], text, 'f32', limits), LimitError);
    expect(e.message).toContain('its hidden states, [2048,96] per item, are 768.0 KiB, more than 64× ');
  });
});
