// Browser entry of `tessera`: the library API on navigator.gpu; model folders from URLs
// (HTTP range requests) or File/Blob objects. Never imports the Node-only `webgpu` package.
export * from './api.js';
export * from './vae/index.js';
export { encodeMp4WebCodecs, type Mp4Encoded } from './video/webcodecs.js';
