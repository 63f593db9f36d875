// Mutation round 5 (session 18) on unexpectedKeys in loadVae (3927e1a): a checkpoint tensor under post_quant_conv. the
// decoder has no place for is an unexpected key as one under decoder. is (the existing test added only a decoder.*
// one); and a rejecting onWarning fails the load (warnLine awaits it) instead of an unhandled rejection beside a load
// that goes on. Both are decided before the device is acquired: no GPU.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { readSafetensors } from '../../src/io/read-safetensors.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { WeightError } from '../../src/model/weights.js';
import { loadVae } from '../../src/vae/vae.js';
import { ROOT } from '../helpers/golden.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-vae-unexpected5-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** tessera-shapes' VAE with `extra` (2 values each) added to its weights file. */
async function vaeWith(extra: string[]): Promise<string> {
  const dir = join(tmp, extra.join('+'));
  cpSync(join(ROOT, 'models', 'tessera-shapes', 'vae'), dir, { recursive: true });
  const file = join(dir, 'diffusion_pytorch_model.safetensors');
  const { tensors } = await readSafetensors(file);
  const out = [...tensors].map(([name, t]) => ({ name, dtype: 'F32' as const, shape: t.shape, data: t.data as Float32Array }));
  for (const name of extra) out.push({ name, dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) });
  writeFileSync(file, writeSafetensors(out));
  return dir;
}

describe('loadVae: unexpected decoder-side tensors', () => {
  it('a post_quant_conv.* tensor the decoder does not read is refused by default, named', async () => {
    const dir = await vaeWith(['post_quant_conv.extra']);
    const e = (await loadVae(dir).catch((x: unknown) => x)) as Error;
    expect(e).toBeInstanceOf(WeightError);
    expect(e.message).toMatch(/unexpected keys: post_quant_conv\.extra/);
  });

  it("'warn': a rejecting onWarning fails the load, named, before the device is acquired", async () => {
    const dir = await vaeWith(['decoder.extra_conv.weight']);
    const lines: string[] = [];
    await expect(
      loadVae(dir, {
        unexpectedKeys: 'warn',
        onWarning: async (l) => {
          lines.push(l);
          throw new Error('log sink full');
        },
      }),
    ).rejects.toThrow(/^loadVae: onWarning failed: log sink full/);
    expect(lines).toEqual([`warning: ${dir}: 1 tensor of the checkpoint not used by the model, ignored (unexpectedKeys: 'warn'): decoder.extra_conv.weight`]);
  });
});
