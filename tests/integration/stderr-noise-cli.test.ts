// The lines native code prints that say nothing about the command (Dawn's two "maxDynamic…
// artificially reduced" warnings; Mesa's "Failed to create …/.cache for shader cache (…)---disabling."
// when HOME cannot be written) are dropped from the CLI's stderr, whole lines only, also when a line
// comes in pieces; every other line passes through unchanged and in order.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeCli, tesseraCli } from '../helpers/cli.js';
import { hasGpu } from '../helpers/gpu.js';
import { ROOT } from '../hardening/helpers.js';

const BIN = join(ROOT, 'bin', 'tessera.mjs');
const DAWN = 'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n';
const MESA = 'Failed to create /proc/.cache for shader cache (No such file or directory)---disabling.\n';
const MESA_NOT_DIR = 'Cannot use /home/u/.cache/mesa_shader_cache for shader cache (not a directory)---disabling.\n';
// look like them, are not them: kept
const KEPT = ['Failed to create the folder /x\n', 'Cannot use /x for shader cache (permission denied)\n', 'tessera: note: Failed to create /proc/.cache for shader cache (No such file or directory)---disabling.\n'];

// Preloaded into the launcher and (through its execArgv) into the command's process, where it writes
// those lines to stderr before the command runs, the first Mesa line in two pieces 50 ms apart.
const PRELOAD = `if (process.env.TESSERA_CLI_CHILD === '1') {
  process.stderr.write(${JSON.stringify(KEPT[0] + DAWN + MESA.slice(0, 30))});
  setTimeout(() => process.stderr.write(${JSON.stringify(MESA.slice(30) + KEPT[1] + MESA_NOT_DIR + MESA + KEPT[2])}), 50);
}`;

describe("the CLI's stderr without native code's noise", () => {
  it('Dawn\'s and Mesa\'s lines are dropped, a Mesa line in pieces too; the lines like them are kept', async () => {
    const r = await nodeCli(['--import', `data:text/javascript,${encodeURIComponent(PRELOAD)}`, BIN, '--version']);
    expect(r.stderr).toBe(KEPT.join(''));
    expect(r.stdout).toMatch(/^tessera \d+\.\d+\.\d+\n$/);
    expect(r.code).toBe(0);
  });

  it.skipIf(!hasGpu)("a HOME Mesa cannot make its cache in: info's stderr is empty (the command's own process printed Mesa's line)", async () => {
    const { MESA_SHADER_CACHE_DIR: _, XDG_CACHE_HOME: __, ...rest } = process.env;
    const env = { ...rest, HOME: '/proc', XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };
    const r = await tesseraCli(['info'], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // the launcher's filter is what kept it off: the command's process alone prints what Mesa and Dawn say
    const direct = await nodeCli([BIN, 'info'], { env: { ...env, TESSERA_CLI_CHILD: '1' } });
    expect(direct.code).toBe(0);
    for (const line of direct.stderr.split('\n').filter(Boolean)) expect(line).toMatch(/^(Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced |Failed to create \/proc\/\.cache for shader cache \()/);
    // on Mesa's drivers that process did print Mesa's line (so the empty stderr above is the filter's doing)
    if (/^adapter +mesa /m.test(r.stdout)) expect(direct.stderr).toContain(MESA);
  });
});
