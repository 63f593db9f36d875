// The presets of released architectures (src/model/presets.ts) are those models as released: a changed
// head count, FFN width or layer count would still run (random weights) and silently plan and time
// another model. Their parameter counts are diffusers' own: WanTransformer3DModel and
// LatteTransformer3DModel built with the same config.json contents on torch's meta device and counted
// with sum(p.numel() for p in model.parameters()) (diffusers main, this session).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/model/config.js';
import { estimateWeights } from '../../src/model/memory.js';
import { PRESETS } from '../../src/model/presets.js';

const DIFFUSERS_PARAMETERS: Record<string, number> = {
  'wan-1.3b': 1_418_996_800, // Wan2.1-T2V-1.3B
  'wan-14b': 14_288_491_584, // Wan2.1-T2V-14B
  'latte-1': 1_057_246_880, // Latte-1
};

describe('released presets: the parameter count diffusers gives their config', () => {
  it.each(Object.keys(DIFFUSERS_PARAMETERS))('%s', (name) => {
    const c = parseConfig(PRESETS[name]!.config);
    expect(estimateWeights(c, 'f32').bytes / 4).toBe(DIFFUSERS_PARAMETERS[name]);
    expect(estimateWeights(c, 'f16').bytes / 2).toBe(DIFFUSERS_PARAMETERS[name]);
  });
});
