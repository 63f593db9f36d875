// `tessera --version`, `--help` and a run's first line wait only for what src/cli/main.ts imports statically: it
// imported every command module, and through them the whole engine (~130 modules: Dawn's loader, models, kernels,
// tokenizers), 1.3–1.8 s through tsx on 2 cores before `--version` printed. Its static import graph (import
// declarations that stay in the JavaScript: not `import type`, not `import()`) must reach no command module, no
// package but node: builtins, and nothing of the engine; the command table it keeps in their place must say what
// the commands' specs say. A structural check: it times nothing.
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { COMMAND_TABLE, loadCommands, QUIET_COMMANDS, topHelp } from '../../src/cli/main.js';
import { ROOT } from '../helpers/golden.js';

/** The specifiers of `file`'s import and export declarations that load a module at run time (type-only ones are erased). */
function runtimeImports(file: string): string[] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  for (const s of src.statements) {
    if (ts.isImportDeclaration(s)) {
      const c = s.importClause;
      // `import type {…}`, or `import { type A, type B }` with no default: erased (isolatedModules keeps side-effect imports)
      if (c?.isTypeOnly) continue;
      if (c && !c.name && c.namedBindings && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.length && c.namedBindings.elements.every((e) => e.isTypeOnly)) continue;
      out.push((s.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(s) && s.moduleSpecifier && !s.isTypeOnly) {
      out.push((s.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return out;
}

/** Every module `entry` loads through static imports: relative paths from ROOT (src/…) and bare specifiers (packages, node:). */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (file: string) => {
    const rel = relative(ROOT, file);
    if (seen.has(rel)) return;
    seen.add(rel);
    for (const spec of runtimeImports(file)) {
      if (!spec.startsWith('.')) seen.add(spec);
      else walk(join(dirname(file), spec).replace(/\.js$/, '.ts'));
    }
  };
  walk(join(ROOT, entry));
  return seen;
}

describe('CLI start-up: what main.ts loads before a command runs', () => {
  it('the static graph reaches no command module, no package but node: builtins, nothing of the engine', () => {
    const graph = [...staticGraph('src/cli/main.ts')];
    // the walker follows imports at all (a broken one would pass the checks below on an empty graph)
    expect(graph).toEqual(expect.arrayContaining(['src/cli/main.ts', 'src/cli/args.ts', 'src/cli/progress.ts']));
    expect(graph.filter((m) => /^src\/cli\/cmd-/.test(m))).toEqual([]);
    expect(graph.filter((m) => !m.startsWith('src/') && !m.startsWith('node:'))).toEqual([]); // webgpu, tokenizers, entities …
    const engine = /^src\/(node-env\.ts|kernels\.gen\.ts|gpu|model|ops|pipeline|vae|text|sampler|profile|io|eval)\b/;
    expect(graph.filter((m) => engine.test(m))).toEqual([]);
    expect(graph.filter((m) => m === 'src/cli/errors.ts')).toEqual([]); // the error table imports the library's error classes
  });

  it('the walker sees through a command module to the engine (the check above can fail)', () => {
    const graph = staticGraph('src/cli/cmd-generate.ts');
    expect(graph.has('src/pipeline/pipeline.ts')).toBe(true);
    expect(graph.has('@huggingface/tokenizers')).toBe(true);
  });

  it('the command table says what each command module says: name, summary, --quiet; in the top help', async () => {
    const commands = await loadCommands();
    expect(COMMAND_TABLE.map((c) => ({ name: c.name, summary: c.summary, quiet: c.quiet }))).toEqual(commands.map((c) => ({ name: c.spec.name, summary: c.spec.summary, quiet: c.spec.quiet === true })));
    expect(QUIET_COMMANDS).toEqual(commands.filter((c) => c.spec.quiet).map((c) => c.spec.name));
    for (const c of commands) expect(topHelp()).toContain(`  ${c.spec.name.padEnd(12)} ${c.spec.summary}\n`);
  });
});
