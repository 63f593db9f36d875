// Mutation round 4 (session 17) on httpSource's kept redirect target and the loaders' URL strings in Node
// (src/io/source.ts, src/io/node-source.ts, dbe10fb): a HEAD the server refuses leaves the size probe's redirect
// to keep; a kept target that answers 403, 404 or 410 (an expired signed URL) is asked through the file's URL
// and the new target is kept for the reads after; a file that was never redirected is not asked twice; URL
// schemes are read without regard to case. A local server counts the requests; its CDN signatures expire on
// demand, and each redirect signs anew. Each case failed under a mutant that survived http-redirect.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { httpSource } from '../../src/io/source.js';
import { resolveFolder } from '../../src/model/model.js';

const FILE = Uint8Array.from({ length: 2048 }, (_, i) => (i * 13) & 255);
const hits: string[] = [];
let server: Server;
let base = '';
let sig = 0; // the last signature issued: only it is valid
let expiredStatus = 403;
let expireNow = false;
let plainStatus = 206;

function serveRange(req: { method?: string; headers: { range?: string } }, res: import('node:http').ServerResponse, status = 206): void {
  const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '');
  if (!m) {
    res.writeHead(200, { 'content-length': FILE.length });
    res.end(req.method === 'HEAD' ? undefined : FILE);
    return;
  }
  if (status !== 206) {
    res.writeHead(status);
    res.end();
    return;
  }
  const [a, b] = [Number(m[1]), Number(m[2])];
  res.writeHead(206, { 'content-range': `bytes ${a}-${b}/${FILE.length}`, 'content-length': b - a + 1 });
  res.end(FILE.subarray(a, b + 1));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    const url = req.url ?? '';
    if (url === '/hub/nohead.bin' && req.method === 'HEAD') {
      res.writeHead(405);
      return res.end();
    }
    if (url.startsWith('/hub/')) {
      res.writeHead(302, { location: `/cdn/${url.slice(5)}?sig=${++sig}` });
      return res.end();
    }
    const cdn = /^\/cdn\/[^?]+\?sig=(\d+)$/.exec(url);
    if (cdn) {
      if (expireNow || Number(cdn[1]) !== sig) {
        expireNow = false;
        res.writeHead(expiredStatus);
        return res.end();
      }
      return serveRange(req, res);
    }
    if (url === '/plain/w.bin') return serveRange(req, res, plainStatus);
    if (url === '/m/model_index.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"_class_name": "WanPipeline"}');
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  hits.length = 0;
  expireNow = false;
  plainStatus = 206;
});

describe('httpSource: the kept redirect target', () => {
  it('a HEAD the server refuses (405): the size probe is redirected, and the reads go to where it led', async () => {
    const src = await httpSource(`${base}/hub/nohead.bin`);
    expect(src.size).toBe(FILE.length);
    for (let i = 0; i < 5; i++) expect(await src.read(i * 10, 10)).toEqual(FILE.subarray(i * 10, i * 10 + 10));
    // the HEAD and the probe; no read through the hub
    expect(hits.filter((h) => h.endsWith(' /hub/nohead.bin'))).toEqual(['HEAD /hub/nohead.bin', 'GET /hub/nohead.bin']);
  });

  it.each([403, 404, 410])('a kept target that answers %i is asked through the file URL again, and the new target is kept', async (status) => {
    expiredStatus = status;
    const src = await httpSource(`${base}/hub/w.bin`);
    expect(await src.read(0, 8)).toEqual(FILE.subarray(0, 8));
    hits.length = 0;
    expireNow = true; // the signature the source keeps expires
    expect(await src.read(100, 8)).toEqual(FILE.subarray(100, 108));
    expect(await src.read(200, 8)).toEqual(FILE.subarray(200, 208));
    // one trip through the hub; the read after goes straight to the new signature
    expect(hits.map((h) => h.replace(/sig=\d+/, 'sig=N'))).toEqual(['GET /cdn/w.bin?sig=N', 'GET /hub/w.bin', 'GET /cdn/w.bin?sig=N', 'GET /cdn/w.bin?sig=N']);
    expect(hits[2]).toBe(hits[3]);
    expect(hits[0]).not.toBe(hits[2]);
  });

  it('a file never redirected that refuses a read is asked once: its own answer, HTTP 403', async () => {
    const src = await httpSource(`${base}/plain/w.bin`);
    hits.length = 0;
    plainStatus = 403;
    await expect(src.read(0, 8)).rejects.toThrow(`${base}/plain/w.bin: range request bytes 0-7 answered HTTP 403`);
    expect(hits).toEqual(['GET /plain/w.bin']);
  });
});

describe('a string source in Node: the scheme in any case', () => {
  it('HTTP:// is read over HTTP, FILE:// from disk', async () => {
    const up = `${base.replace('http://', 'HTTP://')}/m/`;
    expect(await (await resolveFolder(up)).readText('model_index.json')).toBe('{"_class_name": "WanPipeline"}');
    const dir = mkdtempSync(join(tmpdir(), 'tessera-scheme-'));
    try {
      writeFileSync(join(dir, 'config.json'), '{"a": 1}');
      const file = pathToFileURL(dir).href.replace(/^file:/, 'FILE:');
      expect(await (await resolveFolder(file)).readText('config.json')).toBe('{"a": 1}');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
