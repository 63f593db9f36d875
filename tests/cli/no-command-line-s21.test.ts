// `tessera` with no command gets the one `tessera: error: UsageError: …` line README promises for every
// usage error ("no command" among them), then the usage, all on stderr, exit 2 (session 21's fresh user).
import { describe, expect, it } from 'vitest';
import { loadCommands, topHelp } from '../../src/cli/main.js';
import { tesseraCli } from '../helpers/cli.js';

// every command's module (tessera's own run imports only the one it runs: main.ts)
const commands = await loadCommands();

describe('tessera with no command', () => {
  it('first line: the UsageError naming the commands; then the usage; nothing on stdout; exit 2', async () => {
    const r = await tesseraCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const [first, ...rest] = r.stderr.split('\n');
    expect(first).toBe(`tessera: error: UsageError: no command; give one of ${commands.map((c) => c.spec.name).join(', ')} (usage below)`);
    expect(rest.join('\n').trim()).toBe(topHelp().trim());
  });
});
