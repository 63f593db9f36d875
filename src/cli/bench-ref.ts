// `tessera bench … --variants 'default@REV;default'`: kernel sources from a git revision, for an
// A/B of kernel edits in one process (the op code is this checkout's either way). Developer use in
// a git checkout: the WGSL of REV is read with `git show REV:kernels/<name>.wgsl`.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Gpu } from '../gpu/device.js';
import { invalidateKernel } from '../gpu/kernel.js';
import { setKernelSource } from '../gpu/shader.js';
import { kernelSources } from '../kernels.gen.js';
import { UsageError } from './args.js';

const cache = new Map<string, Map<string, string>>();
/** The checkout this module runs from (src/cli or dist/cli, two levels down). */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The kernel sources (kernels/**\/*.wgsl, by name as in kernels.gen) at `ref` that differ from this checkout's. */
export function kernelsAt(ref: string): Map<string, string> {
  const hit = cache.get(ref);
  if (hit) return hit;
  if (!/^[\w./~^@{}-]+$/.test(ref)) throw new UsageError(`--variants: "@${ref}" is not a git revision name`);
  const differ = new Map<string, string>();
  for (const [name, src] of Object.entries(kernelSources)) {
    let at: string;
    try {
      at = execFileSync('git', ['-C', ROOT, 'show', `${ref}:kernels/${name}.wgsl`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 });
    } catch (e) {
      const msg = String((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n')[0];
      // a kernel added since REV has no source there: it keeps this checkout's
      if (/exists on disk, but not in|does not exist in/.test(msg)) continue;
      throw new UsageError(`--variants …@${ref}: cannot read kernels/${name}.wgsl at ${ref} (git show: ${msg}); @REV needs a git checkout of tessera and a revision in it`);
    }
    if (at !== src) differ.set(name, at);
  }
  cache.set(ref, differ);
  return differ;
}

/**
 * Makes the next recorded plans compile `ref`'s kernel sources; returns the function that puts
 * this checkout's back. Recorded plans keep the pipelines they compiled, so a plan recorded and
 * run (checked) in between keeps `ref`'s kernels after the restore.
 */
export function useKernelsAt(gpu: Gpu, ref: string): { changed: string[]; restore: () => void } {
  const differ = kernelsAt(ref);
  const invalidateAll = () => {
    for (const name of Object.keys(kernelSources)) invalidateKernel(gpu, name);
  };
  for (const [name, src] of differ) setKernelSource(name, src);
  invalidateAll();
  return {
    changed: [...differ.keys()],
    restore: () => {
      for (const name of differ.keys()) setKernelSource(name, null);
      invalidateAll();
    },
  };
}
