// Audit 12S defect 2: a first run on a fresh tuning cache allocated every candidate's scratch outside
// maxMemory (2.9× the budget at its peak) and left read-back staging buffers and replaced uniform
// buffers live afterwards. Now a call whose tuning scratch does not fit what the budget leaves is not
// timed (the tuning log says so, with the numbers), and tuning frees everything it allocated.
// Counted independently: device.createBuffer / GPUBuffer.destroy wrapped on this file's device.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import '../../src/node-env.js';
import { fmtBytes } from '../../src/gpu/tensor.js';
import { nodeTuneStore } from '../../src/gpu/tune-store-node.js';
import { setTuneMode, setTuneStore } from '../../src/gpu/tune.js';
import { parseConfig } from '../../src/model/config.js';
import { estimateMemory } from '../../src/model/memory.js';
import { getPreset, loadRandomModel } from '../../src/model/presets.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const config = getPreset('wan-tiny').config;
// 1024 tokens: the FFN, q|k|v and out-projection GEMMs are above the 2^24-FLOP tuning floor
const latent = [1, 16, 4, 32, 32];
const text = [1, 8, 64];
const n = latent.reduce((a, b) => a * b, 1);
const inputs = {
  hidden_states: { data: Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)), shape: latent },
  timestep: [500],
  encoder_hidden_states: { data: Float32Array.from({ length: 8 * 64 }, (_, i) => Math.cos(i * 0.11)), shape: text },
};

let live = 0;
let peak = 0;
/** Every tuning cache folder this file made (removed at the end). */
const caches: string[] = [];
/** Live read-back (MAP_READ) buffers: readTensor keeps a few idle for reuse. */
const staging = new Set<GPUBuffer>();

describe.skipIf(!hasGpu)('autotuning under maxMemory (fresh tuning cache)', () => {
  beforeAll(() => {
    const dev = gpu!.device;
    const create = dev.createBuffer.bind(dev);
    const sizes = new Map<GPUBuffer, number>();
    dev.createBuffer = (desc: GPUBufferDescriptor) => {
      const b = create(desc);
      sizes.set(b, desc.size);
      if (desc.usage & GPUBufferUsage.MAP_READ) staging.add(b);
      live += desc.size;
      peak = Math.max(peak, live);
      const destroy = b.destroy.bind(b);
      b.destroy = () => {
        if (sizes.has(b)) (live -= sizes.get(b)!), sizes.delete(b);
        staging.delete(b);
        destroy();
      };
      return b;
    };
    setTuneMode(gpu!, 'auto');
  });
  afterAll(() => {
    setTuneStore(null);
    for (const c of caches) rmSync(c, { recursive: true, force: true });
  });

  /** A fresh cache file (nothing tuned yet), as a first run with a new XDG_CACHE_HOME has it; returns its folder. */
  const freshCache = () => {
    const cache = mkdtempSync(join(tmpdir(), 'tessera-tune-budget-'));
    caches.push(cache);
    setTuneStore(nodeTuneStore(join(cache, 'tessera', 'tune.json')));
    return cache;
  };

  it('no budget: tuning runs, and afterwards nothing it allocated is left on the device', async () => {
    const cache = freshCache();
    const log = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const model = await loadRandomModel(config, { gpu: gpu!, dtype: 'f32', seed: 1 });
    try {
      const held = model.gpuBytes;
      const stagingBytes = () => [...staging].reduce((a, b) => a + b.size, 0);
      const before = live - stagingBytes();
      expect(staging.size).toBe(0); // first in this file's device: nothing read back yet
      const out = await model.forward(inputs);
      expect(log.mock.calls.filter((c) => String(c[0]).includes('skipped'))).toEqual([]);
      // the run's own buffers (plans, uniforms: what gpuBytes counts) and one read-back staging buffer,
      // for its output (kept for reuse); no tuning scratch, read-back or replaced uniform
      expect(live - stagingBytes() - before).toBe(model.gpuBytes - held);
      expect(stagingBytes()).toBe(out.data.length * 4);
      expect(existsSync(join(cache, 'tessera', 'tune.json'))).toBe(true); // something was tuned and saved
    } finally {
      log.mockRestore();
      model.dispose();
    }
  }, 600_000);
  it('a budget with a few MiB of room: the peak stays within it, calls whose scratch needs more are skipped saying so', async () => {
    freshCache();
    const est = estimateMemory(parseConfig(config), latent, text, 'f32', gpu!.limits);
    const budget = est.total + 6 * 2 ** 20;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const model = await loadRandomModel(config, { gpu: gpu!, dtype: 'f32', seed: 1, maxMemory: budget });
    try {
      live = peak = model.gpuBytes; // the weights (what the wrapper saw before is other tests' business)
      await model.forward(inputs);
      const skipped = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('skipped'));
      const room = fmtBytes(budget - model.gpuBytes);
      expect(skipped.length).toBeGreaterThan(0);
      for (const m of skipped) expect(m).toMatch(new RegExp(`^\\[tessera\\] tuning gemm f32 M\\d+ N\\d+ K\\d+ SWG\\d+x\\d skipped, keeping the heuristic [\\w-]+: its scratch needs \\d+\\.\\d MiB, above the ${room.replace('.', '\\.')} the budget \\(maxMemory\\) leaves$`));
      expect(peak).toBeLessThanOrEqual(budget);
    } finally {
      warn.mockRestore();
      model.dispose();
    }
  }, 600_000);

});
