// The public library API shared by the Node and browser entries (no Node imports here). Plans,
// GPU tensors, the profiler and live kernel editing are the `tessera/profiler` entry (profiler.ts).
export { acquireGpu, describeAdapter, GpuError, GpuUnavailableError, type Gpu, type GpuOptions } from './gpu/device.js';
export { DisposedError, ReentrantCallError } from './gpu/serial.js';
export type { DType } from './gpu/tensor.js';
export { ShaderError } from './gpu/shader.js';
// a TESSERA_TUNE / TESSERA_TUNE_MIN_FLOPS value tessera cannot read (Node; browsers have no environment): thrown by
// a call that records kernels, the first of each shape (DiffusionModel.forward, generate, Pipeline.generate, Vae.decode,
// a text encoder's encode); the CLI reports it as a UsageError (exit 2). The tuning mode set from code (what
// TESSERA_TUNE sets in Node; a browser's only way): setDefaultTuneMode for every device, setTuneMode for one.
export { TuneEnvError, setDefaultTuneMode, setTuneMode, tuneMode, type TuneMode } from './gpu/tune.js';
export { watchKernels, type KernelEvent } from './gpu/kernel.js';
export { loadModel, DiffusionModel, DtypeUnsupportedError, InputError, RopeLimitError, setFolderResolver, type ExclusiveModel, type ForwardInputs, type LoadOptions, type TensorData } from './model/model.js';
export { parseConfig, ConfigError, type ModelConfig, type Family } from './model/config.js';
export { WeightError, type UnexpectedKeys } from './model/weights.js';
export { estimateMemory, estimateWeights, checkRunFits, checkWeightsFit, parseBytes, LimitError, type MemoryEstimate, type MemoryLimits, type FitOptions } from './model/memory.js';
export { PRESETS, getPreset, presetNames, loadRandomModel, type Preset } from './model/presets.js';
export { generate, NumericsError, type GenerateOptions, type GenerateResult } from './sampler/generate.js';
export { cfgCombine, type Scheduler } from './sampler/scheduler.js';
export { schedulerFromConfig, makeScheduler, resolveSchedulerClass, SchedulerConfigError, StepCountError, type SchedulerSpec, type SchedulerClass, type SchedulerFromConfigOptions } from './sampler/config.js';
export { runProgramCpu, type StepProgram, type LinOp } from './sampler/program.js';
export { latentsToFrames, encodeGif, encodePng } from './preview/preview.js';
export { loadTextEncoder, Umt5TextEncoder, DEFAULT_MAX_SEQUENCE_LENGTH, PROMPT_CACHE_BYTES, type PromptNote, type TextEncoderLoadOptions } from './text/prompt-encoder.js';
export { Umt5Encoder, TextEncoderError, EMBEDDING_ROW_CACHE_BYTES } from './text/umt5.js';
export { loadTokenizer, T5Tokenizer, TokenizerError, type TokenBatch } from './text/tokenizer.js';
export { promptClean } from './text/prompt.js';
export { parseUmt5Config, type Umt5Config } from './text/config.js';
export { planUmt5, checkUmt5Fits, type Umt5Plan } from './text/memory.js';
export { loadPipeline, Pipeline, PipelineError, parseModelIndex, subFolder, PIPELINES, type PipelineLoadOptions, type PipelineGenerateOptions, type PipelineOutput, type PipelineVideoOutput, type PipelineImageOutput, type PipelineLatentOutput, type PipelineStage, type PipelineKernelEvent, type PromptEncoder, type ModelIndex } from './pipeline/pipeline.js';
export { EMBEDDED_DEFAULTS, EMBEDDED_VOCABULARY, embeddedSizeNote, outOfVocabulary, vocabularyNote } from './pipeline/embedded.js';
export { estimateStepWork, type StepWork, type StepWorkOptions } from './pipeline/step-work.js';
export { postprocessSample, videoToFrames, type RgbaFrames } from './video/frames.js';
export { openModelFolder, ModelFolderError, type ModelFolder } from './io/model-folder.js';
export { readSafetensorsHeader, readTensorF32, readTensorInt, writeSafetensors, SafetensorsError } from './io/safetensors.js';
export { readSafetensors, type SafetensorsContents, type SafetensorsTensor } from './io/read-safetensors.js';
export { bytesSource, blobSource, httpSource, httpFolder, mapFolder, HtmlAnswerError, FileAccessError, NetworkError, type ByteSource, type FolderSource, type HttpFolderOptions } from './io/source.js';
import './ops/all.js';
