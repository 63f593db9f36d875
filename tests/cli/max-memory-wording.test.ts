// One way to suggest a larger GPU memory budget. The library says `a larger maxMemory budget (N bytes or
// more)`, N the bytes that hold the refused run (model/memory.ts largerBudget), in every refusal over a
// budget: the transformer's run, the resident model's next run, the text encoder, the VAE decode and the
// pipeline's decode; without N only where no one figure holds it (the weights alone over it). The CLI says
// `give --max-memory N or more` (errors.ts flagNames). Before, the VAE said "load it with maxMemory N bytes
// or more", the pipeline "a larger maxMemory budget: N bytes or more", the weights check "a larger budget",
// and the resident model and the text encoder gave no N. GPU-backed refusals: tests/vae/vae-memory.test.ts,
// tests/pipeline/pipeline-max-memory.test.ts, tests/sampler/sampler-budget.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flagNames } from '../../src/cli/errors.js';
import { parseConfig } from '../../src/model/config.js';
import { checkWeightsFit, largerBudget, LimitError } from '../../src/model/memory.js';
import { PRESETS } from '../../src/model/presets.js';
import { parseUmt5Config } from '../../src/text/config.js';
import { checkUmt5Fits } from '../../src/text/memory.js';
import { thrown } from '../helpers/errors.js';
import { ROOT } from '../helpers/golden.js';

const LAVAPIPE = { maxStorageBufferBindingSize: 134217728, maxBufferSize: 4294967295 };
// UMT5-XXL (Wan2.1's text encoder): its config alone plans an encode, no GPU
const XXL = parseUmt5Config({
  architectures: ['UMT5EncoderModel'], model_type: 'umt5', d_model: 4096, d_kv: 64, num_heads: 64, d_ff: 10240, num_layers: 24,
  vocab_size: 256384, relative_attention_num_buckets: 32, relative_attention_max_distance: 128, feed_forward_proj: 'gated-gelu', dense_act_fn: 'gelu_new', layer_norm_epsilon: 1e-6,
});

describe('a larger budget, one phrase in the library and one on the command line', () => {
  it('largerBudget and its CLI form', () => {
    expect(largerBudget(5242880)).toBe('a larger maxMemory budget (5242880 bytes or more)');
    expect(flagNames(`x: use smaller latents (height×width) or ${largerBudget(5242880)}`)).toBe('x: use smaller latents (height×width) or give --max-memory 5242880 or more');
    expect(flagNames(`${largerBudget()} or a smaller model`)).toBe('a larger --max-memory budget or a smaller model');
  });

  it('the text encoder over the budget names N, the bytes that hold the encode (N − 1 does not); the CLI says give --max-memory N or more', () => {
    const e = thrown(() => checkUmt5Fits(XXL, 1, 512, LAVAPIPE, { maxMemory: 4 * 2 ** 30, stream: false }), LimitError);
    const m = / or a larger maxMemory budget \((\d+) bytes or more\)$/.exec(e.message);
    expect(m, e.message).not.toBeNull();
    const need = Number(m![1]);
    expect(() => checkUmt5Fits(XXL, 1, 512, LAVAPIPE, { maxMemory: need, stream: false })).not.toThrow();
    expect(() => checkUmt5Fits(XXL, 1, 512, LAVAPIPE, { maxMemory: need - 1, stream: false })).toThrow(LimitError);
    expect(flagNames(e.message)).toMatch(new RegExp(`, a shorter --max-sequence-length or give --max-memory ${need} or more$`));
  });

  it('the weights alone over the budget: the phrase without N (it was "a larger budget")', () => {
    const e = thrown(() => checkWeightsFit(parseConfig(PRESETS['dit-tiny']!.config), 'f32', LAVAPIPE, { maxMemory: 1000, f16: false }), LimitError);
    expect(e.message).toMatch(/\(maxMemory\): a larger maxMemory budget or a smaller model$/);
    expect(flagNames(e.message)).toMatch(/\(--max-memory \/ TESSERA_MAX_GPU_MEMORY\): a larger --max-memory budget or a smaller model$/);
  });

  it('no other wording of it in src/: every suggestion goes through largerBudget', () => {
    const files = (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    const other = /bytes or more|larger budget|larger maxMemory budget|with maxMemory \d|with maxMemory \$/;
    const found: string[] = [];
    for (const f of files) {
      readFileSync(join(ROOT, 'src', f), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\s*(\/\/|\*|\/\*)/.test(line) || !other.test(line)) return;
          if (f === join('model', 'memory.ts') && line.includes('return need === undefined')) return; // largerBudget itself
          if (f === join('cli', 'errors.ts') && line.includes('.replace(')) return; // flagNames' rewrite of it
          found.push(`src/${f}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(found).toEqual([]);
  });
});
