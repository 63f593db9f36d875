// Autotuning as the CLI shows it: the first run with an empty tuning cache says it is tuning (one
// line, naming the cache file and --no-tune), a second run (cached) and a --no-tune run say nothing;
// a corrupt cache file gets one warning naming it and that it will be replaced, and is replaced.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { cli, FIXTURES, tempDir } from '../hardening/helpers.js';
import { sameMesaCache } from '../helpers/mesa-cache.js';

const c = join(FIXTURES, 'wan_sampler_small');
const generate = (out: string) => ['generate', '--model', join(c, 'model'), '--inputs', join(c, 'inputs.safetensors'), '--out', out, '--scheduler', 'flow-match-euler', '--guidance', '4', '--shift', '2', '--steps', '1'];
// the suite runs with TESSERA_TUNE=off (vitest.config.ts); a user's default is auto
// every call timed, as a larger model's would be (a run skips calls under TUNE_MIN_FLOPS)
const AUTO = { TESSERA_TUNE: 'auto', TESSERA_TUNE_MIN_FLOPS: '0' };
/** A spawn's env: tuning on, its tuning cache in `xdg` (Mesa's shader cache stays the test process's). */
const auto = (xdg: string) => ({ ...sameMesaCache(), XDG_CACHE_HOME: xdg, ...AUTO });
const tuningLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('tuning kernels'));

describe.skipIf(!hasGpu)('autotuning on the CLI', () => {
  it('fresh cache: one "tuning kernels" line naming the cache; none when cached, none with --no-tune', async () => {
    const cache = tempDir();
    const file = join(cache, 'tessera', 'tune.json');
    const first = await cli(generate(join(cache, 'a.safetensors')), auto(cache), 300_000);
    expect(first.code, first.stderr).toBe(0);
    expect(tuningLines(first.stderr)).toEqual([`tuning kernels for this adapter: timing candidate kernels per shape (first run for these shapes; cached in ${file}; --no-tune skips)`]);
    expect(existsSync(file)).toBe(true);
    const second = await cli(generate(join(cache, 'b.safetensors')), auto(cache), 300_000);
    expect(second.code, second.stderr).toBe(0);
    expect(tuningLines(second.stderr)).toEqual([]);
    const fresh = tempDir();
    const off = await cli([...generate(join(fresh, 'c.safetensors')), '--no-tune'], auto(fresh), 300_000);
    expect(off.code, off.stderr).toBe(0);
    expect(tuningLines(off.stderr)).toEqual([]);
    expect(existsSync(join(fresh, 'tessera'))).toBe(false);
  }, 900_000);

  it('a tune.json that is not valid JSON: warned about once (naming it, "will be replaced"), then replaced', async () => {
    const cache = tempDir();
    const file = join(cache, 'tessera', 'tune.json');
    mkdirSync(join(cache, 'tessera'));
    writeFileSync(file, '{"entries": {');
    const warning = (stderr: string) => stderr.split('\n').filter((l) => l.includes('tuning cache'));
    const line = `[tessera] tuning cache ${file} is unreadable, ignoring it (it will be replaced when tuned kernel choices are next saved): not valid JSON (`;
    // info reads it too (and writes nothing)
    const info = await cli(['info'], auto(cache));
    expect(info.code, info.stderr).toBe(0);
    expect(warning(info.stderr)).toEqual([expect.stringContaining(line)]);
    // …and says why it lists nothing, rather than "no tuned choices cached"
    expect(info.stdout).toContain('  no tuned choices: the cache is unreadable (warning above); run tessera tune to replace it\n');
    expect(info.stdout).not.toContain('no tuned choices cached');
    const infoJson = await cli(['info', '--json'], auto(cache));
    expect(JSON.parse(infoJson.stdout).tuning.cache_error).toMatch(/^not valid JSON \(/);
    expect(readFileSync(file, 'utf8')).toBe('{"entries": {');
    const r = await cli(generate(join(cache, 'a.safetensors')), auto(cache), 300_000);
    expect(r.code, r.stderr).toBe(0);
    expect(warning(r.stderr)).toEqual([expect.stringContaining(line)]);
    const replaced = JSON.parse(readFileSync(file, 'utf8'));
    expect(Object.keys(replaced.entries).length).toBeGreaterThan(0);
  }, 900_000);
});
