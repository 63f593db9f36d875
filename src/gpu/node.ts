// Node-only: Dawn through the npm package `webgpu`. Imported only by the Node entry.
import { setGpuProvider } from './device.js';

let cached: GPU | null = null;

/** Dawn toggles: timestamps unquantized so small kernels are measurable (profiling). */
const DAWN_FLAGS = ['disable-dawn-features=timestamp_quantization'];

export async function nodeGpu(): Promise<{ gpu: GPU; runtime: 'node' }> {
  if (!cached) {
    let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
    try {
      mod = (await import('webgpu')) as unknown as typeof mod;
    } catch (e) {
      throw new Error(`cannot load the 'webgpu' package (Dawn for Node): ${(e as Error).message}; run npm install`);
    }
    // GPUBufferUsage, GPUShaderStage, ... as globals, like in a browser.
    for (const [k, v] of Object.entries(mod.globals)) {
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    }
    cached = mod.create(DAWN_FLAGS);
  }
  return { gpu: cached, runtime: 'node' };
}

setGpuProvider(nodeGpu);
