// The profiler's public surface (browser-safe: the demo and the CLI share it).
export * from './profiler.js';
export * from './report.js';
export * from './ceiling.js';
export * from './check.js';
export { attentionWorkload, blockWorkload, convWorkload, gemmWorkload, layernormWorkload, sampleRows, type AttentionWorkloadArgs, type BlockArgs, type ConvWorkloadArgs, type GemmWorkloadArgs, type LayernormWorkloadArgs, type Workload } from './workloads.js';
