// Every ```ts example of README.md, examples/profiler/README.md and docs/TEXT.md type-checks as written, strict,
// each example a module of its own, all of them in one TypeScript program (one check, not one per block). Nothing
// is declared for an example: a block a reader copies must compile by itself, so a name it uses and never
// defines fails here (user21 finding 3: `hidden_states` & co., TS18004), not in a reader's editor.
//
// The one exception, and its convention: a block that goes on from an earlier one (a call on the `pipe` an earlier
// example loaded) starts with the comment line
//     // continues <which example, in words>: <the names it takes from it, each in backticks>
// e.g. "// continues the Wan example above: its `pipe` (…)". Such a block is checked appended to the nearest
// block above it in the same file that declares every backticked name (itself checked on its own too), so it
// gets those names with their real types; a `// continues` line naming nothing, or names no block above
// declares, fails.
//
// Against what: the build's declarations when `npm test` made one (TESSERA_CLI_BUILD, its .d.ts of src/:
// what a user's tsc reads, and only the examples are checked: ~2 CPU s), else the source entries ('tessera' →
// src/index.ts, 'tessera/profiler' → src/profiler.node.ts, a browser example → src/index.browser.ts; all of
// src/ is checked with them: ~11 CPU s). package.test.ts compiles the Wan example against the packed .d.ts on
// TypeScript 5.1, 5.9 and 7; docs-embedded-example.test.ts and tests/profile/api-readme-example.test.ts run the
// smallest whole run and the benchmarking example on the GPU.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/golden.js';

const FILES = ['README.md', 'examples/profiler/README.md', 'docs/TEXT.md'];

interface Example {
  file: string;
  /** 1-based line of the block's first code line in `file`. */
  line: number;
  code: string;
}

function examples(file: string): Example[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => ({ file, line: text.slice(0, m.index).split('\n').length + 1, code: m[1]! }));
}

/** Whether `code` declares `name` (const/let/var, destructured too, or a function). */
const declares = (code: string, name: string) =>
  new RegExp(`\\b(?:const|let|var)\\s+(?:${name}\\b|[{\\[][^=;]*\\b${name}\\b[^=;]*=)|\\bfunction\\s+${name}\\b`).test(code);

/** Where the examples' `tessera` imports point: the build's declarations, or the sources. */
function entries(): { dir: string; what: string } {
  const build = process.env.TESSERA_CLI_BUILD;
  const dir = build ? (isAbsolute(build) ? build : join(ROOT, build)) : '';
  if (dir && existsSync(join(dir, 'index.d.ts')) && existsSync(join(dir, 'index.browser.d.ts'))) return { dir, what: `the build's declarations (${build})` };
  return { dir: join(ROOT, 'src'), what: 'the source entries' };
}

describe("the docs' TypeScript examples", () => {
  it('each compiles as written, strict (a `// continues` block appended to the block it names)', () => {
    const { dir, what } = entries();
    const files = new Map<string, Example & { from: number }>();
    const problems: string[] = [];
    let count = 0;
    for (const file of FILES) {
      const list = examples(file);
      count += list.length;
      /** Each block's module text: a `// continues` block is its base's text, then its own. */
      const full: string[] = [];
      list.forEach((e, i) => {
        let head = '';
        const first = e.code.split('\n', 1)[0]!;
        if (/^\/\/ continues\b/.test(first)) {
          const names = [...first.matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((m) => m[1]!);
          const base = list.slice(0, i).findLastIndex((b) => names.every((n) => declares(b.code, n)));
          if (!names.length) problems.push(`${file}:${e.line}: a "// continues" line names nothing in backticks`);
          else if (base < 0) problems.push(`${file}:${e.line}: no block above declares ${names.join(', ')}`);
          else head = `${full[base]}\n`;
        }
        full.push(`${head}${e.code}`);
        const browser = /serve it as static files|location\.href/.test(e.code);
        const code = `${head}${e.code}\nexport {};\n`
          .replace(/from 'tessera\/profiler'/g, `from '${join(dir, 'profiler.node.js')}'`)
          .replace(/from 'tessera'/g, `from '${join(dir, browser ? 'index.browser.js' : 'index.js')}'`);
        files.set(join(ROOT, 'tests', 'docs', `example-${files.size}.ts`), { ...e, code, from: head.split('\n').length - 1 });
      });
    }
    expect(count, `${FILES.join(', ')}: \`\`\`ts blocks`).toBeGreaterThanOrEqual(8);
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
      types: ['@webgpu/types', 'node'],
      strict: true,
      skipLibCheck: true,
      esModuleInterop: true,
      resolveJsonModule: true,
      noEmit: true,
    };
    const host = ts.createCompilerHost(options);
    const { getSourceFile, fileExists, readFile } = host;
    host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
    host.readFile = (f) => files.get(f)?.code ?? readFile.call(host, f);
    host.getSourceFile = (f, lang, ...rest) => (files.has(f) ? ts.createSourceFile(f, files.get(f)!.code, lang) : getSourceFile.call(host, f, lang, ...rest));
    const program = ts.createProgram([...files.keys()], options, host);
    for (const d of ts.getPreEmitDiagnostics(program)) {
      const e = d.file && files.get(d.file.fileName);
      if (!e) continue;
      const at = d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line - e.from; // 0-based within the example
      if (at < 0) continue; // in the block it continues, which is checked (and reported) on its own
      problems.push(`${e.file}:${e.line + at}: TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
    expect(problems, `against ${what}; a block that uses an earlier block's names starts with "// continues …: \`name\`" (this test's header)`).toEqual([]);
  }, 300_000);
});
