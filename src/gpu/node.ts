// Node-only: Dawn through the npm package `webgpu`. Imported only by the Node entry.
// `webgpu` is an optional peer dependency (132 MB of Dawn binaries that browser users never need),
// so it is loaded on first use and its absence is a GpuUnavailableError saying what to install.
import { availableParallelism } from 'node:os';
import { GpuUnavailableError, setGpuProvider, type Gpu } from './device.js';

/** The `webgpu` version tessera is tested with; package.json's peerDependencies range admits it (a test checks). */
export const WEBGPU_VERSION = '0.6.2';

let cached: GPU | null = null;

/** Dawn toggles: timestamps unquantized so small kernels are measurable (profiling). */
const DAWN_FLAGS = ['disable-dawn-features=timestamp_quantization'];

/** Mesa's cap on llvmpipe's worker threads (LP_MAX_THREADS): a larger LP_NUM_THREADS runs this many. */
const LP_MAX_THREADS = 32;

/**
 * Worker threads for Mesa's llvmpipe (lavapipe, the CPU Vulkan driver) when the user has not set
 * LP_NUM_THREADS: 8 per core, at most 32. llvmpipe cuts each dispatch into one slice of workgroups
 * per thread, fixed up front; with one thread per core, a core that also runs anything else (Node's
 * main thread, the driver's queue thread, another process) finishes its slice late while the others
 * sit idle. Smaller slices even that out. Measured on 2 cores (bench/RESULTS.md, session 14): the
 * DiT-S block 221 → 132 ms of GPU time at 16 threads (4: 172, 8: 143, 32: 142, 64: 147); GEMM
 * 1024×384×1536 51 → 29 ms.
 */
export function llvmpipeThreads(cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(LP_MAX_THREADS, 8 * Math.floor(cores)));
}

/**
 * Sets LP_NUM_THREADS (see llvmpipeThreads) unless the environment already has it, before Dawn
 * starts Mesa, which reads it once. Other drivers ignore the variable. Returns the value in effect.
 */
export function setLlvmpipeThreads(env: Record<string, string | undefined> = process.env): string {
  if (!env.LP_NUM_THREADS) env.LP_NUM_THREADS = String(llvmpipeThreads());
  return env.LP_NUM_THREADS;
}

/**
 * The worker threads Mesa's llvmpipe runs with for an LP_NUM_THREADS value: the integer Mesa parses,
 * capped at LP_MAX_THREADS (0: none, the work runs on the driver's own thread); null when unset or not a number.
 * Mesa reads it with strtol(value, &end, 0) (u_debug.c debug_get_num_option): leading space, a sign, 0x… in
 * hex, 0… in octal, up to the first other character; its count is unsigned, so a negative one is the cap.
 * Measured on lavapipe: 0x5 runs 5 threads, 010 runs 8, -2 runs 32, abc Mesa's default.
 */
export function llvmpipeThreadsInEffect(value: string | undefined): number | null {
  const m = value === undefined ? null : /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)/.exec(value);
  if (!m) return null;
  const digits = m[2]!;
  const n = /^0[xX]/.test(digits) ? Number.parseInt(digits.slice(2), 16) : Number.parseInt(digits, digits.startsWith('0') ? 8 : 10);
  return m[1] === '-' && n > 0 ? LP_MAX_THREADS : Math.min(LP_MAX_THREADS, n);
}

/** LP_NUM_THREADS as nodeGpu() started Dawn with it (Mesa reads it then, once); undefined before, or when unset. */
let threadsAtStart: string | undefined;

/**
 * The worker threads Mesa's llvmpipe runs `gpu` with: on Node with an llvmpipe (lavapipe) adapter,
 * the LP_NUM_THREADS in effect (llvmpipeThreadsInEffect) when nodeGpu() started Dawn, else as
 * `value` (default: the environment's now) gives it, else Mesa's own default (one per core, 0 on
 * one core, at most LP_MAX_THREADS); null on any other adapter. `tessera info` shows it and the
 * tuning cache keys its choices by it (the fastest variant depends on it).
 */
export function llvmpipeThreadsOf(gpu: Pick<Gpu, 'runtime' | 'adapterInfo'>, value: string | undefined = threadsAtStart ?? process.env.LP_NUM_THREADS): number | null {
  if (gpu.runtime !== 'node' || !/llvmpipe/i.test(`${gpu.adapterInfo.architecture} ${gpu.adapterInfo.description}`)) return null;
  const cores = Math.floor(availableParallelism());
  return llvmpipeThreadsInEffect(value) ?? (cores > 1 ? Math.min(LP_MAX_THREADS, cores) : 0);
}

export async function nodeGpu(): Promise<{ gpu: GPU; runtime: 'node' }> {
  if (!cached) {
    setLlvmpipeThreads();
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
    threadsAtStart = process.env.LP_NUM_THREADS;
    cached = mod.create(DAWN_FLAGS);
  }
  return { gpu: cached, runtime: 'node' };
}

setGpuProvider(nodeGpu);
