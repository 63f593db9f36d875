// diffusers model folders: single file, sharded (on disk, in memory, over HTTP), and every
// way the index and shards can disagree.
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { mkdtemp, mkdir, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configPath, ModelFolderError, openModelFolder, tensorPath } from '../../src/io/model-folder.js';
import { fileSource, nodeFolder } from '../../src/io/node-source.js';
import { SafetensorsError, writeSafetensors } from '../../src/io/safetensors.js';
import { httpFolder, httpSource, mapFolder, type FolderSource } from '../../src/io/source.js';

const CONFIG = JSON.stringify({ _class_name: 'DiTTransformer2DModel', num_layers: 2 });
const INDEX = 'diffusion_pytorch_model.safetensors.index.json';
const SHARD = (i: number) => `diffusion_pytorch_model-0000${i}-of-00002.safetensors`;

const vals = (n: number, k: number) => new Float32Array(n).map((_, i) => i * 0.5 + k);
const shard1 = writeSafetensors([
  { name: 'pos_embed.proj.weight', dtype: 'F32', shape: [4, 3], data: vals(12, 1) },
  { name: 'pos_embed.proj.bias', dtype: 'BF16', shape: [4], data: vals(4, 2) },
]);
const shard2 = writeSafetensors([
  { name: 'proj_out.weight', dtype: 'F16', shape: [2, 2], data: vals(4, 3) },
  { name: 'labels', dtype: 'I64', shape: [2], data: new BigInt64Array([1n, 2n]) },
]);
const weightMap = {
  'pos_embed.proj.weight': SHARD(1),
  'pos_embed.proj.bias': SHARD(1),
  'proj_out.weight': SHARD(2),
  labels: SHARD(2),
};
const index = (wm: Record<string, string> = weightMap) => JSON.stringify({ metadata: { total_size: 0 }, weight_map: wm });

/** A sharded model folder as a map of files (overrides replace or, with null, remove files). */
function shardedFiles(over: Record<string, string | Uint8Array | null> = {}): Map<string, Uint8Array> {
  const enc = (v: string | Uint8Array) => (typeof v === 'string' ? new TextEncoder().encode(v) : v);
  const files = new Map<string, Uint8Array>([
    ['config.json', enc(CONFIG)],
    [INDEX, enc(index())],
    [SHARD(1), shard1],
    [SHARD(2), shard2],
  ]);
  for (const [k, v] of Object.entries(over)) {
    if (v === null) files.delete(k);
    else files.set(k, enc(v));
  }
  return files;
}

let tmp: string;
async function onDisk(name: string, files: Map<string, Uint8Array>): Promise<FolderSource> {
  const dir = join(tmp, name);
  await mkdir(dir, { recursive: true });
  for (const [rel, data] of files) await writeFile(join(dir, rel), data);
  return nodeFolder(dir);
}

