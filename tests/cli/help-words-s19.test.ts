// Help text a fresh user read (S19 review): `tessera --help` ended with "tessera --version is tessera version (which
// takes only --help)."; `demo --help`'s usage said `--max-memory BYTES` where its flag list (and every other
// command) says SIZE. Every usage names a size flag's value SIZE, as the flag lists do (other placeholders such as
// IN.safetensors for FILE are usage's own, more telling words).
import { describe, expect, it } from 'vitest';
import { loadCommands, topHelp } from '../../src/cli/main.js';
import { helpText } from '../../src/cli/args.js';

// every command's module (tessera's own run imports only the one it runs: main.ts)
const commands = await loadCommands();

describe('help words', () => {
  it('tessera --help says what --version does in one plain sentence', () => {
    expect(topHelp()).toContain('\ntessera --version prints the version, as tessera version does.\n');
  });

  it('each usage names a size flag\'s value SIZE, as its flag list does', () => {
    const bad: string[] = [];
    for (const c of commands) {
      for (const [name, f] of Object.entries(c.spec.flags)) {
        if (f.arg !== 'SIZE' || !c.spec.usage) continue;
        for (const m of c.spec.usage.matchAll(new RegExp(`--${name} ([A-Z][A-Z.]*)\\b`, 'g'))) if (m[1] !== f.arg) bad.push(`${c.spec.name}: --${name} ${m[1]} in the usage, ${f.arg} in the list`);
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('--quiet help in every command', () => {
  it('names no denoising steps (forward, encode and decode have none)', () => {
    for (const c of commands) if (c.spec.quiet) expect(`${c.spec.name}: ${helpText(c.spec)}`).not.toMatch(/denoising i\/N/);
  });
});
