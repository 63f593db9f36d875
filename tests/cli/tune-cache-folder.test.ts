// A folder where the tuning cache file belongs ($XDG_CACHE_HOME/tessera/tune.json): a save renames a file onto that
// path, which a folder refuses, so nothing ever replaces it. `tessera tune` says so in one line, the refusal naming
// the path and what to do; before, main loaded the cache first and warned "it will be replaced when tuned kernel
// choices are next saved", then tune refused to save there. Other commands warn once, without the promise to replace
// it, and `tessera info` does not send the user to tessera tune. The tune case needs no GPU (refused before the adapter).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';
import { hasGpu } from '../helpers/gpu.js';

const xdg = mkdtempSync(join(tmpdir(), 'tessera-tune-folder-'));
afterAll(() => rmSync(xdg, { recursive: true, force: true }));
const cache = join(xdg, 'tessera', 'tune.json');
mkdirSync(cache, { recursive: true });
const env = { ...process.env, XDG_RUNTIME_DIR: '/tmp', XDG_CACHE_HOME: xdg, TESSERA_TUNE: 'auto' };

describe('a folder at the tuning cache path', () => {
  it('tessera tune: one line, the refusal naming the path and what to do; no warning before it (exit 2)', async () => {
    const r = await tesseraCli(['tune', '--quick', '--rounds', '1'], { env });
    expect(r.stderr).toBe(`tessera: error: UsageError: tessera tune: cannot save the tuning cache at ${cache}: a folder is in its place (XDG_CACHE_HOME=${xdg}); remove that folder, or set XDG_CACHE_HOME to another folder (an absolute path)\n`);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
  }, 60_000);

  it.skipIf(!hasGpu)('tessera info: one warning that does not promise to replace it, and no "run tessera tune to replace it"', async () => {
    const r = await tesseraCli(['info'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(`[tessera] tuning cache ${cache} is unreadable, ignoring it: a folder is in its place, which saving tuned choices cannot replace: remove it, or set XDG_CACHE_HOME to another folder (an absolute path)\n`);
    expect(r.stdout).toContain('  no tuned choices: the cache is unreadable (warning above)\n');
  }, 60_000);
});
