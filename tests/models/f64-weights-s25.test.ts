// F64 weights (S25 review, finding 6): tessera refused them ("tessera reads F32, F16 and BF16 weights … save_pretrained
// in bfloat16", advice that loses precision); diffusers' from_pretrained casts a float64 checkpoint to the model's dtype
// (float32 by default, float16 when asked). Now they load rounded to f32 (then to f16 under dtype 'f16'): the same
// model saved in F64 gives what its F32 file gives, bit for bit. The F64 values here are the F32 ones nudged by a
// fraction of an ulp (x·(1 + 2^-30)), so a reader that did not round to nearest would differ.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { readInputs } from '../../src/io/inputs.js';
import { loadModel, type ForwardInputs } from '../../src/model/model.js';
import { checkKeys, expectedKeys, WeightError } from '../../src/model/weights.js';
import { parseConfig } from '../../src/model/config.js';
import { getPreset } from '../../src/model/presets.js';
import { loadTextEncoder } from '../../src/text/prompt-encoder.js';
import { randn } from '../../src/random.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../helpers/golden.js';
import { tempDir } from '../hardening/helpers.js';
import { rawFile } from '../io/helpers.js';

/** `src` (a float safetensors file) rewritten with every tensor F64, each value x·(1 + 2^-30) (rounds back to x in f32). */
async function asF64(src: string, out: string): Promise<void> {
  const m = await readInputs(src);
  const header: Record<string, unknown> = {};
  const data: number[] = [];
  for (const [name, t] of m) {
    header[name] = { dtype: 'F64', shape: t.shape, data_offsets: [8 * data.length, 8 * (data.length + t.f32!.length)] };
    for (const x of t.f32!) data.push(x * (1 + 2 ** -30));
  }
  const buf = rawFile(header, new Uint8Array(Float64Array.from(data).buffer));
  writeFileSync(out, buf);
  // the nudge is real: some value's F64 differs from its f32
  expect([...m.values()].some((t) => t.f32!.some((x) => x !== 0))).toBe(true);
}

/** A copy of `dir` whose `file` is stored F64. */
async function f64Copy(dir: string, file: string): Promise<string> {
  const out = join(tempDir(), 'f64');
  cpSync(dir, out, { recursive: true });
  await asF64(join(dir, file), join(out, file));
  expect(readFileSync(join(out, file)).subarray(8, 400).toString()).toContain('"F64"');
  return out;
}

describe('checkKeys', () => {
  const want = expectedKeys(parseConfig(getPreset('dit-tiny').config));
  it('takes F64 weights; the advice for others is float32', () => {
    const h = new Map([...want].map(([k, shape]) => [k, { shape, dtype: 'F64' }]));
    expect(() => checkKeys('m', h, want)).not.toThrow();
    h.set([...want.keys()][0]!, { shape: want.values().next().value!, dtype: 'F8_E4M3' });
    expect(() => checkKeys('m', h, want)).toThrow(new WeightError(`m: unsupported weight dtype F8_E4M3 in 1 tensor (${[...want.keys()][0]} is F8_E4M3): tessera reads F32, F16, BF16 and F64 weights; convert the checkpoint (e.g. load it in diffusers and save_pretrained in float32)`));
  });
});

describe.skipIf(!hasGpu)('the same model saved in F64 and F32 gives the same output', () => {
  it('WanTransformer3DModel, dtype f32 and f16', async () => {
    const WAN = join(FIXTURES, 'wan_small', 'model');
    const f64 = await f64Copy(WAN, 'diffusion_pytorch_model.safetensors');
    const inputs: ForwardInputs = {
      hidden_states: { data: randn(4 * 2 * 6 * 8, 1), shape: [1, 4, 2, 6, 8] },
      timestep: [700],
      encoder_hidden_states: { data: randn(6 * 24, 2), shape: [1, 6, 24] },
    };
    for (const dtype of ['f32', 'f16'] as const) {
      if (dtype === 'f16' && !gpu!.f16) continue;
      const out: Float32Array[] = [];
      for (const dir of [WAN, f64]) {
        const m = await loadModel(dir, { gpu: gpu!, dtype });
        try {
          out.push((await m.forward(inputs)).data);
        } finally {
          m.dispose();
        }
      }
      expect(out[1], dtype).toEqual(out[0]);
    }
  });
  it('UMT5EncoderModel (the text encoder)', async () => {
    const P = join(FIXTURES, 'umt5', 'truncneg', 'pipeline');
    const te = await f64Copy(join(P, 'text_encoder'), 'model.safetensors');
    const out: Float32Array[] = [];
    for (const textEncoder of [join(P, 'text_encoder'), te]) {
      const enc = await loadTextEncoder({ tokenizer: join(P, 'tokenizer'), textEncoder }, { gpu: gpu! });
      try {
        out.push((await enc.encodePrompt('a blue square moving right', { max_sequence_length: 12 })).data);
      } finally {
        enc.dispose();
      }
    }
    expect(out[1]).toEqual(out[0]);
  });
});
