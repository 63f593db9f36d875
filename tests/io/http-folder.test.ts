// httpFolder against a stubbed fetch: single-page-app servers (Vite dev/preview) answer missing files
// with index.html and HTTP 200; loading must not take that page for a file, and should make no failing
// request for a single-file model folder.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ModelFolderError, openModelFolder } from '../../src/io/model-folder.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { HtmlAnswerError, httpFolder } from '../../src/io/source.js';

const BASE = 'http://app.test/models/m/';
const CONFIG = JSON.stringify({ _class_name: 'DiTTransformer2DModel' });
const WEIGHTS = writeSafetensors([{ name: 'proj_out.weight', dtype: 'F32', shape: [2], data: new Float32Array([1.5, -2]) }]);
const PAGE = '<!doctype html><html><body>app</body></html>';

/** A server holding `files` (path under BASE → bytes); `spa`: missing paths get index.html with 200, else 404. */
function serve(files: Record<string, string | Uint8Array>, spa: boolean): { requests: string[] } {
  const requests: string[] = [];
  vi.stubGlobal('fetch', async (input: string, init?: RequestInit) => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    const rel = url.startsWith(BASE) ? decodeURIComponent(url.slice(BASE.length)) : null;
    const body = rel === null ? undefined : files[rel];
    if (body === undefined) {
      requests.push(`${method} ${rel} -> ${spa ? 200 : 404}`);
      return spa ? new Response(method === 'HEAD' ? null : PAGE, { status: 200, headers: { 'content-type': 'text/html' } }) : new Response(null, { status: 404 });
    }
    requests.push(`${method} ${rel} -> ok`);
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    const range = /bytes=(\d+)-(\d+)/.exec(new Headers(init?.headers).get('range') ?? '');
    const type = rel!.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    if (method === 'HEAD') return new Response(null, { status: 200, headers: { 'content-type': type, 'content-length': String(bytes.length) } });
    if (range) return new Response(new Uint8Array(bytes.slice(Number(range[1]), Number(range[2]) + 1)), { status: 206, headers: { 'content-range': `bytes ${range[1]}-${range[2]}/${bytes.length}` } });
    return new Response(new Uint8Array(bytes), { status: 200, headers: { 'content-type': type } });
  });
  return { requests };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('httpFolder and HTML answers (single-page-app fallbacks)', () => {
  it('an HTML page for an optional file (shard index, tokenizer_config.json) reads as missing', async () => {
    serve({}, true);
    const f = httpFolder(BASE);
    expect(await f.readText('diffusion_pytorch_model.safetensors.index.json')).toBeNull();
    expect(await f.readText('text_encoder/model.safetensors.index.fp16.json')).toBeNull();
    expect(await f.readText('tokenizer/tokenizer_config.json')).toBeNull();
  });

  it('an HTML page for a required file is an error naming the cause', async () => {
    serve({}, true);
    const f = httpFolder(BASE);
    const msg = `${BASE}config.json: the server answered with an HTML page (content-type text/html), as single-page-app fallbacks do for missing files: no such file is served at this URL (check the folder URL; with Vite, put the model folder under public/ and load it by its URL)`;
    await expect(f.readText('config.json')).rejects.toThrow(new HtmlAnswerError(`${BASE}config.json`));
    await expect(f.readText('config.json')).rejects.toThrow(msg);
    await expect(f.open('diffusion_pytorch_model.safetensors')).rejects.toBeInstanceOf(HtmlAnswerError);
    // an HTML file asked for as HTML is just a file
    serve({ 'page.html': PAGE }, true);
    expect(await f.readText('page.html')).toBe(PAGE);
  });

  it('a single-file model folder opens behind an SPA server, with no request for an absent file', async () => {
    const { requests } = serve({ 'config.json': CONFIG, 'diffusion_pytorch_model.safetensors': WEIGHTS }, true);
    const m = await openModelFolder(httpFolder(BASE));
    expect(Array.from(await m.readF32('proj_out.weight'))).toEqual([1.5, -2]);
    await m.close();
    expect(requests.filter((r) => !r.endsWith('ok'))).toEqual([]);
  });

  it('a sharded folder still opens (one failed probe for the single file), and no weights at all name the HTML cause', async () => {
    const index = JSON.stringify({ weight_map: { 'proj_out.weight': 'diffusion_pytorch_model-00001-of-00001.safetensors' } });
    const { requests } = serve({ 'config.json': CONFIG, 'diffusion_pytorch_model.safetensors.index.json': index, 'diffusion_pytorch_model-00001-of-00001.safetensors': WEIGHTS }, false);
    const m = await openModelFolder(httpFolder(BASE));
    expect(m.shards).toEqual(['diffusion_pytorch_model-00001-of-00001.safetensors']);
    await m.close();
    expect(requests.filter((r) => !r.endsWith('ok'))).toEqual(['HEAD diffusion_pytorch_model.safetensors -> 404']);

    serve({ 'config.json': CONFIG }, true);
    const err = await openModelFolder(httpFolder(BASE)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFolderError);
    expect((err as Error).message).toBe(
      `${BASE}diffusion_pytorch_model.safetensors: neither diffusion_pytorch_model.safetensors nor diffusion_pytorch_model.safetensors.index.json found (${new HtmlAnswerError(`${BASE}diffusion_pytorch_model.safetensors`).message})`,
    );
  });

  it('with files, unlisted files are missing without a request, and the folder lists its files', async () => {
    const index = JSON.stringify({ weight_map: { 'proj_out.weight': 'diffusion_pytorch_model-00001-of-00001.safetensors' } });
    // the index is served but not listed: the list is the truth, so the single file is read
    const { requests } = serve({ 'm/config.json': CONFIG, 'm/diffusion_pytorch_model.safetensors': WEIGHTS, 'm/diffusion_pytorch_model.safetensors.index.json': index }, false);
    const f = httpFolder(BASE, { files: ['model_index.json', 'm/config.json', 'm/diffusion_pytorch_model.safetensors'] });
    expect(await f.list!()).toEqual(['model_index.json']);
    expect(await f.list!('m')).toEqual(['config.json', 'diffusion_pytorch_model.safetensors']);
    expect(await f.readText('m/diffusion_pytorch_model.safetensors.index.json')).toBeNull();
    await expect(f.open('m/nope.safetensors')).rejects.toThrow(`${BASE}m/nope.safetensors: not found (not in the folder's file list)`);
    expect(requests).toEqual([]);
    expect(() => httpFolder(BASE, { files: ['../x'] })).toThrow(/not a plain relative path/);
  });
});
