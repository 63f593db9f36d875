// `tessera decode --max-memory SIZE` (or TESSERA_MAX_GPU_MEMORY), as generate/forward/encode take it:
// loadVae's maxMemory. A decode whose weights + peak activations exceed it exits 1 with one line giving
// both figures and the flag to change, and writes nothing; a bad size is a usage error (exit 2).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { cli, ROOT, tempDir } from '../hardening/helpers.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { fmtBytes } from '../../src/gpu/tensor.js';
import { loadVae } from '../../src/vae/vae.js';
import { decodeMemory } from '../../src/vae/decoder.js';
import type { VaeWeights } from '../../src/vae/weights.js';
import { randn } from '../../src/random.js';
import { flagNames } from '../../src/cli/errors.js';

const VAE = join(ROOT, 'models', 'tessera-shapes', 'vae');
const SHAPE = [1, 16, 2, 8, 8];

describe('flagNames: the VAE budget message in CLI terms', () => {
  it('names --max-memory where the library names maxMemory', () => {
    expect(flagNames("decoding latents [1,16,2,8,8] needs 5.0 MiB on the GPU (weights 4.0 MiB, frames, caches and scratch 1.0 MiB), above the VAE's maxMemory budget of 2.0 MiB: use smaller latents (height×width) or a larger maxMemory budget (5242880 bytes or more)")).toBe(
      'decoding latents [1,16,2,8,8] needs 5.0 MiB on the GPU (weights 4.0 MiB, frames, caches and scratch 1.0 MiB), above the --max-memory budget of 2.0 MiB: use smaller latents (height×width) or give --max-memory 5242880 or more',
    );
  });
});

describe.skipIf(!hasGpu)('tessera decode --max-memory', () => {
  const dir = tempDir();
  const inputs = join(dir, 'latents.safetensors');
  let need = 0;
  let weights = 0;
  beforeAll(async () => {
    writeFileSync(inputs, writeSafetensors([{ name: 'latents', dtype: 'F32', shape: SHAPE, data: randn(SHAPE.reduce((a, b) => a * b, 1), 3) }]));
    // what the decode needs, as loadVae's own check measures it
    const vae = await loadVae(nodeFolder(VAE), { gpu: gpu! });
    try {
      const w = (vae as unknown as { weights: VaeWeights }).weights;
      const m = await decodeMemory(vae.gpu, vae.config, w, vae.dtype, vae.plan(SHAPE));
      weights = w.bytes;
      need = weights + m.activations + m.params;
    } finally {
      vae.dispose();
    }
  }, 60_000);
  const refusal = (budget: number) =>
    `tessera: error: LimitError: decoding latents [${SHAPE.join(',')}] needs ${fmtBytes(need)} on the GPU (weights ${fmtBytes(weights)}, frames, caches and scratch ${fmtBytes(need - weights)}), above the --max-memory budget of ${fmtBytes(budget)}: use smaller latents (height×width) or give --max-memory ${need} or more`;

  it('one byte short: exit 1, one line with both figures, nothing written; the flag and the variable alike', async () => {
    const out = join(dir, 'short.safetensors');
    const r = await cli(['decode', '--vae', VAE, '--inputs', inputs, '--out', out, '--max-memory', String(need - 1)]);
    expect(r.errLines).toEqual([refusal(need - 1)]);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    // (a budget below the weights alone is refused before loading: tests/cli/decode-max-memory-early.test.ts)
    const e = await cli(['decode', '--vae', VAE, '--inputs', inputs, '--out', out], { TESSERA_MAX_GPU_MEMORY: String(need - 1) });
    expect(e.errLines).toEqual([refusal(need - 1)]);
    expect(e.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  }, 120_000);

  it('exactly enough: decoded', async () => {
    const out = join(dir, 'exact.safetensors');
    const r = await cli(['decode', '--vae', VAE, '--inputs', inputs, '--out', out, '--max-memory', String(need)]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  }, 120_000);

  it('a bad size is a usage error (exit 2) before anything is read', async () => {
    const out = join(dir, 'bad.safetensors');
    const r = await cli(['decode', '--vae', VAE, '--inputs', inputs, '--out', out, '--max-memory', 'lots']);
    expect(r.errLines).toEqual(['tessera: error: UsageError: --max-memory: not a memory size: "lots" (expected e.g. 512MiB, 2GiB or a number of bytes)']);
    expect(r.code).toBe(2);
    const env = await cli(['decode', '--vae', VAE, '--inputs', inputs, '--out', out], { TESSERA_MAX_GPU_MEMORY: '-1' });
    expect(env.errLines).toEqual(['tessera: error: UsageError: TESSERA_MAX_GPU_MEMORY: not a memory size: "-1" (expected e.g. 512MiB, 2GiB or a number of bytes)']);
    expect(env.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
