// Model folders over HTTP, when the server cannot be reached or cannot serve byte ranges. A request that
// fails before any HTTP answer (no server, no network, a host that sends no CORS header for the page)
// rejected with the browser's bare `TypeError: Failed to fetch` (Node: `fetch failed`), naming no URL;
// it is one error naming the URL and the likely causes. A Range request answered with the whole file
// (HTTP 200, as Python's http.server does) says which servers answer Range requests.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readSafetensorsHeader } from '../../src/io/safetensors.js';
import { httpFolder, httpSource, NetworkError } from '../../src/io/source.js';
import { loadPipeline, PipelineError } from '../../src/pipeline/pipeline.js';

const BASE = 'http://cdn.test/models/m/';
const CAUSES =
  'the server is not reachable (not running, wrong host or port, offline), or, from a web page, it is on another origin and sends no CORS header (Access-Control-Allow-Origin) for this page';

/** fetch as a browser's for a request it refuses (CORS) or cannot make: a TypeError, no response. */
function failingFetch(): string[] {
  const asked: string[] = [];
  vi.stubGlobal('fetch', async (input: string, init?: RequestInit) => {
    asked.push(`${init?.method ?? 'GET'} ${String(input)}`);
    throw new TypeError('Failed to fetch');
  });
  return asked;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('a request that fails before any HTTP answer', () => {
  it("httpFolder's first read (model_index.json, config.json): one error naming the URL and the causes", async () => {
    failingFetch();
    const err = (await httpFolder(BASE).readText('model_index.json').catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(`${BASE}model_index.json: the request failed before any HTTP answer (Failed to fetch): ${CAUSES}`);
    expect(err.cause).toBeInstanceOf(TypeError);
    // a kind to switch on (user22 finding 12: a plain Error, code undefined)
    expect([err.name, (err as NetworkError).code, (err as NetworkError).url]).toEqual(['NetworkError', 'ERR_NETWORK', `${BASE}model_index.json`]);
  });

  it("httpSource's HEAD (and so httpFolder.open): the same, naming the file's URL", async () => {
    const asked = failingFetch();
    await expect(httpSource(`${BASE}diffusion_pytorch_model.safetensors`)).rejects.toThrow(
      new NetworkError(`${BASE}diffusion_pytorch_model.safetensors`, `${BASE}diffusion_pytorch_model.safetensors: the request failed before any HTTP answer (Failed to fetch): ${CAUSES}`),
    );
    expect(asked).toEqual([`HEAD ${BASE}diffusion_pytorch_model.safetensors`]);
    await expect(httpFolder(BASE).open('diffusion_pytorch_model.safetensors')).rejects.toThrow(`${BASE}diffusion_pytorch_model.safetensors: the request failed before any HTTP answer`);
  });

  it('loadPipeline over such a folder says which URL failed, before anything else', async () => {
    failingFetch();
    await expect(loadPipeline(httpFolder(BASE))).rejects.toThrow(new NetworkError(`${BASE}model_index.json`, `${BASE}model_index.json: the request failed before any HTTP answer (Failed to fetch): ${CAUSES}`));
  });

  it("Node's fetch to a port with no server: the reason (ECONNREFUSED) is in the line", async () => {
    // A port with no server is one just closed, and another process may bind it before the fetch (Node
    // cannot hold a TCP port without listening on it). Such a try, told apart by what the fetch itself
    // met (not a refusal, whatever the line says), is repeated on a fresh port, twice at most.
    for (let attempt = 1; ; attempt++) {
      const server = createServer();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((r) => server.close(() => r()));
      const url = `http://127.0.0.1:${port}/m/config.json`;
      const got = await httpFolder(`http://127.0.0.1:${port}/m`)
        .readText('config.json')
        .then((text) => new Error(`an answer: ${String(text).slice(0, 100)}`), (e: unknown) => e as Error);
      const met = ((got.cause as Error | undefined)?.cause as NodeJS.ErrnoException | undefined)?.code;
      if (met !== 'ECONNREFUSED' && attempt < 3) {
        console.warn(`port ${port} was taken before the fetch (${got.message}); trying another`);
        continue;
      }
      expect(got).toEqual(new NetworkError(url, `${url}: the request failed before any HTTP answer (fetch failed: ECONNREFUSED): ${CAUSES}`));
      break;
    }
  });

  it('a URL fetch cannot parse is said to be one, before any request (not a network failure)', async () => {
    const asked = failingFetch();
    await expect(httpSource('http://exa mple.com/w.safetensors')).rejects.toThrow(
      new Error('http://exa mple.com/w.safetensors: not a valid URL (an absolute http:// or https:// URL is needed here)'),
    );
    await expect(httpFolder('models/m').readText('config.json')).rejects.toThrow(
      new Error('models/m/config.json: not a valid URL (an absolute http:// or https:// URL is needed here)'),
    );
    expect(asked).toEqual([]);
  });

  it('a range read whose connection fails after HEAD answered: not the first-request causes (unreachable, CORS)', async () => {
    vi.stubGlobal('fetch', async (_input: string, init?: RequestInit) => {
      if (init?.method === 'HEAD') return new Response(null, { status: 200, headers: { 'content-length': '100' } });
      throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
    });
    const src = await httpSource(`${BASE}w.safetensors`);
    await expect(src.read(8, 4)).rejects.toThrow(
      new NetworkError(`${BASE}w.safetensors`, `${BASE}w.safetensors: the connection failed during a range request (bytes 8-11) (fetch failed: ECONNRESET), after the server had answered for this file: it went away or the network dropped; try again`),
    );
  });

  it('an abort is not dressed as a network failure', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new DOMException('The operation was aborted.', 'AbortError');
    });
    await expect(httpFolder(BASE).readText('config.json')).rejects.toThrow(/^The operation was aborted\.$/);
  });
});

