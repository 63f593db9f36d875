// The command lines README.md and docs/*.md show, held to the CLI's own --help: every `tessera CMD …` line in
// their ```sh blocks names only flags that CMD's help lists (a bench line: the help of the benchmarks it names),
// and a list of values written `--flag a|b|c` is the flag's choices (or a subset of them). Every `--flag` the
// prose names is one some command takes. A renamed or dropped flag fails here instead of in a user's shell.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { helpText } from '../../src/cli/args.js';
import { BENCH_SUBCOMMANDS } from '../../src/cli/cmd-bench.js';
import { loadCommands } from '../../src/cli/main.js';
import { ROOT } from '../helpers/golden.js';

// every command's module (tessera's own run imports only the one it runs: main.ts)
const commands = await loadCommands();

const DOCS = ['README.md', 'docs/TEXT.md', 'docs/CONVENTIONS.md'];
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

/** The flags and choices a help text lists (its `  --name ARG   help` lines). */
function listed(help: string): Map<string, string> {
  return new Map(help.split('\n').filter((l) => l.startsWith('  --')).map((l) => {
    const [flag, arg = ''] = l.trim().split(/\s+/);
    return [flag!.slice(2), arg] as const;
  }));
}

/** What `tessera NAME [SUB] --help` prints. */
function helpOf(name: string, sub?: string): string {
  const cmd = commands.find((c) => c.spec.name === name);
  expect(cmd, `tessera ${name}: a command`).toBeDefined();
  return cmd!.help ? cmd!.help({ _: sub ? [sub] : [] }) : helpText(cmd!.spec);
}

/** Each `tessera …` command line of the docs' sh blocks, continuation lines joined and the `# comment` kept apart. */
function commandLines(text: string): { line: string; comment: string }[] {
  const out: { line: string; comment: string }[] = [];
  for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of block[1]!.replace(/\\\n\s*/g, ' ').replace(/^npm run demo( --)?(?=\s|$)/gm, 'npx tessera demo').split('\n')) {
      // `npx --no-install tessera CMD …` (and `npm run demo -- …`, which runs tessera demo)
      const at = raw.search(/(?<=^npx (--no-install )?)tessera (?=[a-z-])/);
      if (at < 0) continue;
      const hash = raw.search(/\s#\s/);
      const line = (hash < 0 ? raw : raw.slice(0, hash)).slice(at).trim();
      out.push({ line, comment: hash < 0 ? '' : raw.slice(hash) });
    }
  }
  return out;
}

// (a flag the docs show being refused, `unknown flag --frobnicate`, is not one)
const flagsIn = (s: string) => [...s.matchAll(/(?<![\w-]|unknown flag )--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!);

describe('the docs\' command lines against the CLI\'s --help', () => {
  const lines = DOCS.flatMap((f) => commandLines(read(f)).map((l) => ({ ...l, file: f })));

  it('finds the command lines (README: every command; docs/TEXT.md: encode)', () => {
    const names = new Set(lines.map((l) => l.line.split(/\s+/)[1]));
    for (const c of commands) expect(names, `a README line for tessera ${c.spec.name}`).toContain(c.spec.name === 'version' ? '--version' : c.spec.name);
    expect(lines.filter((l) => l.file === 'docs/TEXT.md').map((l) => l.line.split(/\s+/)[1])).toContain('encode');
  });

  it('each line names only flags its command lists, and values from the flag\'s choices', () => {
    for (const { line, comment, file } of lines) {
      const [, name, sub] = line.split(/\s+/) as [string, string, string | undefined];
      if (name === '--version') continue;
      // `bench a|b|c …`: the flags of any benchmark named (each one's own --help)
      const subs = name === 'bench' ? sub!.split('|') : [undefined];
      if (name === 'bench') for (const s of subs) expect(BENCH_SUBCOMMANDS, `${file}: ${line}`).toContain(s);
      const helps = subs.map((s) => listed(helpOf(name, s)));
      for (const flag of flagsIn(`${line} ${comment}`)) {
        expect(helps.some((h) => h.has(flag)), `${file}: tessera ${name}${sub && name === 'bench' ? ` ${sub}` : ''} --${flag} is not in its --help\n  ${line}`).toBe(true);
      }
      // `--dtype f32|f16`, `--preset a|b|…`, `--kernel 3x1x1|…`: each value one the flag takes
      for (const m of `${line} ${comment}`.matchAll(/--([a-z][a-z0-9-]*)[ =]'?([\w.-]+(?:\|[\w.-]+)+)/g)) {
        const cmd = commands.find((c) => c.spec.name === name)!;
        const choices = cmd.spec.flags[m[1]!]?.choices;
        if (!choices) continue;
        for (const v of m[2]!.split('|')) expect(choices, `${file}: tessera ${name} --${m[1]} ${v}`).toContain(v);
      }
    }
  });

  it('every --flag the docs name is a flag of some command', () => {
    const known = new Set(commands.flatMap((c) => [...listed(helpOf(c.spec.name)).keys(), ...(c.spec.name === 'bench' ? BENCH_SUBCOMMANDS.flatMap((s) => [...listed(helpOf('bench', s)).keys()]) : [])]));
    // flags of other programs the docs show (npm's, ffmpeg's): none at present
    for (const f of DOCS) {
      const text = read(f).replace(/```(?!sh)[a-z]*\n[\s\S]*?```/g, ''); // code other than shell: its own syntax
      for (const flag of new Set(flagsIn(text))) {
        if (['no-install', 'project', 'version', 'help'].includes(flag)) continue; // npx's, vitest's, the top-level --version/--help
        expect(known, `${f}: --${flag}`).toContain(flag);
      }
    }
  });
});

/** The text of every file below `dir` whose name ends with one of `exts`. */
function sources(dir: string, exts: readonly string[]): string {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && exts.some((x) => e.name.endsWith(x)))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}

describe('the environment variables the docs name', () => {
  it('are each read somewhere in the code, the scripts or the tests', () => {
    const code = [sources('src', ['.ts']), sources('scripts', ['.ts', '.mjs', '.sh']), sources('bin', ['.mjs']), sources('tests', ['.test.ts']), sources('tests/helpers', ['.ts'])].join('\n');
    for (const f of DOCS) {
      const named = new Set(read(f).match(/\bTESSERA_[A-Z0-9_]+/g) ?? []);
      for (const v of named) expect(new RegExp(`\\b${v}\\b`).test(code), `${f}: ${v} is read by nothing`).toBe(true);
    }
  });
});
