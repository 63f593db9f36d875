// Node-only wiring, imported by the Node entry and the CLI: Dawn as the GPU provider and the
// file system as the place string model sources are opened from.
import './gpu/node.js';
import './gpu/tune-store-node.js';
import { nodeStringFolder } from './io/node-source.js';
import { setFolderResolver } from './model/model.js';

// a string: an http(s):// URL is an httpFolder, anything else a folder on disk
setFolderResolver(nodeStringFolder);
