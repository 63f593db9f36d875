// Which WebGPU a device handed to tessera runs on, when tessera did not request it itself (acquireGpu({ gpu }), the
// loaders' `device`): Gpu.runtime turns on what only Dawn in Node needs (gpuWait's throttle of Dawn's busy wait, Pace's
// sleeps between runs) and is part of the tuning cache's key. Browser-safe: globals only, no Node imports.

/**
 * The runtime of a WebGPU object given by the caller: 'node' (Dawn, through the `webgpu` package, in a Node process)
 * or 'browser' (a WebGPU of the runtime's own). Read from the globals:
 * - no Node process (`process.versions.node` is no string): 'browser': pages, and web workers, which have
 *   navigator.gpu but no `window`, and bundles whose `process` stand-in has no versions.node;
 * - Deno: 'browser', although its Node-compatible `process` has versions.node: its navigator.gpu is its own (wgpu);
 * - a `window` with navigator.gpu in a Node process (Electron's renderer with Node integration): 'browser' (Chromium's);
 * - any other Node process (Node, Bun): 'node', also with a `window` but no navigator.gpu (jsdom) or with a
 *   navigator.gpu the script set to the webgpu package's create().
 * Deno decided the rule: it has versions.node, navigator.gpu and no `window`, so neither "a Node process without a
 * window" (gpuOfDevice's old test, which read it as 'node') nor "navigator.gpu is there" (findGpu's old test, which also
 * read Dawn set as navigator.gpu in Node as 'browser') holds for every case; a web worker rules out deciding by `window`.
 */
export function webgpuRuntime(): 'node' | 'browser' {
  const g = globalThis as { process?: { versions?: { node?: unknown } }; Deno?: unknown; window?: unknown; navigator?: { gpu?: unknown } };
  if (typeof g.process?.versions?.node !== 'string') return 'browser';
  if (g.Deno !== undefined) return 'browser';
  if (g.window !== undefined && g.navigator?.gpu) return 'browser';
  return 'node';
}
