// Argument checks shared by the profiler's library entry points (the workloads, profilePlan,
// setTuneMode): one line naming the function and the argument, before any work.
import type { Gpu } from '../gpu/device.js';
import { checkGpuOption, InputError, inputErrorAt, kindOf } from '../model/input-error.js';

/**
 * Refuses a `gpu` argument that is not acquireGpu()'s object (an un-awaited acquireGpu(), a GPUDevice, …)
 * with the loaders' check (checkGpuOption), its message led by `where`.
 * @throws InputError `WHERE: gpu: a device from acquireGpu(), got a Promise (await acquireGpu())`.
 */
export function checkGpuArg(where: string, v: unknown): asserts v is Gpu {
  try {
    checkGpuOption(v, true);
  } catch (e) {
    throw inputErrorAt(where, e);
  }
}

/** Whether `v` looks like profilePlan's result (a timing and a list of dispatches). */
const isRun = (v: unknown): boolean => typeof v === 'object' && v !== null && typeof (v as { timing?: unknown }).timing === 'string' && Array.isArray((v as { dispatches?: unknown }).dispatches);

/**
 * chromeTrace's `runs`: a ProfileRun or a list of { name, run }.
 * @throws InputError `chromeTrace: runs: a ProfileRun (from profilePlan) or a list of { name, run }, got undefined` (or what the entry at fault is).
 */
export function checkTraceRuns(runs: unknown): void {
  const want = 'chromeTrace: runs: a ProfileRun (from profilePlan) or a list of { name, run } (run: a ProfileRun)';
  if (!Array.isArray(runs)) {
    if (!isRun(runs)) throw new InputError(`${want}, got ${kindOf(runs)}`);
    return;
  }
  runs.forEach((r: unknown, i) => {
    const o = (typeof r === 'object' && r !== null ? r : {}) as { name?: unknown; run?: unknown };
    if (typeof o.name !== 'string' || !isRun(o.run)) throw new InputError(`${want}, got at [${i}] ${isRun(r) ? 'a ProfileRun without a name (wrap it: { name, run })' : kindOf(r)}`);
  });
}
