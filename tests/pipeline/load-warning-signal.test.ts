// loadPipeline's onWarning and signal, loadModel's signal (helper E): the scheduler's warning lines went to
// console.warn with no way to catch them, and no loader could be cancelled. On tessera-shapes: a scheduler
// config saved under another class warns at load, a generate() scheduler that ignores keys warns at the call,
// both to onWarning (awaited; a rejection fails the call naming it), none to console.warn; an abort stops the
// load between components or between the transformer's tensors, naming what was being loaded.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import '../../src/node-env.js';
import { InputError, loadModel } from '../../src/model/model.js';
import { loadPipeline } from '../../src/pipeline/pipeline.js';
import type { FolderSource } from '../../src/io/source.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const DIR = join(ROOT, 'models', 'tessera-shapes');
const tmp = mkdtempSync(join(tmpdir(), 'tessera-load-warning-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** tessera-shapes with its UniPC scheduler config saved as DDIMScheduler's (read as UniPC: one warning at load). */
function renamedScheduler(): string {
  const dir = join(tmp, 'renamed');
  cpSync(DIR, dir, { recursive: true });
  const f = join(dir, 'scheduler', 'scheduler_config.json');
  writeFileSync(f, readFileSync(f, 'utf8').replace('"UniPCMultistepScheduler"', '"DDIMScheduler"'));
  return dir;
}

describe('onWarning and signal options are checked before any file is read', () => {
  it('a non-function onWarning, a non-signal signal: InputError', async () => {
    await expect(loadPipeline('/nonexistent', { onWarning: 'log' as never })).rejects.toThrow(new InputError('onWarning: a function, got "log"', { option: 'onWarning' }));
    await expect(loadPipeline('/nonexistent', { signal: {} as never })).rejects.toThrow(/^signal: an AbortSignal/);
    await expect(loadModel(join(DIR, 'transformer'), { signal: 1 as never })).rejects.toThrow(/^signal: an AbortSignal/);
  });

  // final review M4: an already-aborted signal read config.json and every shard header (over HTTP too) first
  it('an already-aborted signal: loadModel and loadPipeline read no file', async () => {
    let reads = 0;
    const counting = (name: string): FolderSource => ({
      name,
      readText: async () => (reads++, null),
      open: async () => {
        reads++;
        throw new Error('not read');
      },
      list: async () => (reads++, []),
    });
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    const model = (await loadModel(counting('m'), { signal: ac.signal }).catch((e: unknown) => e)) as Error;
    expect(model.name).toBe('AbortError');
    expect(model.message).toMatch(/^loadModel\(m\), before reading its folder: aborted \(stop\)$/);
    const pipe = (await loadPipeline(counting('p'), { signal: ac.signal }).catch((e: unknown) => e)) as Error;
    expect(pipe.name).toBe('AbortError');
    expect(pipe.message).toMatch(/^loadPipeline\(p\), before reading its folder: aborted \(stop\)$/);
    // a path is not resolved either
    await expect(loadModel('/nonexistent', { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(reads).toBe(0);
  });
});

describe.skipIf(!hasGpu)('loadPipeline onWarning', () => {
  it('the load-time line and a call’s line go to onWarning (awaited), not console.warn; a rejection fails that call', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const lines: string[] = [];
    const dir = renamedScheduler();
    const pipe = await loadPipeline(dir, { gpu: gpu!, onWarning: async (l) => (await new Promise((r) => setTimeout(r, 5)), void lines.push(l)) });
    try {
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^warning: .*scheduler_config\.json: _class_name "DDIMScheduler" is not model_index\.json's UniPCMultistepScheduler/);
      await pipe.generate({ prompt: 'a cat', seed: 0, height: 32, width: 32, num_frames: 1, num_inference_steps: 1, output_type: 'latent', scheduler: 'flow-match-euler' });
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(/^warning: .*scheduler_config\.json: .*FlowMatchEulerDiscreteScheduler/);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      pipe.dispose();
    }
    const bad = await loadPipeline(dir, { gpu: gpu!, onWarning: async () => Promise.reject(new Error('log closed')) }).catch((e: unknown) => e);
    expect((bad as Error).message).toBe('loadPipeline: onWarning failed: log closed');
  });
});

describe.skipIf(!hasGpu)('loader signal', () => {
  it('an abort stops loadPipeline between components and loadModel between tensors, naming what it was loading', async () => {
    const pre = AbortSignal.abort('stop');
    const e0 = (await loadPipeline(DIR, { gpu: gpu!, signal: pre }).catch((e: unknown) => e)) as Error;
    expect(e0.name).toBe('AbortError');
    // (already aborted: refused before the folder is read, final review M4)
    expect(e0.message).toBe(`loadPipeline(${DIR}), before reading its folder: aborted (stop)`);

    const mid = new AbortController();
    const e1 = (await loadPipeline(DIR, { gpu: gpu!, signal: mid.signal, onProgress: (c, d) => void (c === 'transformer' && d === 2 && mid.abort('user')) }).catch((e: unknown) => e)) as Error;
    expect(e1.name).toBe('AbortError');
    expect(e1.message).toMatch(new RegExp(`^loadModel\\(${DIR}/transformer\\), before \\S+ \\(3/\\d+\\): aborted \\(user\\)$`));

    const last = new AbortController();
    const e2 = (await loadPipeline(DIR, { gpu: gpu!, signal: last.signal, onProgress: (c, d, t) => void (c === 'transformer' && d === t && last.abort('enough')) }).catch((e: unknown) => e)) as Error;
    expect(e2.message).toBe(`loadPipeline(${DIR}), before the vae: aborted (enough)`);

    const m = new AbortController();
    const e3 = (await loadModel(join(DIR, 'transformer'), { gpu: gpu!, signal: m.signal, onProgress: (d) => void (d === 1 && m.abort()) }).catch((e: unknown) => e)) as Error;
    // abort() with no argument: still named AbortError, and the message says which tensor it stopped before (was the bare DOMException 'This operation was aborted')
    expect(e3.name).toBe('AbortError');
    expect(e3.message).toMatch(new RegExp(`^loadModel\\(${DIR}/transformer\\), before \\S+ \\(2/\\d+\\): aborted \\(This operation was aborted\\)$`));
    expect(e3.cause).toBe(m.signal.reason);
    // after aborted loads, a load gives a working pipeline
    const pipe = await loadPipeline(DIR, { gpu: gpu!, signal: new AbortController().signal });
    pipe.dispose();
  });
});
