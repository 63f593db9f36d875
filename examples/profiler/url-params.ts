// The profiler page's URL parameters that pick what runs (preset, tune, repeats), checked before
// anything starts: a typo is refused in one line naming what was typed and what is allowed, never
// rounded, clamped or silently ignored. (latent, steps, guidance and seed fill the page's fields and
// are checked like them when a run starts.) No DOM here: tests/profile/profiler-url-params.test.ts runs it in Node.
import { presetNames, type TuneMode } from '../../src/index.browser.js'; // 'tessera' in your project

/** `?repeats`: timed repeats of the profiled step, 1..REPEATS_MAX, REPEATS_DEFAULT when absent. */
export const REPEATS_MAX = 50;
export const REPEATS_DEFAULT = 5;
/**
 * `?tune`: the autotuner's modes (as TESSERA_TUNE), in the order the message lists them. tessera exports
 * the TuneMode type but not a list of its values; `satisfies` keeps this list within the type, and the
 * `Exclude` below fails to compile when the library adds a mode that is missing here.
 */
export const TUNE_MODES = ['off', 'cached', 'auto'] as const satisfies readonly TuneMode[];
const allModesListed: Exclude<TuneMode, (typeof TUNE_MODES)[number]> extends never ? true : never = true;
void allModesListed;

/**
 * What is wrong with `q`'s preset, tune and repeats, one line each naming the value as typed and what is
 * allowed (the presets, the tuning modes, the range of repeats); empty when they are valid or absent.
 */
export function urlProblems(q: URLSearchParams): string[] {
  const problems: string[] = [];
  const preset = q.get('preset');
  if (preset !== null && !presetNames().includes(preset)) problems.push(`preset=${JSON.stringify(preset)} is not a preset; presets: ${presetNames().join(', ')}`);
  const tune = q.get('tune');
  if (tune !== null && !(TUNE_MODES as readonly string[]).includes(tune)) problems.push(`tune=${JSON.stringify(tune)} is not a tuning mode; expected ${TUNE_MODES.join(', ')}`);
  const repeats = q.get('repeats');
  const range = `expected a whole number from 1 to ${REPEATS_MAX} (default ${REPEATS_DEFAULT})`;
  if (repeats !== null && !/^\d+$/.test(repeats.trim())) problems.push(`repeats=${JSON.stringify(repeats)} is not a whole number; ${range}`);
  else if (repeats !== null && !(Number(repeats) >= 1 && Number(repeats) <= REPEATS_MAX)) problems.push(`repeats=${repeats.trim()} is out of range; ${range}`);
  return problems;
}
