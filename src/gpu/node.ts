// Node-only: Dawn through the npm package `webgpu`. Imported only by the Node entry.
// `webgpu` is an optional peer dependency (132 MB of Dawn binaries that browser users never need),
// so it is loaded on first use and its absence is a GpuUnavailableError saying what to install.
import { GpuUnavailableError, setGpuProvider } from './device.js';

/** The `webgpu` version tessera is tested with; package.json's peerDependencies range admits it (a test checks). */
export const WEBGPU_VERSION = '0.6.2';

let cached: GPU | null = null;

/** Dawn toggles: timestamps unquantized so small kernels are measurable (profiling). */
const DAWN_FLAGS = ['disable-dawn-features=timestamp_quantization'];

export async function nodeGpu(): Promise<{ gpu: GPU; runtime: 'node' }> {
  if (!cached) {
    let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
    try {
      mod = (await import('webgpu')) as unknown as typeof mod;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        throw new GpuUnavailableError(`tessera on Node runs on Dawn from the npm package 'webgpu', which is not installed (it is an optional peer dependency: browsers use navigator.gpu): run npm install webgpu@${WEBGPU_VERSION}`);
      }
      throw new GpuUnavailableError(`cannot load the 'webgpu' package (Dawn for Node): ${(e as Error).message}; reinstall it with npm install webgpu@${WEBGPU_VERSION}`);
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
