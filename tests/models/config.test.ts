// Config checks that depend on what the kernels can run: refused before any weight is read.
import { describe, expect, it } from 'vitest';
import { parseConfig, ConfigError } from '../../src/model/config.js';
import { PRESETS } from '../../src/model/presets.js';

describe('attention head dims the kernel cannot run are refused at config time', () => {
  for (const [name, p] of Object.entries(PRESETS)) {
    it(`${name}: preset config parses`, () => expect(parseConfig(p.config).family).toBeTruthy());
  }
  for (const hd of [4, 10, 130, 256]) {
    it(`attention_head_dim ${hd}`, () => {
      const c = { ...PRESETS['dit-tiny']!.config, attention_head_dim: hd, num_attention_heads: 4 };
      expect(() => parseConfig(c)).toThrow(ConfigError);
      expect(() => parseConfig(c)).toThrow(new RegExp(`attention_head_dim ${hd} is not supported .*multiple of 4 from 8 to 128`));
    });
  }
  it('Wan 128, DiT 72, Latte 72 and the golden 16 are accepted', () => {
    for (const hd of [16, 72, 128]) expect(parseConfig({ ...PRESETS['dit-tiny']!.config, attention_head_dim: hd }).headDim).toBe(hd);
  });
});
