// The text encoder as a library object (the embedded models/tessera-shapes tokenizer/ +
// text_encoder/): concurrent encodePrompt / encode calls queue instead of overwriting each other's
// activations; calls after dispose() are a DisposedError; one prompt may be a string; bad prompts,
// max_sequence_length and options are InputErrors naming them; absent config keys are "missing".
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { ROOT } from '../helpers/golden.js';
import { thrown } from '../helpers/errors.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { loadTextEncoder, type TextEncoderLoadOptions } from '../../src/text/prompt-encoder.js';
import { parseUmt5Config } from '../../src/text/config.js';
import { ConfigError } from '../../src/model/config.js';
import { InputError } from '../../src/model/model.js';
import { DisposedError } from '../../src/gpu/serial.js';

const PIPE = join(ROOT, 'models', 'tessera-shapes');
const folders = { tokenizer: nodeFolder(join(PIPE, 'tokenizer')), textEncoder: nodeFolder(join(PIPE, 'text_encoder')) };
const open = (opts: TextEncoderLoadOptions = {}) => loadTextEncoder(folders, { gpu: gpu!, ...opts });
const L = 16;

describe('text_encoder/config.json: absent keys are "missing"', () => {
  const config = { model_type: 'umt5', d_model: 64, num_heads: 4, d_ff: 128, num_layers: 2, vocab_size: 95 };
  it('d_model absent', () => {
    const { d_model: _, ...c } = config;
    expect(thrown(() => parseUmt5Config(c, 'te/config.json'), ConfigError).message).toBe('te/config.json: "d_model" is missing (expected a positive integer)');
  });
  it('a present but wrong value still says what was found', () => {
    expect(thrown(() => parseUmt5Config({ ...config, num_heads: 2.5 }, 'te/config.json'), ConfigError).message).toBe('te/config.json: "num_heads" must be a positive integer, found 2.5');
  });
});

