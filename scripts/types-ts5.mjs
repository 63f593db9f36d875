// Post-build step (npm run build): the declaration entries for TypeScript < 6, chosen by package.json's
// "types@<6" export conditions. TypeScript 6 and later declare WebGPU in their DOM lib, so the main
// .d.ts files must not pull in @webgpu/types (its globals would clash with lib.dom: TS2300 duplicate
// identifiers); TypeScript 5.x's DOM lib has no WebGPU, so its consumers get @webgpu/types from these.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const entries = ['index', 'index.browser', 'profiler', 'profiler.node'];
mkdirSync(join(dist, 'ts5'), { recursive: true });
for (const e of entries) {
  if (!existsSync(join(dist, `${e}.d.ts`))) throw new Error(`types-ts5: dist/${e}.d.ts is missing (run tsc -p tsconfig.build.json first)`);
  writeFileSync(
    join(dist, 'ts5', `${e}.d.ts`),
    `// TypeScript < 6 (no WebGPU in its DOM lib): the WebGPU globals from @webgpu/types, then dist/${e}.d.ts.\n` +
      `/// <reference types="@webgpu/types" />\n` +
      `export * from '../${e}.js';\n`,
  );
}
