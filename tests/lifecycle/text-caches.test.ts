// The text encoder's host caches are bounded in bytes: the prompt cache by cacheSize prompts and
// cacheBytes (least recently used evicted first), the token embedding rows by rowCacheLimit; a bound
// changes what is re-encoded or re-read, never the embeddings. resetPlans() waits for the encode
// running (it used to clear the cache under it). Stand-in encoders (no device) and the embedded
// models/tessera-shapes text encoder (d_model 64: 256 B a row, 4 KiB a prompt at 16 tokens).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { ROOT } from '../helpers/golden.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { InputError } from '../../src/model/model.js';
import { DisposedError } from '../../src/gpu/serial.js';
import { loadTextEncoder, Umt5TextEncoder } from '../../src/text/prompt-encoder.js';
import type { Umt5Encoder } from '../../src/text/umt5.js';
// the defaults as the package exports them
import { EMBEDDING_ROW_CACHE_BYTES, PROMPT_CACHE_BYTES } from '../../src/api.js';
import type { T5Tokenizer } from '../../src/text/tokenizer.js';

const D = 2;
const L = 16; // a cached prompt: L × D × 4 = 128 bytes

/** A stand-in encoder; while `hold` is set, encode() waits until release(). */
function standIn(opts: { cacheSize?: number; cacheBytes?: number } = {}) {
  let release!: () => void;
  let gate: Promise<void> | null = null;
  const log: string[] = [];
  const tokenizer = {
    tokenize: (prompts: readonly string[], n: number) => ({ ids: new Int32Array(prompts.length * n), lengths: prompts.map(() => 1) }),
  } as unknown as T5Tokenizer;
  const encoder = {
    folder: { name: 'stand-in' },
    config: { dModel: D },
    rowCacheBytes: 0,
    encode: async (_ids: Int32Array, lengths: readonly number[], n: number, o: { names: string[] }) => {
      log.push(`encode ${o.names.join(' ')}`);
      if (gate) await gate;
      return new Float32Array(lengths.length * n * D).fill(1);
    },
    resetPlans: () => log.push('resetPlans'),
    gpu: {},
    dispose: () => {},
  } as unknown as Umt5Encoder;
  const enc = new Umt5TextEncoder(tokenizer, encoder, false, opts.cacheSize, opts.cacheBytes);
  return {
    enc,
    log,
    hold: () => (gate = new Promise<void>((r) => (release = r))),
    release: () => (gate = null, release()),
  };
}

