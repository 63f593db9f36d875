// The line a CLI command prints on a CPU adapter before a denoising loop whose steps would each take long even at a
// generous FLOP rate (user22 #6: minutes without a word): tessera demo and tessera generate (--pipeline, --model and
// the embedded pipeline) print the same line, made here.
import { availableParallelism } from 'node:os';
import type { ModelConfig } from '../model/config.js';
import type { DiffusionModel } from '../model/model.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { Gpu } from '../gpu/device.js';
import { tuneMode } from '../gpu/tune.js';
import { estimateStepWork, formatDuration, formatFlops, modelStepWork, type StepWork, type StepWorkOptions } from '../pipeline/step-work.js';
import { plural } from './progress.js';

/**
 * A FLOP rate no CPU core reaches through a WebGPU CPU driver (GFLOP/s per core): 100 (an AVX2 core at 3 GHz peaks
 * at 96 f32 GFLOP/s; lavapipe's FMA kernel measured 6–73 GFLOP/s on this project's 2-core host, bench/RESULTS.md), so
 * FLOPs over it are a lower bound on the time, without measuring a ceiling (seconds under load) just to say so.
 */
export const CPU_GENEROUS_GFLOPS_PER_CORE = 100;

/** The step time (s) at the generous rate above which the CLI says so before step 1. */
export const LONG_STEP_S = 30;

/** What cpuLoopNote's line ends with by default: the flags of tessera demo that make a step or the loop smaller. */
export const DEMO_SMALLER = '--steps, --frames, --height and --width make it smaller';

/**
 * The line on a CPU adapter before step 1, when a step would take over LONG_STEP_S even at the generous rate `work`
 * was estimated with (estimateStepWork's stepSeconds; `cores`: the CPU cores it assumed), else undefined: the step's
 * FLOPs, the lower bounds per step and for the loop, and `smaller` (what makes it smaller, in the command's flags;
 * default DEMO_SMALLER).
 */
export function cpuLoopNote(work: StepWork, cores: number, smaller = DEMO_SMALLER, tuning = false): string | undefined {
  if (work.stepSeconds === undefined || work.loopSeconds === undefined || !(work.stepSeconds > LONG_STEP_S)) return undefined;
  const rate = CPU_GENEROUS_GFLOPS_PER_CORE * cores;
  const batch = work.cfg ? ` × CFG batch ${work.batch}` : work.batch > 1 ? ` × batch ${work.batch}` : '';
  return `CPU adapter: one denoising step is ${formatFlops(work.stepFlops)} (the transformer over ${work.tokens} tokens${batch}): at least ${formatDuration(work.stepSeconds)} a step, ${formatDuration(work.loopSeconds)} for ${plural(work.steps, 'step')}, a lower bound at a generous ${rate} GFLOP/s (${CPU_GENEROUS_GFLOPS_PER_CORE} per CPU core × ${cores}; this adapter runs below it): ${smaller}${tuning ? `; ${TUNING_WORDS}` : ''}`;
}

/**
 * cpuLoopNote's last words when the device autotunes (tuneMode 'auto'): the estimate counts the steps' FLOPs, not the
 * first run's tuning of kernel shapes it has not met, which took much of a 1024² run's 23 minutes (user24 #1).
 */
export const TUNING_WORDS = 'a first run at a size also autotunes its kernels, not counted here (minutes at large sizes; --no-tune skips it)';

/**
 * cpuLoopNote for a `pipe.generate(call)` about to run: undefined on a GPU adapter (pipe.gpu.isCpu false) or a short
 * step; else the line, from estimateStepWork at CPU_GENEROUS_GFLOPS_PER_CORE × this host's cores (availableParallelism).
 * Call it after the call's checks (a refused call prints only its refusal): its dry run is memoized with
 * Pipeline.generate's fit check, so it costs nothing then. @throws InputError as estimateStepWork (options it refuses).
 */
export function cpuLoopNoteFor(pipe: Pipeline, call: StepWorkOptions, smaller = DEMO_SMALLER): string | undefined {
  return noteAt(pipe.gpu, (rate) => estimateStepWork(pipe, call, rate), smaller);
}

/**
 * cpuLoopNoteFor for generate --model: a transformer alone (`model`, on a CPU adapter) and generate()'s latents shape
 * `o.latent` [B, C, (F,) H, W], text length `o.textLen`, steps and guidance (modelStepWork). @throws InputError as modelStepWork.
 */
export function cpuLoopNoteForModel(model: Pick<DiffusionModel, 'config' | 'dtype' | 'gpu'>, o: { latent: readonly number[]; textLen?: number; steps: number; guidance: number }, smaller: string): string | undefined {
  return noteAt(model.gpu, (rate) => modelStepWork(model, o, rate), smaller);
}

/** The line for `work` at the generous rate of this host's cores, on a CPU adapter only; the tuning words when `gpu` autotunes. */
function noteAt(gpu: Gpu, work: (gflops: number) => StepWork, smaller: string): string | undefined {
  if (!gpu.isCpu) return undefined;
  const cores = availableParallelism();
  return cpuLoopNote(work(CPU_GENEROUS_GFLOPS_PER_CORE * cores), cores, smaller, tuneMode(gpu) === 'auto');
}

/**
 * cpuLoopNote's last words for a seeded generate run: the flags that make a step or the loop smaller (`--steps`, then
 * the size flags of `family`'s latents, and `--batch` when the run has more than one item).
 */
export function sizeFlagsWords(family: ModelConfig['family'], batch: number): string {
  const flags = ['--steps', ...(family === 'dit' ? [] : ['--frames']), '--height', '--width', ...(batch > 1 ? ['--batch'] : [])];
  return `${flags.slice(0, -1).join(', ')} and ${flags.at(-1)!} make it smaller`;
}
