// Prints the WebGPU adapter Dawn finds, exits 1 when there is none. Used by scripts/setup.sh.
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) { console.error('no adapter'); process.exit(1); }
const i = adapter.info;
console.log(`${i.vendor} ${i.architecture} ${i.device} ${i.description}`.replace(/\s+/g, ' ').trim());
process.exit(0);
