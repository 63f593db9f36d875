// Every ```ts example of README.md and docs/TEXT.md type-checks, as written, against the source's public entry
// points ('tessera' → src/index.ts, 'tessera/profiler' → src/profiler.node.ts; the browser example against
// src/index.browser.ts), strict, each example a module of its own. Only what an example takes from the user's
// own code is declared (the input tensors, a loaded pipeline). A renamed export, option or field fails here,
// not in a reader's editor. (docs-embedded-example.test.ts and tests/profile/api-readme-example.test.ts also run
// the smallest whole run and the benchmarking example on the GPU; package.test.ts compiles the library example
// against the packed declarations.) Here, not in unit: a type-check of all of src/ takes ~20 s on 2 loaded cores.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/golden.js';

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

/** What an example uses from the reader's own code, by a name it leaves undeclared. */
const GIVEN: Record<string, string> = {
  hidden_states: 'TensorData',
  encoder_hidden_states: 'TensorData',
  negative_encoder_hidden_states: 'TensorData',
  pipe: 'Pipeline',
};

describe('the docs\' TypeScript examples', () => {
  it('type-check against the source entries, strict', () => {
    const all = [...examples('README.md'), ...examples('docs/TEXT.md')];
    expect(all.length, 'README.md and docs/TEXT.md ```ts blocks').toBeGreaterThanOrEqual(5);
    const files = new Map<string, Example & { head: number }>();
    all.forEach((e, i) => {
      const browser = /serve it as static files|location\.href/.test(e.code);
      const entry = browser ? 'index.browser.js' : 'index.js';
      // the names the example uses without declaring them (a user's tensors, a pipeline it loaded above)
      const own = Object.keys(GIVEN).filter((n) => new RegExp(`\\b${n}\\b`).test(e.code) && !new RegExp(`(const|let)\\s*(\\{[^}]*\\b${n}\\b[^}]*\\}|\\b${n}\\b)\\s*=`).test(e.code));
      const head = own.length
        ? `import type { ${[...new Set(own.map((n) => GIVEN[n]))].join(', ')} } from 'tessera';\ndeclare const ${own.map((n) => `${n}: ${GIVEN[n]}`).join(', ')};\n`
        : '';
      const code = `${head}${e.code}\nexport {};\n`
        .replace(/from 'tessera\/profiler'/g, `from '${join(ROOT, 'src', 'profiler.node.js')}'`)
        .replace(/from 'tessera'/g, `from '${join(ROOT, 'src', entry)}'`);
      files.set(join(ROOT, 'tests', 'docs', `example-${i}.ts`), { ...e, code, head: head.split('\n').length - 1 });
    });
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
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && files.has(d.file.fileName))
      .map((d) => {
        const e = files.get(d.file!.fileName)!;
        const at = d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line - e.head; // 0-based within the example
        return `${e.file}:${e.line + at}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
    expect(problems).toEqual([]);
  }, 300_000);
});
