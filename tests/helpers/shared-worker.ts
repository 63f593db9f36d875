// Setup file of the `unit` project (vitest.config.ts), run before each of its test files. `npm test`
// runs that project with isolate: false: a worker process runs one file after another with one
// module graph and one GPU device (tests/helpers/gpu.ts), so that each file no longer pays a fresh
// process, the engine's imports, a Dawn device and its kernels' translation again. What a file
// changes is put back when it ends, so the next file in that worker starts as a file of its own
// would: the process (saveProcessState), the tuner's module state (its store and the choices
// loaded from it or made without one, the default mode) and --quiet (main() with -q sets it). Files that vi.mock a module the others
// import, or need the kernels uncompiled, stay in a process of their own (`unit-isolated`).
import { afterAll } from 'vitest';
import { setQuiet } from '../../src/cli/progress.js';
import { setDefaultTuneMode, setTuneStore } from '../../src/gpu/tune.js';
import { saveProcessState } from './process-state.js';

const restoreProcess = saveProcessState();

afterAll(() => {
  restoreProcess();
  setTuneStore(null);
  setDefaultTuneMode(null);
  setQuiet(false);
});
