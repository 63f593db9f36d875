// user22 finding 1: the README and examples/node/README.md said `npm install tessera webgpu@0.6.2`, and the registry's
// `tessera` is an unrelated tilelive tile server (0.15.5): this engine is not published. They now install `npm pack`'s
// tarball from a checkout (checked by hand in a new project: the README's smallest example and
// `npx --no-install tessera` work there), and say `npx --no-install` (a plain `npx tessera` outside a project that has it
// offers the registry's package). Finding 2: a script in the checkout importing 'tessera' needs `dist/`
// (`npm run build`), said before the first example.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/golden.js';

const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

describe('install instructions get this engine, not the registry package of its name', () => {
  it('no doc says to install tessera from the registry', () => {
    for (const f of ['README.md', 'examples/node/README.md', 'docs/TEXT.md', 'training/README.md']) {
      const text = read(f);
      // an install command naming the bare package (with others after it, or alone on a line); the warnings name it in backquotes
      expect(text, f).not.toMatch(/npm (?:install|i|add) (?:-\S+ )*tessera(?:@\S*)? +\S/);
      expect(text, f).not.toMatch(/^npm (?:install|i|add) (?:-\S+ )*tessera(?:@\S*)?$/m);
      // every npx call of the command says --no-install
      expect(text.match(/npx tessera [a-z-]+/g) ?? [], f).toEqual([]);
    }
  });

  it('"## Library" says, before its first example: not on the registry, npm pack, the tarball install, and the checkout\'s npm run build', () => {
    const readme = read('README.md');
    const library = readme.slice(readme.indexOf('\n## Library\n'));
    const before = library.slice(0, library.indexOf('```ts'));
    expect(before).toContain("the registry's\npackage of that name is an unrelated project");
    expect(before).toContain('`npm pack`');
    const pkg = JSON.parse(read('package.json')) as { version: string };
    expect(before).toContain(`\`npm install /path/to/tessera-${pkg.version}.tgz webgpu@0.6.2\``);
    expect(before).toContain('`npx --no-install tessera …`');
    expect(before).toMatch(/In the source checkout itself[\s\S]*`npm run build`[\s\S]*`\.\/src\/index\.ts`/);
  });
});