describe('loadTextEncoder options (before anything is read)', () => {
  const nowhere = { tokenizer: nodeFolder(join(ROOT, 'no-such-folder')), textEncoder: nodeFolder(join(ROOT, 'no-such-folder')) };
  it('refuses an unknown option (dtype: the encoder is f32 always)', async () => {
    const e = await loadTextEncoder(nowhere, { dtype: 'f16' } as unknown as TextEncoderLoadOptions).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe('dtype: not an option of loadTextEncoder (options: gpu, device, cacheSize, cacheBytes, variant, onProgress, maxMemory, stream, signal, unexpectedKeys, onWarning)');
  });
  it('refuses a bad cacheSize (NaN shown as NaN, not null)', async () => {
    const e = await loadTextEncoder(nowhere, { cacheSize: -1 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe('cacheSize: a whole number of prompts ≥ 0, got -1');
    const n = await loadTextEncoder(nowhere, { cacheSize: NaN }).catch((x: unknown) => x);
    expect((n as Error).message).toBe('cacheSize: a whole number of prompts ≥ 0, got NaN');
  });
});

describe.skipIf(!hasGpu)('embedded text encoder (GPU)', () => {
  it('two encodePrompt calls at once give the sequential results', async () => {
    // cacheSize 0: every call runs the encoder (nothing answered from the cache)
    const enc = await open({ cacheSize: 0 });
    try {
      const a = ['a red circle moving left'];
      const b = ['a green triangle and a blue square moving up'];
      const [pa, pb] = await Promise.all([enc.encodePrompt(a, { max_sequence_length: L }), enc.encodePrompt(b, { max_sequence_length: L })]);
      const sa = await enc.encodePrompt(a, { max_sequence_length: L });
      const sb = await enc.encodePrompt(b, { max_sequence_length: L });
      expect(enc.encodedCount).toBe(4);
      expect(sa.data.some((v, i) => v !== sb.data[i])).toBe(true);
      expect(pa.data).toEqual(sa.data);
      expect(pb.data).toEqual(sb.data);
    } finally {
      enc.dispose();
    }
  }, 120_000);

  it('two Umt5Encoder.encode calls at once give the sequential results', async () => {
    const enc = await open();
    try {
      const ta = enc.tokenizer.tokenize(['a red circle'], L);
      const tb = enc.tokenizer.tokenize(['a blue square moving down'], L);
      const e = enc.encoder;
      const [pa, pb] = await Promise.all([e.encode(ta.ids, ta.lengths, L), e.encode(tb.ids, tb.lengths, L)]);
      const sa = await e.encode(ta.ids, ta.lengths, L);
      const sb = await e.encode(tb.ids, tb.lengths, L);
      expect(pa).toEqual(sa);
      expect(pb).toEqual(sb);
    } finally {
      enc.dispose();
    }
  }, 120_000);

  it('a single string is a one-prompt list; bad prompts, max_sequence_length and options are InputErrors', async () => {
    const enc = await open();
    try {
      const one = await enc.encodePrompt('a red circle', { max_sequence_length: L });
      const list = await enc.encodePrompt(['a red circle'], { max_sequence_length: L });
      expect(one.shape).toEqual([1, L, 64]);
      expect(one.data).toEqual(list.data);
      const bad = async (p: unknown, o: unknown, msg: string) => {
        const e = await enc.encodePrompt(p as string[], o as { max_sequence_length: number }).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(InputError);
        expect((e as Error).message).toBe(msg);
      };
      await bad([], {}, 'prompts: an empty list; give at least one prompt');
      await bad(['a', 3], {}, 'prompts[1]: a string, got number 3');
      await bad(undefined, {}, 'prompts: a string or a list of strings (one per batch item), got undefined');
      await bad(['a'], { max_sequence_length: 0 }, 'max_sequence_length: a positive integer up to 65536, got 0');
      await bad(['a'], { max_sequence_length: 1.5 }, 'max_sequence_length: a positive integer up to 65536, got 1.5');
      await bad(['a'], { max_sequence_length: 65537 }, 'max_sequence_length: a positive integer up to 65536, got 65537');
      await bad(['a'], { max_sequence_length: '16' }, 'max_sequence_length: a positive integer up to 65536, got "16"');
      await bad(['a'], { max_sequence_length: NaN }, 'max_sequence_length: a positive integer up to 65536, got NaN');
      await bad(['a'], { maxSequenceLength: 16 }, 'maxSequenceLength: not an option of encodePrompt; did you mean max_sequence_length? (options: max_sequence_length, runPlan)');
    } finally {
      enc.dispose();
    }
  }, 120_000);

  it('more new prompts in one call than cacheSize', async () => {
    const enc = await open({ cacheSize: 1 });
    try {
      const out = await enc.encodePrompt(['a red circle', 'a blue square', 'a green triangle'], { max_sequence_length: L });
      const last = await enc.encodePrompt('a green triangle', { max_sequence_length: L });
      expect(out.shape).toEqual([3, L, 64]);
      expect(out.data.subarray(2 * L * 64)).toEqual(last.data);
    } finally {
      enc.dispose();
    }
  }, 120_000);

  it('dispose() / destroy(): later calls throw DisposedError', async () => {
    const enc = await open();
    const t = enc.tokenizer.tokenize(['a red circle'], L);
    enc.dispose();
    const e = await enc.encodePrompt('a red circle', { max_sequence_length: L }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DisposedError);
    expect((e as Error).message).toBe(`text encoder ${join(PIPE, 'text_encoder')} was disposed: load it again to use it`);
    const inner = await enc.encoder.encode(t.ids, t.lengths, L).catch((x: unknown) => x);
    expect(inner).toBeInstanceOf(DisposedError);
    expect((inner as Error).message).toBe(`text encoder ${join(PIPE, 'text_encoder')} was disposed: load it again to use it`);
    enc.dispose(); // a second dispose is harmless
    enc.encoder.destroy();
  }, 120_000);

  it('Umt5Encoder.destroy() is dispose(): encode after it throws DisposedError', async () => {
    const enc = await open();
    const t = enc.tokenizer.tokenize(['a red circle'], L);
    enc.encoder.destroy();
    const e = await enc.encoder.encode(t.ids, t.lengths, L).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DisposedError);
    enc.dispose();
  }, 120_000);
});
