// The loaded VAE as a library object (the embedded models/tessera-shapes VAE): concurrent decodes
// queue instead of overwriting each other's buffers; decode after dispose() is a DisposedError;
// loadVae refuses a bad dtype or an unknown option before reading anything; config keys that are
// absent are reported as missing; the documented output shape follows the config's factors.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { ROOT } from '../helpers/golden.js';
import { thrown } from '../helpers/errors.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { loadVae, type LoadVaeOptions } from '../../src/vae/vae.js';
import { parseVaeConfig } from '../../src/vae/config.js';
import { ConfigError } from '../../src/model/config.js';
import { InputError } from '../../src/model/model.js';
import { LimitError } from '../../src/model/memory.js';
import { DisposedError } from '../../src/gpu/serial.js';
import { randn } from '../../src/random.js';

const DIR = join(ROOT, 'models', 'tessera-shapes', 'vae');
const SHAPE = [1, 16, 3, 8, 8];
const latents = (seed: number) => ({ data: randn(SHAPE.reduce((a, b) => a * b, 1), seed), shape: SHAPE });

describe('loadVae options (before anything is read)', () => {
  // a folder that does not exist: the options are refused before it is opened
  const nowhere = join(ROOT, 'no-such-vae-folder');
  it('refuses a dtype other than f32 / f16', async () => {
    const e = await loadVae(nowhere, { dtype: 'f64' } as unknown as LoadVaeOptions).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe(`dtype: 'f32' or 'f16', got "f64"`);
    expect((e as InputError).option).toBe('dtype'); // the README promises e.option for an option check
  });
  it('refuses an unknown option, naming the accepted ones', async () => {
    const e = await loadVae(nowhere, { dtyp: 'f16' } as unknown as LoadVaeOptions).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe('dtyp: not an option of loadVae; did you mean dtype? (options: gpu, device, dtype, variant, onProgress, preflight, maxMemory, signal, unexpectedKeys, onWarning)');
  });
});

describe('VAE config.json: absent keys are "missing"', () => {
  const wan = { _class_name: 'AutoencoderKLWan', z_dim: 2, latents_mean: [0, 0], latents_std: [1, 1] };
  it('latents_mean absent', () => {
    const { latents_mean: _, ...c } = wan;
    expect(thrown(() => parseVaeConfig(c, 'vae/config.json'), ConfigError).message).toBe('vae/config.json: "latents_mean" is missing (expected a list of 2 numbers, one per latent channel)');
  });
  it('a present but wrong value still says what was found', () => {
    expect(thrown(() => parseVaeConfig({ ...wan, z_dim: 0 }, 'vae/config.json'), ConfigError).message).toBe('vae/config.json: "z_dim" must be a positive integer, got 0');
  });
  it('decoder_base_dim null falls back to base_dim (null is not "missing" there)', () => {
    const c = parseVaeConfig({ ...wan, decoder_base_dim: null, base_dim: 8 });
    expect(c.kind === 'wan' && c.baseDim).toBe(8);
  });
});

describe.skipIf(!hasGpu)('embedded VAE (GPU)', () => {
  it('output shape uses the config factors: [1,16,3,8,8] → [1,3,1+t(F−1),sH,sW] with s = t = 4', async () => {
    const vae = await loadVae(nodeFolder(DIR), { gpu: gpu! });
    try {
      expect(vae.config.kind === 'wan' && [vae.config.scaleFactorSpatial, vae.config.scaleFactorTemporal]).toEqual([4, 4]);
      expect(vae.plan(SHAPE).outShape).toEqual([1, 3, 9, 32, 32]);
    } finally {
      vae.dispose();
    }
  });

  it('two decodes at once on one VAE run one after the other and give the sequential results', async () => {
    const vae = await loadVae(nodeFolder(DIR), { gpu: gpu! });
    try {
      const a = latents(1);
      const b = latents(2);
      const seen: string[] = [];
      const [pa, pb] = await Promise.all([vae.decode(a, { onProgress: () => seen.push('a') }), vae.decode(b, { onProgress: () => seen.push('b') })]);
      // one call at a time (the second would otherwise hold a second set of activations at once)
      expect(seen.join('')).toMatch(/^a+b+$/);
      const sa = await vae.decode(a);
      const sb = await vae.decode(b);
      expect(pa.shape).toEqual([1, 3, 9, 32, 32]);
      expect(sa.data.some((v, i) => v !== sb.data[i])).toBe(true); // the two inputs do differ
      expect(pa.data).toEqual(sa.data);
      expect(pb.data).toEqual(sb.data);
    } finally {
      vae.dispose();
    }
  }, 120_000);

  it('a sample beyond one Float32Array (2^32 values) is refused before any GPU work, with the sizes', async () => {
    const vae = await loadVae(nodeFolder(DIR), { gpu: gpu! });
    try {
      // embedded VAE: ×4 in space and time, 3 channels: [1,3,81,8192,8192] = 16307453952 values
      const e = thrown(() => vae.plan([1, 16, 21, 2048, 2048]), LimitError);
      expect(e.message).toBe('decoding latents [1,16,21,2048,2048]: the sample [1,3,81,8192,8192] would be 16307453952 f32 values (60.75 GiB) on the host, above the 2^32 values one Float32Array holds: decode fewer frames or a smaller batch per call');
    } finally {
      vae.dispose();
    }
  }, 120_000);

  it('dispose(): decodes called before it (running or queued) finish, later calls throw DisposedError', async () => {
    const vae = await loadVae(nodeFolder(DIR), { gpu: gpu! });
    const want = `VAE ${DIR} was disposed: load it again to use it`;
    const alone = await vae.decode(latents(2));
    const running = vae.decode(latents(1));
    const queued = vae.decode(latents(2));
    vae.dispose(); // at once: the second call has not started yet, and a caller cannot tell
    const out = await running;
    expect(out.shape).toEqual([1, 3, 9, 32, 32]);
    expect(out.data.every(Number.isFinite)).toBe(true);
    expect(Array.from((await queued).data)).toEqual(Array.from(alone.data));
    const later = await vae.decode(latents(1)).catch((x: unknown) => x);
    expect(later).toBeInstanceOf(DisposedError);
    expect((later as Error).message).toBe(want);
    expect(thrown(() => vae.plan(SHAPE), DisposedError).message).toBe(want);
    vae.dispose(); // a second dispose is harmless
  }, 120_000);
});
