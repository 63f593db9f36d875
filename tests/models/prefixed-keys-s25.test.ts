// A checkpoint whose tensor names all carry a wrapper's prefix (`model.diffusion_model.blocks.0…`, S25 review finding 8)
// was refused with 69 missing and 69 unexpected keys and no word that the two lists differ by one prefix. The mismatch
// line now leads with the prefix and what removing it gives; names that a prefix does not explain get no such hint.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { parseConfig } from '../../src/model/config.js';
import { getPreset } from '../../src/model/presets.js';
import { checkKeys, expectedKeys, prefixHint, WeightError } from '../../src/model/weights.js';
import { loadTextEncoder } from '../../src/text/prompt-encoder.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../helpers/golden.js';
import { rewriteTensors, tempDir } from '../hardening/helpers.js';

const want = expectedKeys(parseConfig(getPreset('dit-tiny').config));
const N = want.size;
type Have = Map<string, { shape: number[]; dtype: string }>;
/** The preset's keys renamed by `f`, plus `extra` names. */
function renamed(f: (k: string) => string, extra: string[] = []): Have {
  const m: Have = new Map([...want].map(([k, shape]) => [f(k), { shape, dtype: 'F32' }]));
  for (const k of extra) m.set(k, { shape: [1], dtype: 'F32' });
  return m;
}
const refusal = (have: Have) => {
  try {
    checkKeys('m', have, want);
  } catch (e) {
    expect(e).toBeInstanceOf(WeightError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('checkKeys names a prefix shared by the checkpoint', () => {
  it("every name under 'model.diffusion_model.': said first, with the keys it accounts for", () => {
    expect(refusal(renamed((k) => `model.diffusion_model.${k}`))).toMatch(
      new RegExp(`^m: the weights do not match config\\.json: every tensor name starts with 'model\\.diffusion_model\\.': without it they are the ${N} keys the model expects \\(a checkpoint saved with its wrapper's prefix: save the tensors without it\\); missing keys: `),
    );
  });
  it('a whole-pipeline file (other components beside the prefixed ones): how many names start with it', () => {
    const msg = refusal(renamed((k) => `net.${k}`, ['first_stage_model.decoder.conv_in.weight', 'cond_stage_model.shared.weight']));
    expect(msg).toContain(`: ${N} of the ${N + 2} tensor names start with 'net.': without it they are the ${N} keys the model expects`);
  });
  it('a prefix on only some names: how many missing keys it accounts for', () => {
    const keys = [...want.keys()];
    const half = new Set(keys.slice(0, Math.ceil(keys.length * 0.6)));
    const msg = refusal(renamed((k) => (half.has(k) ? `module.${k}` : `other_${k}`)));
    expect(msg).toContain(`${half.size} of the ${N} tensor names start with 'module.': without it ${half.size} of the ${N} missing keys are there`);
  });
  it('no hint where names differ otherwise, or a prefix explains under half the missing keys', () => {
    expect(refusal(renamed((k) => k.replace(/\./g, '_')))).not.toMatch(/starts? with/);
    const keys = [...want.keys()];
    const few = new Set(keys.slice(0, Math.floor(keys.length * 0.4)));
    expect(refusal(renamed((k) => (few.has(k) ? `module.${k}` : `x_${k}`)))).not.toMatch(/starts? with/);
    expect(prefixHint(['a.b'], ['a.b'], ['c'])).toBeNull();
  });
});

describe.skipIf(!hasGpu)('the text encoder names it too', () => {
  it("UMT5 weights saved under 'text_encoder.'", async () => {
    const P = join(FIXTURES, 'umt5', 'truncneg', 'pipeline');
    const te = join(tempDir(), 'text_encoder');
    cpSync(join(P, 'text_encoder'), te, { recursive: true });
    await rewriteTensors(join(P, 'text_encoder', 'model.safetensors'), join(te, 'model.safetensors'), (m) => {
      for (const [k, t] of [...m]) {
        m.delete(k);
        m.set(`text_encoder.${k}`, t);
      }
    });
    const e = await loadTextEncoder({ tokenizer: join(P, 'tokenizer'), textEncoder: te }, { gpu: gpu! }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WeightError);
    expect((e as Error).message).toMatch(/: the weights do not match config\.json: missing the token embedding \(.*\); every tensor name starts with 'text_encoder\.': without it they are the \d+ keys the model expects/);
  });
});
