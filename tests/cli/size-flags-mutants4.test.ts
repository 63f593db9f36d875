// Mutation round 4 (session 17) on checkSizeFlags (src/cli/generate-pipeline.ts), called in-process with
// tessera-shapes' transformer config (patch 1×2×2, rope_max_seq_len 1024) and a Wan VAE's scale (8, 4): a size the
// patch cannot split and a size past the RoPE are UsageErrors (exit 2) naming the flags; without a batch (an
// inputs file decides it) the RoPE is left to the later check and the shape is one item's. Each case pins a branch
// a mutant removed while the CLI-spawning tests still passed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { checkSizeFlags } from '../../src/cli/generate-pipeline.js';
import { parseConfig } from '../../src/model/config.js';
import { ROOT } from '../helpers/golden.js';
import { thrown } from '../helpers/errors.js';

const config = parseConfig(JSON.parse(readFileSync(join(ROOT, 'models', 'tessera-shapes', 'transformer', 'config.json'), 'utf8')));
const scale = { spatial: 8, temporal: 4 };

describe('checkSizeFlags', () => {
  it('a size the patch cannot split: a UsageError naming the flag', () => {
    const e = thrown(() => checkSizeFlags(config, scale, { height: 40, width: 32, num_frames: 9 }, 1, 'prompts'), UsageError);
    expect(e.message).toContain('--height');
  });

  it('frames past rope_max_seq_len with a batch: a UsageError naming --frames', () => {
    const e = thrown(() => checkSizeFlags(config, scale, { height: 32, width: 32, num_frames: 100001 }, 1, 'prompts'), UsageError);
    expect(e.message).toContain('--frames');
    expect(e.message).toContain('rope_max_seq_len 1024');
  });

  it('without a batch: one item\'s latent shape, the RoPE left to the check that knows the batch', () => {
    expect(checkSizeFlags(config, scale, { height: 32, width: 32, num_frames: 9 }, undefined, 'prompts')).toEqual([1, 16, 3, 4, 4]);
    expect(checkSizeFlags(config, scale, { height: 32, width: 32, num_frames: 100001 }, undefined, 'prompts')).toEqual([1, 16, 25001, 4, 4]);
    expect(checkSizeFlags(config, scale, { height: 32, width: 32, num_frames: 9 }, 3, 'prompts')).toEqual([3, 16, 3, 4, 4]);
  });
});
