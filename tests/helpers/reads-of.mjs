// Preloaded into a CLI spawn (NODE_OPTIONS=--import, see readsOfEnv in tests/helpers/cli.ts) by tests that count how
// often a process reads files: every fs.readFileSync and fs/promises readFile of a path ending in one of the
// newline-separated suffixes in $TESSERA_TEST_READS_OF is counted, and the counts appended as one JSON line per
// process ({ suffix: count }) to $TESSERA_TEST_READS_OUT.
import { appendFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const suffixes = process.env.TESSERA_TEST_READS_OF?.split('\n');
const out = process.env.TESSERA_TEST_READS_OUT;
if (suffixes && out) {
  const require = createRequire(import.meta.url);
  const fs = require('node:fs');
  const fsp = require('node:fs/promises');
  const counts = Object.fromEntries(suffixes.map((s) => [s, 0]));
  const counted = (f) =>
    function (path, ...rest) {
      const p = String(path instanceof URL ? path.pathname : path);
      for (const s of suffixes) if (p.endsWith(s)) counts[s]++;
      return f.call(this, path, ...rest);
    };
  fs.readFileSync = counted(fs.readFileSync);
  fsp.readFile = counted(fsp.readFile);
  // the ESM named exports (import { readFileSync } from 'node:fs') follow
  syncBuiltinESMExports();
  process.on('exit', () => appendFileSync(out, `${JSON.stringify(counts)}\n`));
}