describe('the prompt cache: bounded by cacheBytes, least recently used first', () => {
  it('the defaults are 64 prompts and 256 MiB; the row cache 64 MiB', () => {
    expect(PROMPT_CACHE_BYTES).toBe(256 * 2 ** 20);
    expect(EMBEDDING_ROW_CACHE_BYTES).toBe(64 * 2 ** 20);
  });

  it('cacheBytes 300 keeps two prompts of 128 bytes: the least recently used one is encoded again', async () => {
    const { enc } = standIn({ cacheBytes: 300 });
    for (const p of ['a', 'b', 'c']) await enc.encodePrompt(p, { max_sequence_length: L });
    expect(enc.encodedCount).toBe(3);
    expect(enc.hostCacheBytes).toBe(256);
    await enc.encodePrompt('c', { max_sequence_length: L }); // cached
    await enc.encodePrompt('b', { max_sequence_length: L }); // cached, now the most recently used
    expect(enc.encodedCount).toBe(3);
    await enc.encodePrompt('a', { max_sequence_length: L }); // evicted: encoded again, evicting c
    expect(enc.encodedCount).toBe(4);
    await enc.encodePrompt('b', { max_sequence_length: L });
    expect(enc.encodedCount).toBe(4);
    await enc.encodePrompt('c', { max_sequence_length: L });
    expect(enc.encodedCount).toBe(5);
    expect(enc.hostCacheBytes).toBe(256);
  });

  it('a prompt larger than cacheBytes is returned but not cached; cacheBytes 0 caches nothing', async () => {
    for (const cacheBytes of [100, 0]) {
      const { enc } = standIn({ cacheBytes });
      const a = await enc.encodePrompt(['a', 'a'], { max_sequence_length: L });
      expect(a.shape).toEqual([2, L, D]);
      expect(a.data.every((v) => v === 1)).toBe(true);
      await enc.encodePrompt('a', { max_sequence_length: L });
      expect(enc.encodedCount).toBe(2);
      expect(enc.hostCacheBytes).toBe(0);
    }
  });

  // the call's new rows evict its cache hits (the least recently used): copying a hit out used to throw a TypeError
  for (const [bound, before, call] of [
    [{ cacheBytes: 200 }, ['a'], ['a', 'b']],
    [{ cacheSize: 1 }, ['a'], ['a', 'b']],
    [{ cacheSize: 2 }, ['a', 'z'], ['a', 'b', 'c']],
  ] as const) {
    it(`${JSON.stringify(bound)}: a cached prompt evicted by the same call's new prompts is still returned`, async () => {
      const { enc } = standIn(bound);
      for (const p of before) await enc.encodePrompt(p, { max_sequence_length: L });
      const out = await enc.encodePrompt([...call], { max_sequence_length: L });
      expect(out.shape).toEqual([call.length, L, D]);
      expect(out.data.every((v) => v === 1)).toBe(true);
      expect(enc.encodedCount).toBe(before.length + call.length - 1); // 'a' read from the cache
      // the last new prompt stays cached, a did not come back
      expect(enc.hostCacheBytes).toBe(128 * ('cacheSize' in bound ? bound.cacheSize : 1));
      await enc.encodePrompt('a', { max_sequence_length: L });
      expect(enc.encodedCount).toBe(before.length + call.length);
    });
  }

  it('cacheBytes that is not a whole number of bytes is refused before anything is read', async () => {
    const folders = { tokenizer: nodeFolder('/nonexistent/tokenizer'), textEncoder: nodeFolder('/nonexistent/text_encoder') };
    // NaN and Infinity as themselves (JSON.stringify wrote both as null)
    for (const [v, shown] of [[-1, '-1'], [1.5, '1.5'], ['1GiB', '"1GiB"'], [NaN, 'NaN'], [Infinity, 'Infinity']] as const) {
      const e = await loadTextEncoder(folders, { cacheBytes: v as number }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toBe(`cacheBytes: a whole number of bytes ≥ 0, got ${shown}`);
    }
  });
});

describe('resetPlans() waits for the encode running', () => {
  it('during an encode that reads a cached prompt: the encode completes, then the plan and cache are dropped', async () => {
    const s = standIn();
    await s.enc.encodePrompt('a', { max_sequence_length: L });
    s.hold();
    // encodes b, then copies a out of the cache: clearing the cache meanwhile lost a (a TypeError)
    const run = s.enc.encodePrompt(['b', 'a'], { max_sequence_length: L });
    await new Promise((r) => setTimeout(r, 10));
    const reset = s.enc.resetPlans();
    await new Promise((r) => setTimeout(r, 10));
    expect(s.log).toEqual(['encode prompts[0]', 'encode prompts[0]']);
    s.release();
    const out = await run;
    expect(out.shape).toEqual([2, L, D]);
    expect(out.data.every((v) => v === 1)).toBe(true);
    await reset;
    expect(s.log.at(-1)).toBe('resetPlans');
    expect(s.enc.hostCacheBytes).toBe(0);
    await s.enc.encodePrompt('a', { max_sequence_length: L });
    expect(s.log.at(-1)).toBe('encode prompts[0]');
  });

  it('on an idle encoder it runs at once; after dispose() it throws DisposedError', async () => {
    const s = standIn();
    await s.enc.encodePrompt('a', { max_sequence_length: L });
    void s.enc.resetPlans();
    expect(s.log.at(-1)).toBe('resetPlans');
    expect(s.enc.hostCacheBytes).toBe(0);
    s.enc.dispose();
    expect(() => s.enc.resetPlans()).toThrow(DisposedError);
  });
});

describe.skipIf(!hasGpu)('the token embedding rows: bounded by rowCacheLimit', () => {
  const PIPE = join(ROOT, 'models', 'tessera-shapes');
  const folders = { tokenizer: nodeFolder(join(PIPE, 'tokenizer')), textEncoder: nodeFolder(join(PIPE, 'text_encoder')) };
  const prompts = ['a red circle moving left across a green field', 'the blue square jumps over two yellow triangles quickly'];

  it('8 rows kept at most (2 KiB), the embeddings bit for bit those of an unbounded cache', async () => {
    const bounded = await loadTextEncoder(folders, { gpu: gpu! });
    const free = await loadTextEncoder(folders, { gpu: gpu! });
    try {
      bounded.encoder.rowCacheLimit = 8 * 64 * 4;
      for (const p of prompts) {
        const a = await bounded.encodePrompt(p, { max_sequence_length: L });
        const b = await free.encodePrompt(p, { max_sequence_length: L });
        expect(Array.from(a.data)).toEqual(Array.from(b.data));
        expect(bounded.encoder.rowCacheBytes).toBe(8 * 64 * 4);
      }
      expect(free.encoder.rowCacheBytes).toBeGreaterThan(8 * 64 * 4);
      // host bytes: the two cached prompts (16 × 64 × 4 B each) and the rows
      expect(bounded.hostCacheBytes).toBe(2 * L * 64 * 4 + 8 * 64 * 4);
      // a lower bound evicts at once; a bad one is refused and leaves the bound as it was
      bounded.encoder.rowCacheLimit = 3 * 64 * 4;
      expect(bounded.encoder.rowCacheBytes).toBe(3 * 64 * 4);
      for (const [v, shown] of [[-1, '-1'], [1.5, '1.5'], [NaN, 'NaN'], ['1GiB', '"1GiB"']] as const) {
        expect(() => (bounded.encoder.rowCacheLimit = v as number)).toThrow(new InputError(`rowCacheLimit: a whole number of bytes ≥ 0, got ${shown}`));
      }
      expect(bounded.encoder.rowCacheLimit).toBe(3 * 64 * 4);
      bounded.encoder.rowCacheLimit = 0;
      expect(bounded.encoder.rowCacheBytes).toBe(0);
      const again = await bounded.encodePrompt('a green field', { max_sequence_length: L });
      expect(Array.from(again.data)).toEqual(Array.from((await free.encodePrompt('a green field', { max_sequence_length: L })).data));
      expect(bounded.encoder.rowCacheBytes).toBe(0);
    } finally {
      bounded.dispose();
      free.dispose();
    }
  }, 120_000);
});
