// "Did you mean" for a name the caller got wrong (an option, a WebGPU limit, a feature): shared by
// src/model/options.ts and src/gpu/device.ts. Pure: no error classes, so the GPU layer can use it
// without importing src/model (options.ts imports model.ts's InputError).
import { editDistance } from './edit-distance.js';

const snakeCase = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toLowerCase();

/**
 * The name of `names` a caller most likely meant by `key`: the same name in another case style
 * (numInferenceSteps, max_memory, power_preference, wan-tiny as wan_tiny), an alias (`aliases`, keyed in snake_case:
 * generator → seed), the one shortest name holding every word of `key` (steps →
 * num_inference_steps), or a near spelling (num_inference_step, dtyp): at most max(1, ⌊length/4⌋)
 * edits. Undefined when none is close.
 */
export function closestName(key: string, names: readonly string[], aliases: Readonly<Record<string, string>> = {}): string | undefined {
  const k = snakeCase(key);
  const byNorm = new Map(names.map((n) => [snakeCase(n), n]));
  const exact = byNorm.get(k) ?? (Object.hasOwn(aliases, k) ? byNorm.get(aliases[k]!) : undefined);
  if (exact) return exact;
  const words = k.split('_').filter((w) => w.length > 0);
  const holding = [...byNorm].filter(([n]) => words.length > 0 && words.every((w) => n.split('_').includes(w))).sort((a, b) => a[0].length - b[0].length);
  if (holding.length) return holding[0]![1];
  let best: string | undefined;
  let bestD = Infinity;
  for (const [n, name] of byNorm) {
    const d = editDistance(k, n);
    if (d < bestD) [best, bestD] = [name, d];
  }
  return bestD <= Math.max(1, Math.floor(k.length / 4)) ? best : undefined;
}
