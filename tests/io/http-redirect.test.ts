// Strings and redirects over HTTP in Node. An http(s):// string given to the loaders is an httpFolder (it was
// taken as a local path: "model_index.json: missing"), a file:// URL a folder on disk. A file the server
// redirects (the Hugging Face Hub's resolve/ answers 302 to its CDN) is redirected once: the range reads go
// to the kept target; one the target refuses (an expired signed URL: 403/404/410) is asked through the file's
// URL again. A local server counts the requests each path gets.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { httpSource } from '../../src/io/source.js';
import { resolveFolder } from '../../src/model/model.js';

const FILE = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) & 255);
const hits: string[] = [];
let server: Server;
let base = '';
/** How many requests (any method) the server got for `path`. */
const count = (path: string) => hits.filter((h) => h.endsWith(` ${path}`)).length;
let expired = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    if (req.url === '/resolve/w.bin') {
      res.writeHead(302, { location: '/cdn/w.bin?sig=1' });
      return res.end();
    }
    if (req.url === '/m/model_index.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"_class_name": "WanPipeline"}');
    }
    if (req.url === '/cdn/w.bin?sig=1') {
      if (expired) {
        expired = false;
        res.writeHead(403);
        return res.end();
      }
      const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '');
      if (!m) {
        res.writeHead(200, { 'content-length': FILE.length });
        return res.end(req.method === 'HEAD' ? undefined : FILE);
      }
      const [a, b] = [Number(m[1]), Number(m[2])];
      res.writeHead(206, { 'content-range': `bytes ${a}-${b}/${FILE.length}`, 'content-length': b - a + 1 });
      return res.end(FILE.subarray(a, b + 1));
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('httpSource behind a redirect', () => {
  it('redirects once for the size; ten range reads go to the kept target', async () => {
    hits.length = 0;
    const src = await httpSource(`${base}/resolve/w.bin`);
    expect(src.size).toBe(FILE.length);
    for (let i = 0; i < 10; i++) expect(await src.read(i * 100, 50)).toEqual(FILE.subarray(i * 100, i * 100 + 50));
    expect(count('/resolve/w.bin')).toBe(1);
    expect(count('/cdn/w.bin?sig=1')).toBe(11);
  });

  it('a target that refuses a read (expired) is asked through the file URL again', async () => {
    const src = await httpSource(`${base}/resolve/w.bin`);
    hits.length = 0;
    expired = true;
    expect(await src.read(10, 20)).toEqual(FILE.subarray(10, 30));
    expect(hits).toEqual(['GET /cdn/w.bin?sig=1', 'GET /resolve/w.bin', 'GET /cdn/w.bin?sig=1']);
    expect(await src.read(0, 4)).toEqual(FILE.subarray(0, 4));
    expect(count('/resolve/w.bin')).toBe(1);
  });
});

describe('a string source in Node', () => {
  it('http(s):// is read over HTTP (httpFolder), file:// and a path from disk', async () => {
    const f = await resolveFolder(`${base}/m/`);
    expect(f.name).toBe(`${base}/m/`);
    expect(await f.readText('model_index.json')).toBe('{"_class_name": "WanPipeline"}');
    const dir = mkdtempSync(join(tmpdir(), 'tessera-strings-'));
    try {
      writeFileSync(join(dir, 'config.json'), '{}');
      expect(await (await resolveFolder(pathToFileURL(dir).href)).readText('config.json')).toBe('{}');
      expect(await (await resolveFolder(dir)).readText('config.json')).toBe('{}');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
