// `tessera/profiler` (browser entry; the Node entry is profiler.node.ts): recorded plans and GPU
// tensors, GPU-timestamp profiling with per-kernel/per-layer reports and Chrome/Perfetto traces,
// the device ceiling, and live kernel editing (replace a kernel's WGSL, recompile, re-time).
// These are internals of the engine: they change with it. The model API is `tessera`.
export { Pace, Plan, type Dispatch } from './gpu/plan.js'; // Pace: ProfileOptions.pace (one per plan timed over several profilePlan calls)
export { Allocator, readTensor, type DType, type Tensor } from './gpu/tensor.js';
export { kernelRegistry, variantKey, variantSource, compileCheck, invalidateKernel, kernelLayout, type KernelSpec } from './gpu/kernel.js';
export { setKernelSource, kernelSource } from './gpu/shader.js';
export * from './profile/index.js';
export { profileDecode, joinRuns } from './profile/decode.js';
// Autotuning from a script (what `tessera tune` does): settle a recorded plan's tuned kernels before its
// first run, with `force` to re-time cached shapes and `rounds`; read this adapter's cached choices.
export { tunePlan, cachedChoices, tuneStoreWhere, TUNE_ROUNDS, TUNE_MARGIN, type TuneOptions, type TuneReport, type TuneEntry } from './gpu/tune.js';
export { profilePipeline, stageRuns, joinStages, PIPELINE_STAGES, REPLAYED_STEP_GROUP, type PipelineStage, type StageProfile, type ProfiledGeneration, type ProfilePipelineOptions } from './profile/pipeline.js';
import './ops/all.js';
