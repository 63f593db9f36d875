// Browser-safe I/O surface (node-source.ts and node-write.ts are imported directly in Node).
export * from './source.js';
export * from './safetensors.js';
export * from './model-folder.js';
export * from './inputs.js';
export * from './json.js';
