// patchTokens: the one count of tokens per batch item after the patch embedding, over the three
// families, latent grids and shapes, and sizes that are not whole patches (counted up).
import { describe, expect, it } from 'vitest';
import { parseConfig, patchTokens } from '../../src/model/config.js';
import { PRESETS } from '../../src/model/presets.js';

const wan = parseConfig({ ...PRESETS['wan-tiny']!.config, patch_size: [1, 2, 2] });
const wanT2 = parseConfig({ ...PRESETS['wan-tiny']!.config, patch_size: [2, 2, 2] });
const dit = parseConfig(PRESETS['dit-tiny']!.config);
const latte = parseConfig(PRESETS['latte-1']!.config);

describe('patchTokens', () => {
  it('Wan: ⌈F/pt⌉·⌈H/ph⌉·⌈W/pw⌉ from a grid and from a [B, C, F, H, W] shape', () => {
    expect(patchTokens(wan, { frames: 3, height: 8, width: 6 })).toBe(3 * 4 * 3);
    expect(patchTokens(wan, [2, 16, 3, 8, 6])).toBe(3 * 4 * 3);
    expect(patchTokens(wanT2, { frames: 4, height: 8, width: 6 })).toBe(2 * 4 * 3);
  });
  it('odd sizes count a partial patch as one', () => {
    expect(patchTokens(wanT2, { frames: 3, height: 7, width: 5 })).toBe(2 * 4 * 3);
    expect(patchTokens(wanT2, [1, 16, 3, 7, 5])).toBe(2 * 4 * 3);
    expect(patchTokens(dit, { frames: 1, height: 9, width: 3 })).toBe(5 * 2);
  });
  it('DiT: one image whatever frames says; [B, C, H, W] shapes', () => {
    expect(patchTokens(dit, { frames: 5, height: 32, width: 16 })).toBe(16 * 8);
    expect(patchTokens(dit, [2, 4, 32, 16])).toBe(16 * 8);
  });
  it('Latte: every frame its own patches', () => {
    expect(patchTokens(latte, { frames: 2, height: 16, width: 8 })).toBe(2 * 8 * 4);
    expect(patchTokens(latte, [2, 4, 2, 16, 8])).toBe(2 * 8 * 4);
  });
});
