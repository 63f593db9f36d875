// webgpuRuntime: one rule for the runtime of a WebGPU the caller hands in, used by acquireGpu({ gpu }) (findGpu) and
// the loaders' `device` (gpuOfDevice). Before, the two had rules of their own and disagreed: in Deno (versions.node,
// navigator.gpu, no window) gpuOfDevice said 'node' and findGpu 'browser'; in Node with jsdom's window, gpuOfDevice said
// 'browser'; in Node with navigator.gpu set to Dawn, findGpu said 'browser'. The globals are stubbed and restored.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { acquireGpu } from '../../src/gpu/device.js';
import { webgpuRuntime } from '../../src/gpu/runtime.js';
import { gpuOfDevice } from '../../src/model/device-option.js';

afterEach(() => {
  vi.unstubAllGlobals();
});

/** A GPUDevice as far as gpuOfDevice reads one (a new one each time: gpuOfDevice keeps one Gpu per device). */
const fakeDevice = () => ({ limits: {}, features: new Set<string>(), lost: new Promise(() => {}), adapterInfo: {}, destroy() {} }) as unknown as GPUDevice;

/** The runtime acquireGpu({ gpu }) takes a caller's GPU for: its refusal of a GPU without an adapter names it. */
async function acquireRuntime(): Promise<'node' | 'browser'> {
  const e = await acquireGpu({ gpu: { requestAdapter: async () => null } as unknown as GPU }).then(() => null, (x: unknown) => x as Error);
  if (/found by Dawn/.test(e!.message)) return 'node';
  if (/navigator\.gpu\.requestAdapter\(\) returned null/.test(e!.message)) return 'browser';
  throw e;
}

const CASES: [string, Record<string, unknown>, 'node' | 'browser'][] = [
  ['Node', {}, 'node'],
  ['Deno (versions.node, its own navigator.gpu, no window)', { Deno: {}, navigator: { gpu: {} } }, 'browser'],
  ["Node with jsdom's window (no navigator.gpu)", { window: {}, navigator: {} }, 'node'],
  ['Node with navigator.gpu set to the webgpu package (no window)', { navigator: { gpu: {} } }, 'node'],
  ["Electron's renderer (a window with navigator.gpu, Node integration)", { window: {}, navigator: { gpu: {} } }, 'browser'],
];

describe('webgpuRuntime', () => {
  it.each(CASES)('%s: %j → %s, and gpuOfDevice and acquireGpu({ gpu }) both say so', async (_, globals, want) => {
    for (const [k, v] of Object.entries(globals)) vi.stubGlobal(k, v);
    expect(webgpuRuntime()).toBe(want);
    expect(gpuOfDevice(fakeDevice()).runtime).toBe(want);
    expect(await acquireRuntime()).toBe(want);
  });

  it('a web worker (navigator.gpu, no window, no Node process) and a bundle whose process has no versions.node: browser', () => {
    vi.stubGlobal('navigator', { gpu: {} });
    // restored at once: vitest's own code reads `process`
    for (const proc of [undefined, { env: {}, versions: {} }]) {
      vi.stubGlobal('process', proc);
      let got: string;
      try {
        got = webgpuRuntime();
      } finally {
        vi.unstubAllGlobals();
      }
      expect(got).toBe('browser');
      vi.stubGlobal('navigator', { gpu: {} });
    }
  });
});
