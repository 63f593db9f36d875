// README's library examples use top-level await: in a project from `npm init -y` (npm 11 writes "type": "commonjs")
// `npx tsx ex.ts` stops with esbuild's 'Top-level await is currently not supported with the "cjs" output format'
// (S19 fresh-user review; checked by hand on `npm pack`'s tarball: with `npm pkg set type=module`, or as ex.mts, the
// smallest example writes clip.gif). The way round is said before the first example.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/golden.js';

describe('README: the library examples are ES modules', () => {
  it('"## Library" says how to run them in a CommonJS project before its first TypeScript block', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const library = readme.slice(readme.indexOf('\n## Library\n'));
    const before = library.slice(0, library.indexOf('```ts'));
    expect(before).toContain('`npm pkg set type=module`');
    expect(before).toContain('`.mts`');
  });
});
