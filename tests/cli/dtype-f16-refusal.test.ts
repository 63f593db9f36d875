// --dtype f16 on an adapter without shader-f16 is the flag's problem wherever it is given: one UsageError line in
// the flag's words (exit 2). bench and tune said so; forward, generate, decode and demo --preset passed on the
// loaders' InputError ("dtype: 'f16' needs …", exit 1). The adapter here is lavapipe with shader-f16 turned off
// (acquireGpu's disableFeatures, and left out of Gpu.adapterFeatures, as an adapter without it), and the commands run in-process through main().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { thrown } from '../helpers/errors.js';

vi.mock('../../src/gpu/device.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/gpu/device.js')>();
  // an adapter without it: the feature turned off, and not recorded as offered (else the refusal blames disableFeatures)
  const lacking = async (o: Parameters<typeof m.acquireGpu>[0] = {}) => {
    const g = await m.acquireGpu({ ...o, disableFeatures: ['shader-f16'] });
    g.adapterFeatures = g.adapterFeatures?.filter((f) => f !== 'shader-f16');
    return g;
  };
  return { ...m, acquireGpu: lacking };
});

const { main } = await import('../../src/cli/main.js');
const { hasGpu } = await import('../helpers/gpu.js');
const { FIXTURES } = await import('../helpers/golden.js');

const tmp = mkdtempSync(join(tmpdir(), 'tessera-f16-refusal-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** main(argv): its exit code and its stderr lines (console.error), less Dawn's warnings. */
async function run(argv: string[]): Promise<{ code: number; err: string[] }> {
  const err: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  vi.spyOn(console, 'log').mockImplementation(() => {});
  const code = await main(argv);
  return { code, err: err.filter((l) => !l.startsWith('Warning: ')) };
}

describe.skipIf(!hasGpu)('--dtype f16 without shader-f16: the same UsageError line, exit 2, in every command', () => {
  it.each([
    ['forward', ['forward', '--model', join(FIXTURES, 'dit_small', 'model'), '--inputs', join(FIXTURES, 'dit_small', 'inputs.safetensors'), '--out', join(tmp, 'f.safetensors')]],
    // (an AutoencoderKL with force_upcast runs in f32 whatever --dtype says: the Wan VAE here)
    ['decode', ['decode', '--vae', join(FIXTURES, 'wan_vae_small', 'vae'), '--inputs', join(FIXTURES, 'wan_vae_small', 'inputs.safetensors'), '--out', join(tmp, 'd.safetensors')]],
    ['demo --preset', ['demo', '--preset', 'dit-tiny', '--steps', '1', '--out', join(tmp, 'demo')]],
    // a sampler case's inputs (latents and text; a forward case's hidden_states/timestep are refused from the header first)
    ['generate --model', ['generate', '--model', join(FIXTURES, 'wan_sampler_small', 'model'), '--steps', '1', '--guidance', '2', '--inputs', join(FIXTURES, 'wan_sampler_small', 'inputs.safetensors'), '--out', join(tmp, 'g.safetensors')]],
    ['bench gemm', ['bench', 'gemm', '--m', '4', '--k', '4', '--n', '4']],
  ])('%s', async (_, argv) => {
    const r = await run([...argv, '--dtype', 'f16']);
    expect(r.err).toEqual([expect.stringMatching(/^tessera: error: UsageError: --dtype f16 needs the adapter feature shader-f16, which .+ lacks: use --dtype f32$/)]);
    expect(r.code).toBe(2);
  }, 60_000);
});

describe.skipIf(!hasGpu)('the library side', () => {
  it('checkDtypeOnAdapter throws DtypeUnsupportedError, an InputError (what the CLI maps, by class, not by its text)', async () => {
    const { acquireGpu } = await import('../../src/gpu/device.js');
    const { checkDtypeOnAdapter, DtypeUnsupportedError, InputError } = await import('../../src/model/model.js');
    const { errorLine, exitStatus } = await import('../../src/cli/errors.js');
    const gpu = await acquireGpu(); // shader-f16 turned off by the mock above
    try {
      const e = thrown(() => checkDtypeOnAdapter(gpu, 'f16'), DtypeUnsupportedError);
      expect(e).toBeInstanceOf(InputError);
      expect(() => checkDtypeOnAdapter(gpu, 'f32')).not.toThrow();
      // another InputError with the same words is not mapped: the class decides
      const lookalike = new InputError(e.message);
      expect([errorLine(lookalike, false).split(': ')[2], exitStatus(lookalike)]).toEqual(['InputError', 1]);
      expect([errorLine(e, false).split(': ')[2], exitStatus(e)]).toEqual(['UsageError', 2]);
    } finally {
      gpu.destroy();
    }
  });
});
