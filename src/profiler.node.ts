// Node entry of `tessera/profiler`: the same surface with Dawn (npm `webgpu`) registered as the GPU.
import './node-env.js';
export * from './profiler.js';
