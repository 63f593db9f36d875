#!/usr/bin/env node
// CLI launcher: runs the TypeScript sources through tsx from a checkout (no build step to
// remember), or the compiled dist/ when installed from a package without tsx.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

process.env.XDG_RUNTIME_DIR ??= '/tmp'; // silences a Vulkan loader warning on headless Linux
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src', 'cli', 'main.ts');
let entry = join(root, 'dist', 'cli', 'main.js');
if (existsSync(src)) {
  try {
    const { register } = await import('tsx/esm/api');
    // Kernel sources are compiled into src/kernels.gen.ts; regenerate when kernels/ changed.
    await import(pathToFileURL(join(root, 'scripts', 'gen-kernels.mjs')).href);
    register();
    entry = src;
  } catch {
    /* no tsx: fall back to dist */
  }
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
