// Imports every op module so their kernels are registered (info, compile test, profiler UI).
export * from './norm.js';
export * from './gemm.js';
export * from './attention.js';
export * from './adaln.js';
export * from './patchify.js';
export * from './rope.js';
export * from './timestep.js';
export * from './elementwise.js';
export * from './conv.js';
export * from './vae-norm.js';
export * from './vae-attention.js';
export * from './lincomb.js';
export * from './fill-random.js';