describe('a folder URL that is not a pipeline folder', () => {
  it("loadPipeline's message names the library call (loadModel), not the CLI's --model", async () => {
    vi.stubGlobal('fetch', async () => new Response(null, { status: 404, statusText: 'Not Found' }));
    await expect(loadPipeline(httpFolder(`${BASE}transformer/`))).rejects.toThrow(
      new PipelineError(`${BASE}transformer/model_index.json: missing (a diffusers pipeline folder names its components there; for a single transformer folder use loadModel)`),
    );
  });
});

describe('a server that answers Range requests with the whole file', () => {
  let server: Server | null = null;
  afterEach(async () => {
    if (server) await new Promise<void>((r) => server!.close(() => r()));
    server = null;
  });

  /** Python's http.server as of 3.11: Content-Length on HEAD, the whole file with 200 for a Range GET. */
  async function noRangeServer(bytes: Uint8Array): Promise<string> {
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) });
      res.end(req.method === 'HEAD' ? undefined : bytes);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/w.safetensors`;
  }

  it('a partial read names the URL once, the status, and servers that do answer them', async () => {
    const url = await noRangeServer(new Uint8Array(100));
    const src = await httpSource(url);
    expect(src.size).toBe(100);
    await expect(src.read(0, 8)).rejects.toThrow(
      new Error(`${url}: range request bytes 0-7 answered HTTP 200 with the whole file (the server must answer HTTP Range requests with 206 Partial Content: \`npx http-server\`, Vite and common CDNs do; Python's \`python -m http.server\` does not)`),
    );
    // a read of the whole file may take the whole file
    expect((await src.read(0, 100)).byteLength).toBe(100);
  });

  it('through the safetensors reader, the URL is named once', async () => {
    const url = await noRangeServer(new Uint8Array(100));
    const e = await readSafetensorsHeader(await httpSource(url)).catch((x) => x);
    expect(e.message).toBe(
      `${url}: read of 8 bytes at offset 0 failed: range request bytes 0-7 answered HTTP 200 with the whole file (the server must answer HTTP Range requests with 206 Partial Content: \`npx http-server\`, Vite and common CDNs do; Python's \`python -m http.server\` does not)`,
    );
  });
});
