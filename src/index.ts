// Node entry of `tessera`: the library API with Dawn (npm `webgpu`) as the GPU and the file
// system as the place model folders are read from.
import './node-env.js';
export * from './api.js';
export * from './vae/index.js';
export { nodeFolder, fileSource } from './io/node-source.js';
export { embeddedPipelinePath } from './pipeline/embedded-node.js';
export { OutputError } from './io/output-error.js';
export { findFfmpeg, writeMp4Ffmpeg, EncoderError, type Ffmpeg } from './video/ffmpeg.js';
