// Session 22's review (finding 9): the profiler page's load logged `HEAD …/diffusion_pytorch_model.safetensors
// net::ERR_ABORTED` for every component, and one more for text_encoder's file on every encode. Chromium ends a
// fetch whose Response body is never read to its end as cancelled, even a HEAD answer's (empty, but not null
// there); and ModelFolder.release() (after each encode) dropped the HTTP source, so the next read opened the file
// again with a new HEAD. Here, against a stubbed fetch whose answers record how their bodies were left: httpSource
// reads the HEAD's (and the size probe's) body to its end, never cancels it; release() keeps an HTTP source, so
// reads after it make no request but their ranges. The browser side: tests/integration/browser-profiler.test.ts
// (no failed request over a page load and a prompt run).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openModelFolder } from '../../src/io/model-folder.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { httpFolder, httpSource } from '../../src/io/source.js';

const BASE = 'http://app.test/m/';
const WEIGHTS = writeSafetensors([
  { name: 'a.weight', dtype: 'F32', shape: [2], data: new Float32Array([1.5, -2]) },
  { name: 'b.weight', dtype: 'F32', shape: [1], data: new Float32Array([3]) },
]);
const FILES: Record<string, Uint8Array> = {
  'config.json': new TextEncoder().encode(JSON.stringify({ _class_name: 'WanTransformer3DModel' })),
  'diffusion_pytorch_model.safetensors': WEIGHTS,
};

/** One answer's body: 'read' (to its end), 'cancelled', or 'left' (neither: what Chromium logs as a failed request). */
type Fate = 'read' | 'cancelled' | 'left';

/**
 * fetch answering FILES under BASE (HEAD with Content-Length unless `noLength`; Range GETs with 206), each body a
 * stream that records its fate: `answers` lists `METHOD file [range] -> fate` once the test reads it.
 */
function serve(opts: { noLength?: boolean } = {}): { answers: () => string[] } {
  const log: { what: string; fate: Fate }[] = [];
  vi.stubGlobal('fetch', async (input: string, init?: RequestInit) => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    const rel = url.slice(BASE.length);
    const bytes = FILES[rel]!;
    const range = new Headers(init?.headers).get('range');
    const entry: { what: string; fate: Fate } = { what: `${method} ${rel}${range ? ` ${range}` : ''}`, fate: 'left' };
    log.push(entry);
    const m = /bytes=(\d+)-(\d+)/.exec(range ?? '');
    const part = method === 'HEAD' ? new Uint8Array(0) : m ? bytes.slice(Number(m[1]), Number(m[2]) + 1) : bytes;
    // a HEAD answer's body is an empty stream, as Chromium gives it (Node's fetch gives null)
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (!sent && part.length) c.enqueue(part);
        else {
          c.close();
          entry.fate = 'read';
        }
        sent = true;
      },
      cancel() {
        entry.fate = 'cancelled';
      },
    }, { highWaterMark: 0 }); // pulled only when read, so an unread body stays 'left'
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (method === 'HEAD' && !opts.noLength) headers['content-length'] = String(bytes.length);
    if (m) headers['content-range'] = `bytes ${m[1]}-${m[2]}/${bytes.length}`;
    return new Response(body, { status: m ? 206 : 200, headers });
  });
  return { answers: () => log.map((e) => `${e.what} -> ${e.fate}`) };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('HTTP requests end read, not cancelled', () => {
  it("httpSource reads the HEAD answer's (empty) body to its end", async () => {
    const { answers } = serve();
    const src = await httpSource(`${BASE}diffusion_pytorch_model.safetensors`);
    expect(src.size).toBe(WEIGHTS.length);
    expect(answers()).toEqual(['HEAD diffusion_pytorch_model.safetensors -> read']);
  });

  it("without Content-Length on HEAD: the one-byte size probe's body is read too", async () => {
    const { answers } = serve({ noLength: true });
    const src = await httpSource(`${BASE}diffusion_pytorch_model.safetensors`);
    expect(src.size).toBe(WEIGHTS.length);
    expect(answers()).toEqual(['HEAD diffusion_pytorch_model.safetensors -> read', 'GET diffusion_pytorch_model.safetensors bytes=0-0 -> read']);
  });

  it('ModelFolder.release() keeps an HTTP source: reads after it make no new HEAD (the text encoder releases after every encode)', async () => {
    const { answers } = serve();
    const folder = await openModelFolder(httpFolder(BASE));
    const opened = answers().filter((a) => a.startsWith('HEAD'));
    expect(opened).toEqual(['HEAD diffusion_pytorch_model.safetensors -> read']);
    for (let i = 0; i < 3; i++) {
      await folder.release!();
      expect([...(await folder.readF32('a.weight'))]).toEqual([1.5, -2]);
    }
    await folder.release!();
    expect([...(await folder.readF32('b.weight'))]).toEqual([3]);
    expect(answers().filter((a) => a.startsWith('HEAD'))).toEqual(opened);
    // every answer's body read to its end: nothing Chromium would log as a failed request
    expect(answers().filter((a) => !a.endsWith('-> read'))).toEqual([]);
    await folder.close();
    await expect(folder.readF32('a.weight')).rejects.toThrow(/model folder is closed/);
  });
});
