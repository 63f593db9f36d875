// The profiler page's URL parameters that pick what runs (preset, tune, repeats, timing, autorun, maxMemory), and
// their names (an unknown one, a typo such as step=2, is refused naming the one meant), checked before
// anything starts: a typo is refused in one line naming what was typed and what is allowed, never
// rounded, clamped or silently ignored. (latent, steps, guidance and seed fill the page's fields and
// are checked like them when a run starts.) No DOM here: tests/profile/profiler-url-params.test.ts runs it in Node.
import { parseBytes, presetNames, type TuneMode } from '../../src/index.browser.js'; // 'tessera' in your project
import { closestName } from '../../src/closest-name.js';

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
 * Every URL parameter the page reads, in the order the message lists them: any other name (`step=2` for
 * steps) is refused rather than ignored, as a typo would otherwise run the defaults without a word.
 */
export const URL_PARAMS = ['prompt', 'preset', 'latent', 'steps', 'guidance', 'seed', 'repeats', 'timing', 'tune', 'autorun', 'model', 'maxMemory'] as const;

/**
 * What is wrong with `q`'s preset, tune, repeats, timing, autorun and maxMemory, one line each naming the value as
 * typed and what is allowed (the presets, the tuning modes, the range of repeats, a size); empty when they are valid or absent.
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
  const timing = q.get('timing');
  if (timing !== null && timing !== 'wall') problems.push(`timing=${JSON.stringify(timing)} is not a timing; expected wall (leave it out for GPU timestamps)`);
  const autorun = q.get('autorun');
  if (autorun !== null && autorun !== '0' && autorun !== '1') problems.push(`autorun=${JSON.stringify(autorun)}: expected 0 (load and wait) or 1 (the default: run on load)`);
  // the memory budget (budget.ts): a size as the library's maxMemory takes it ("4GiB", bytes)
  const maxMemory = q.get('maxMemory');
  if (maxMemory !== null) {
    try {
      parseBytes(maxMemory, 'maxMemory');
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  // names the page does not read, each once, with the one most likely meant
  for (const name of new Set(q.keys())) {
    if ((URL_PARAMS as readonly string[]).includes(name)) continue;
    const near = closestName(name, URL_PARAMS);
    problems.push(`${name}=… is not a parameter of this page${near ? ` (did you mean ${near}?)` : ''}; it reads ${URL_PARAMS.join(', ')}`);
  }
  return problems;
}
