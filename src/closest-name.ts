// "Did you mean" for a name the caller got wrong (an option, a WebGPU limit, a feature): shared by
// src/model/options.ts and src/gpu/device.ts. Pure: no error classes, so the GPU layer can use it
// without importing src/model (options.ts imports model.ts's InputError).
import { editDistance } from './edit-distance.js';

const snakeCase = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toLowerCase();

/**
 * The names of `names` a caller most likely meant by `key`: the same name in another case style
 * (numInferenceSteps, max_memory, power_preference, wan-tiny as wan_tiny), an alias (`aliases`, keyed in snake_case:
 * generator → seed), every name holding every word of `key`, in the order of `names` (steps →
 * num_inference_steps; wan → wan-1.3b, wan-14b, wan-tiny), or the nearest spelling (num_inference_step, dtyp): at
 * most max(1, ⌊length/4⌋) edits. Empty when none is close; more than one only when several names hold `key`'s words.
 */
export function closestNames(key: string, names: readonly string[], aliases: Readonly<Record<string, string>> = {}): string[] {
  const k = snakeCase(key);
  const byNorm = new Map(names.map((n) => [snakeCase(n), n]));
  const exact = byNorm.get(k) ?? (Object.hasOwn(aliases, k) ? byNorm.get(aliases[k]!) : undefined);
  if (exact) return [exact];
  const words = k.split('_').filter((w) => w.length > 0);
  const holding = [...byNorm].filter(([n]) => words.length > 0 && words.every((w) => n.split('_').includes(w)));
  if (holding.length) return holding.map(([, name]) => name);
  let best: string | undefined;
  let bestD = Infinity;
  for (const [n, name] of byNorm) {
    const d = editDistance(k, n);
    if (d < bestD) [best, bestD] = [name, d];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(k.length / 4)) ? [best] : [];
}

/**
 * The one name of `names` a caller most likely meant by `key` (closestNames; of several names holding `key`'s words,
 * the shortest: steps → num_inference_steps). Undefined when none is close.
 */
export function closestName(key: string, names: readonly string[], aliases: Readonly<Record<string, string>> = {}): string | undefined {
  const near = closestNames(key, names, aliases);
  return near.length < 2 ? near[0] : [...near].sort((a, b) => snakeCase(a).length - snakeCase(b).length)[0];
}

/**
 * What "did you mean" says for closestNames' answer, each name led by `lead` (`--` for flags): `wan-tiny`, or
 * `one of wan-1.3b, wan-14b, wan-tiny`; undefined for none.
 */
export function meantText(near: readonly string[], lead = ''): string | undefined {
  if (near.length === 0) return undefined;
  const shown = near.map((n) => `${lead}${n}`);
  return shown.length === 1 ? shown[0] : `one of ${shown.join(', ')}`;
}
