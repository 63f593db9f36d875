// Wan's rope_max_seq_len (config.json; diffusers' default 1024): diffusers' WanRotaryPosEmbed holds
// that many positions per axis and fails when the grid after patching is longer on frames, height or
// width. tessera computes its RoPE table for the grid itself, so it refuses such latents instead of
// running what diffusers cannot: in forward/generate's input checks (naming hidden_states, or generate's shape), in the
// memory estimate (naming latent) and from the CLI, before the run records or allocates anything.
// At the limit the output is the golden one (the table's values do not depend on the limit).
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { ConfigError, parseConfig, type WanConfig } from '../../src/model/config.js';
import { estimateMemory } from '../../src/model/memory.js';
import { InputError, loadModel } from '../../src/model/model.js';
import { generate } from '../../src/sampler/generate.js';
import { readInputs } from '../../src/io/inputs.js';
import { tesseraCli } from '../helpers/cli.js';
import { relError } from '../helpers/compare.js';
import { thrown } from '../helpers/errors.js';
import { FIXTURES, fixtureInputs } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { goldenF32Tol } from '../tolerances.js';

const WAN = join(FIXTURES, 'wan_small');
const baseConfig = JSON.parse(readFileSync(join(WAN, 'model', 'config.json'), 'utf8')) as Record<string, unknown>;
// wan_small's inputs: hidden_states [1,4,2,6,8], patch 1×2×2 → grid 2×3×4
const over3 = (name: string, shape = '1,4,2,6,8') =>
  `${name}: [${shape}] gives a grid of 2×3×4 (frames×height×width after patch_size 1×2×2), beyond config.json's rope_max_seq_len 3 in width: ` +
  "the 3-D RoPE has 3 positions per axis (diffusers' WanRotaryPosEmbed); use latents of at most 3×6×6 frames×height×width, or raise rope_max_seq_len in config.json";

const dirs: string[] = [];
/** wan_small's weights under a config.json with rope_max_seq_len `r`. */
function wanFolder(r: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-rope-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...baseConfig, rope_max_seq_len: r }));
  copyFileSync(join(WAN, 'model', 'diffusion_pytorch_model.safetensors'), join(dir, 'diffusion_pytorch_model.safetensors'));
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('rope_max_seq_len in config.json', () => {
  it("is read, with diffusers' default 1024 when absent", () => {
    const { rope_max_seq_len: _, ...without } = baseConfig;
    expect((parseConfig(without) as WanConfig).ropeMaxSeqLen).toBe(1024);
    expect((parseConfig({ ...baseConfig, rope_max_seq_len: 3 }) as WanConfig).ropeMaxSeqLen).toBe(3);
  });

  it('a value that is not a positive integer is a ConfigError naming the file and key', () => {
    for (const v of ['1024', 0, 2.5, true]) {
      expect(thrown(() => parseConfig({ ...baseConfig, rope_max_seq_len: v }, 'm/config.json'), ConfigError).message).toBe(`m/config.json: "rope_max_seq_len" must be an integer ≥ 1, found ${JSON.stringify(v)}`);
    }
  });

  it('the memory estimate refuses a grid longer than it on any axis, and takes one at the limit', () => {
    const c = parseConfig({ ...baseConfig, rope_max_seq_len: 3 });
    expect(thrown(() => estimateMemory(c, [1, 4, 2, 6, 8], [1, 6, 24], 'f32'), InputError).message).toBe(over3('latent'));
    expect(thrown(() => estimateMemory(c, [1, 4, 4, 8, 6], [1, 6, 24], 'f32'), InputError).message).toMatch(/^latent: \[1,4,4,8,6\] gives a grid of 4×4×3 .* rope_max_seq_len 3 in frames and height: /);
    expect(estimateMemory(c, [1, 4, 3, 6, 6], [1, 6, 24], 'f32').total).toBeGreaterThan(0);
  });
});

describe.skipIf(!hasGpu)('a Wan model refuses latents beyond rope_max_seq_len', () => {
  it("forward and generate: InputError naming the input (forward's hidden_states, generate's seeded shape; also in e.option), before any plan or buffer", async () => {
    const m = await loadModel(wanFolder(3), { gpu: gpu! });
    try {
      const inputs = await fixtureInputs('wan_small');
      const bytes = m.gpuBytes;
      const e = await m.forward(inputs).then(() => new Error('accepted'), (x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toBe(over3('hidden_states'));
      expect((e as InputError).option).toBe('hidden_states');
      const g = await generate(m, { scheduler: 'flow-match-euler', num_inference_steps: 1, seed: 0, shape: [1, 4, 2, 6, 8], encoder_hidden_states: inputs.encoder_hidden_states }).then(() => new Error('accepted'), (x: unknown) => x);
      expect(g).toBeInstanceOf(InputError);
      expect((g as Error).message).toBe(over3('shape'));
      expect((g as InputError).option).toBe('shape');
      expect(m.gpuBytes).toBe(bytes);
    } finally {
      m.destroy();
    }
  }, 120_000);

  it('at the limit (rope_max_seq_len 4 = the longest axis) the output is the golden one', async () => {
    const m = await loadModel(wanFolder(4), { gpu: gpu! });
    try {
      const out = await m.forward(await fixtureInputs('wan_small'));
      const exp = (await readInputs(join(WAN, 'expected.safetensors'))).get('sample')!.f32!;
      expect(relError(out.data, exp)).toBeLessThanOrEqual(goldenF32Tol(2e-3));
    } finally {
      m.destroy();
    }
  }, 120_000);

  it('CLI forward: exit 1 with the one line, no output file', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tessera-rope-out-')), 'o.safetensors');
    dirs.push(join(out, '..'));
    const r = await tesseraCli(['forward', '--model', wanFolder(3), '--inputs', join(WAN, 'inputs.safetensors'), '--out', out]);
    expect(r.stderr.trim()).toBe(`tessera: error: InputError: ${over3('hidden_states')}`);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
