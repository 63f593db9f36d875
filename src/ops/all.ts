// Imports every op module so their kernels are registered (info, compile test, profiler UI).
export * from './norm.js';