async function expectFolderError(p: Promise<unknown>, file: string, tensor?: string, detail?: RegExp): Promise<void> {
  let err: unknown;
  try {
    const m = await p;
    await (m as { close?: () => Promise<void> })?.close?.();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ModelFolderError);
  const e = err as ModelFolderError;
  expect(e.file.endsWith(file)).toBe(true);
  expect(e.message).toContain(file);
  if (tensor !== undefined) {
    expect(e.tensor).toBe(tensor);
    expect(e.message).toContain(tensor);
  }
  if (detail) expect(e.message).toMatch(detail);
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tessera-io-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('model folders', () => {
  it('a single-file folder on disk', async () => {
    const files = new Map([
      ['config.json', new TextEncoder().encode(CONFIG)],
      ['diffusion_pytorch_model.safetensors', shard1],
    ]);
    const m = await openModelFolder(await onDisk('single', files));
    try {
      expect(m.config['_class_name']).toBe('DiTTransformer2DModel');
      expect(m.shards).toEqual(['diffusion_pytorch_model.safetensors']);
      expect([...m.tensors.keys()].sort()).toEqual(['pos_embed.proj.bias', 'pos_embed.proj.weight']);
      expect(await m.readF32('pos_embed.proj.weight')).toEqual(vals(12, 1));
      expect(Array.from(await m.readF32('pos_embed.proj.bias'))).toEqual([2, 2.5, 3, 3.5]);
      await expectFolderError(m.readF32('nope'), join(tmp, 'single'), 'nope');
    } finally {
      await m.close();
    }
    await expectFolderError(m.readF32('pos_embed.proj.weight'), 'diffusion_pytorch_model.safetensors', undefined, /closed/);
  });

  it('a sharded folder on disk: each tensor from its shard', async () => {
    const m = await openModelFolder(await onDisk('sharded', shardedFiles()));
    try {
      expect(m.shards).toEqual([SHARD(1), SHARD(2)]);
      expect(m.tensors.get('proj_out.weight')!.file).toBe(SHARD(2));
      expect(m.tensors.get('pos_embed.proj.weight')!.file).toBe(SHARD(1));
      expect(Array.from(await m.readF32('proj_out.weight'))).toEqual([3, 3.5, 4, 4.5]);
      expect(await m.readF32('pos_embed.proj.weight')).toEqual(vals(12, 1));
      const src = await m.source(SHARD(2));
      expect(src.name).toBe(join(tmp, 'sharded', SHARD(2)));
    } finally {
      await m.close();
    }
  });

  it('tensorPath / configPath: the shard file that holds a key and the config.json, for load errors', async () => {
    const m = await openModelFolder(await onDisk('sharded-paths', shardedFiles()));
    try {
      const dir = join(tmp, 'sharded-paths');
      expect(tensorPath(m, 'proj_out.weight')).toBe(`${dir}/${SHARD(2)}`);
      expect(tensorPath(m, 'pos_embed.proj.weight')).toBe(`${dir}/${SHARD(1)}`);
      expect(tensorPath(m, 'no.such.key')).toBe(dir);
      expect(configPath(m)).toBe(`${dir}/config.json`);
      expect(configPath({ name: 'https://host/m/' })).toBe('https://host/m/config.json');
    } finally {
      await m.close();
    }
  });

  it('the same folder in memory (mapFolder, Blob files)', async () => {
    const files = new Map<string, Uint8Array | Blob>(shardedFiles());
    files.set(SHARD(2), new Blob([shard2]));
    const m = await openModelFolder(mapFolder('mem', files));
    expect(Array.from(await m.readF32('proj_out.weight'))).toEqual([3, 3.5, 4, 4.5]);
    await m.close();
  });

  it('a variant index, as diffusers names it (X.safetensors.index.fp16.json) and as some repositories do (X.fp16.safetensors.index.json)', async () => {
    for (const name of ['diffusion_pytorch_model.safetensors.index.fp16.json', 'diffusion_pytorch_model.fp16.safetensors.index.json']) {
      const files = shardedFiles({ [INDEX]: null, [name]: index() });
      const m = await openModelFolder(mapFolder('v', files), { variant: 'fp16' });
      expect(m.tensors.size).toBe(4);
      await m.close();
    }
    // the variant's index wins over the plain one, as the variant asks for it
    const both = shardedFiles({ 'diffusion_pytorch_model.safetensors.index.bf16.json': index({ ...weightMap }) });
    const m = await openModelFolder(mapFolder('v', both), { variant: 'bf16' });
    expect(m.shards).toEqual([SHARD(1), SHARD(2)]);
    await m.close();
  });

  it('a single variant file; without --variant an error that names the variant files and the flag', async () => {
    const files = new Map<string, Uint8Array>([
      ['config.json', new TextEncoder().encode(CONFIG)],
      ['diffusion_pytorch_model.fp16.safetensors', shard2],
      ['diffusion_pytorch_model.bf16-00001-of-00002.safetensors', shard1],
    ]);
    const m = await openModelFolder(mapFolder('v', files), { variant: 'fp16' });
    expect(Array.from(await m.readF32('proj_out.weight'))).toEqual([3, 3.5, 4, 4.5]);
    await m.close();
    await expectFolderError(openModelFolder(mapFolder('v', files)), 'v/diffusion_pytorch_model.safetensors', undefined, /neither diffusion_pytorch_model\.safetensors nor diffusion_pytorch_model\.safetensors\.index\.json found; the folder has weight variants fp16, bf16 \(diffusion_pytorch_model\.bf16-00001-of-00002\.safetensors, diffusion_pytorch_model\.fp16\.safetensors\): load it with loadModel\(dir, \{ variant: 'fp16' \}\)$/);
    // a variant the folder does not have
    await expectFolderError(openModelFolder(mapFolder('v', files), { variant: 'int8' }), 'v/diffusion_pytorch_model.int8.safetensors', undefined, /the folder has weight variants fp16, bf16/);
    await expectFolderError(openModelFolder(mapFolder('v', files), { variant: '../x' }), 'v', undefined, /plain name/);
  });

  it('config.json missing, not JSON, or without _class_name', async () => {
    await expectFolderError(openModelFolder(mapFolder('m', shardedFiles({ 'config.json': null }))), 'm/config.json', undefined, /no such file: m is not a model folder/);
    await expectFolderError(openModelFolder(mapFolder('m', shardedFiles({ 'config.json': '{"a":' }))), 'm/config.json', undefined, /JSON/);
    await expectFolderError(openModelFolder(mapFolder('m', shardedFiles({ 'config.json': '{"a":1}' }))), 'm/config.json', undefined, /_class_name/);
  });

  it('no weights at all', async () => {
    await expectFolderError(openModelFolder(mapFolder('m', shardedFiles({ [INDEX]: null }))), 'm/diffusion_pytorch_model.safetensors', undefined, /neither/);
  });

  it('index without weight_map, or naming a path outside the folder', async () => {
    await expectFolderError(openModelFolder(mapFolder('m', shardedFiles({ [INDEX]: '{"metadata":{}}' }))), `m/${INDEX}`, undefined, /weight_map/);
    await expectFolderError(openModelFolder(mapFolder('m', shardedFiles({ [INDEX]: index({ ...weightMap, labels: '../x.safetensors' }) }))), `m/${INDEX}`, 'labels', /not a file inside/);
    await expectFolderError(openModelFolder(mapFolder('m', shardedFiles({ [INDEX]: index({ ...weightMap, labels: '/etc/passwd' }) }))), `m/${INDEX}`, 'labels');
  });

  it('missing shard (on disk)', async () => {
    const folder = await onDisk('missing-shard', shardedFiles({ [SHARD(2)]: null }));
    await expectFolderError(openModelFolder(folder), SHARD(2), undefined, /cannot be opened/);
  });

  it('tensor in a shard but not in the index', async () => {
    const { labels: _, ...wm } = weightMap;
    await expectFolderError(openModelFolder(mapFolder('m', shardedFiles({ [INDEX]: index(wm) }))), `m/${SHARD(2)}`, 'labels', /not in/);
  });

  it('tensor in a different shard from the one the index names', async () => {
    await expectFolderError(openModelFolder(mapFolder('m', shardedFiles({ [INDEX]: index({ ...weightMap, labels: SHARD(1) }) }))), `m/${SHARD(2)}`, 'labels', /puts it in/);
  });

  it('tensor in the index but in no shard', async () => {
    await expectFolderError(openModelFolder(mapFolder('m', shardedFiles({ [INDEX]: index({ ...weightMap, extra: SHARD(1) }) }))), `m/${SHARD(1)}`, 'extra', /not there/);
  });

  it('tensor in two shards', async () => {
    const dup = writeSafetensors([
      { name: 'proj_out.weight', dtype: 'F16', shape: [2, 2], data: vals(4, 3) },
      { name: 'pos_embed.proj.bias', dtype: 'F32', shape: [1], data: vals(1, 0) },
      { name: 'labels', dtype: 'I64', shape: [2], data: new BigInt64Array([1n, 2n]) },
    ]);
    await expectFolderError(openModelFolder(mapFolder('m', shardedFiles({ [SHARD(2)]: dup }))), `m/${SHARD(2)}`, 'pos_embed.proj.bias', /two shards/);
  });

  it('a malformed shard gives a SafetensorsError naming the shard', async () => {
    const bad = shard2.slice(0, shard2.length - 2);
    let err: unknown;
    await openModelFolder(mapFolder('m', shardedFiles({ [SHARD(2)]: bad }))).catch((e) => (err = e));
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as Error).message).toContain(`m/${SHARD(2)}`);
  });
});

describe('file and HTTP sources', () => {
  let server: Server;
  let base: string;
  let noHead = false;
  const served = shardedFiles();
  beforeAll(async () => {
    server = createServer((req, res) => {
      const rel = decodeURIComponent(new URL(req.url!, 'http://x').pathname.replace(/^\/model\//, ''));
      const body = served.get(rel);
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      if (req.method === 'HEAD') {
        res.writeHead(200, noHead ? {} : { 'content-length': body.length, 'accept-ranges': 'bytes' }).end();
        return;
      }
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (!m) {
        res.writeHead(200, { 'content-length': body.length }).end(body);
        return;
      }
      const a = Number(m[1]);
      const b = Math.min(Number(m[2]), body.length - 1);
      res.writeHead(206, { 'content-range': `bytes ${a}-${b}/${body.length}`, 'content-length': b - a + 1 }).end(body.subarray(a, b + 1));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}/model`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('opens a sharded folder over HTTP with range requests', async () => {
    const m = await openModelFolder(httpFolder(base));
    expect(Array.from(await m.readF32('proj_out.weight'))).toEqual([3, 3.5, 4, 4.5]);
    expect(await m.readF32('pos_embed.proj.weight')).toEqual(vals(12, 1));
    await m.close();
  });

  it('httpSource finds the size without HEAD Content-Length, and refuses out-of-range reads', async () => {
    noHead = true;
    try {
      const s = await httpSource(`${base}/${SHARD(1)}`);
      expect(s.size).toBe(shard1.length);
      expect(await s.read(3, 5)).toEqual(shard1.subarray(3, 8));
      await expect(s.read(shard1.length - 1, 2)).rejects.toThrow(RangeError);
    } finally {
      noHead = false;
    }
    await expect(httpSource(`${base}/nope.safetensors`)).rejects.toThrow(/404/);
  });

  it('a 5 GB shard (sparse file): header and a tensor past 4 GB read by offset', async () => {
    const dir = join(tmp, 'big');
    await mkdir(dir);
    const big = 5_000_000_000;
    const tail = new Float32Array([1.5, -2, 3.25, 7]);
    const header = new TextEncoder().encode(JSON.stringify({ filler: { dtype: 'U8', shape: [big], data_offsets: [0, big] }, tail: { dtype: 'F32', shape: [4], data_offsets: [big, big + 16] } }));
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(header.length), true);
    const file = join(dir, 'diffusion_pytorch_model.safetensors');
    const fh = await open(file, 'w');
    try {
      await fh.write(len, 0, 8, 0);
      await fh.write(header, 0, header.length, 8);
      // everything between is a hole in the file system: no disk space used
      await fh.write(new Uint8Array(tail.buffer), 0, 16, 8 + header.length + big);
    } finally {
      await fh.close();
    }
    await writeFile(join(dir, 'config.json'), CONFIG);
    try {
      const m = await openModelFolder(nodeFolder(dir));
      expect(m.tensors.get('tail')!.begin).toBe(8 + header.length + big);
      expect(await m.readF32('tail')).toEqual(tail);
      await m.close();
    } finally {
      await rm(file, { force: true });
    }
  });

  it('fileSource reads at offsets and refuses reads past the end', async () => {
    const p = join(tmp, 'f.safetensors');
    await writeFile(p, shard1);
    const s = await fileSource(p);
    expect(s.size).toBe(shard1.length);
    expect(await s.read(10, 7)).toEqual(shard1.subarray(10, 17));
    await expect(s.read(0, shard1.length + 1)).rejects.toThrow(RangeError);
    await s.close!();
    await expect(s.read(0, 1)).rejects.toThrow(/after close/);
  });
});

// Files written by Python's safetensors/diffusers (the golden fixtures), where present.
const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const fixtureModels = existsSync(FIXTURES) ? readdirSync(FIXTURES).filter((c) => existsSync(join(FIXTURES, c, 'model', 'config.json'))) : [];
describe.skipIf(fixtureModels.length === 0)('real diffusers folders', () => {
  it.each(fixtureModels)('%s opens and every tensor reads', async (c) => {
    const m = await openModelFolder(nodeFolder(join(FIXTURES, c, 'model')));
    try {
      expect(typeof m.config['_class_name']).toBe('string');
      expect(m.tensors.size).toBeGreaterThan(0);
      for (const [name, info] of m.tensors) expect((await m.readF32(name)).length).toBe(info.shape.reduce((a, b) => a * b, 1));
    } finally {
      await m.close();
    }
  });
});
