// `tessera version` (also `tessera --version`): the package's version, one line on stdout.
import { readFileSync } from 'node:fs';
import type { Command } from './main.js';

/** The package's version, from the package.json two levels up (src/cli, dist/cli or a test build's cli/). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

export const versionCommand: Command = {
  spec: {
    name: 'version',
    summary: "print tessera's version (also tessera --version)",
    usage: 'tessera version   (or tessera --version)',
    flags: {},
    // it prints a line: nothing to tune, nothing to trace
    without: { debug: "does not apply: version only prints tessera's version (no stack trace to show)", 'no-tune': 'does not apply: version runs no kernels, so there is no autotuning to turn off' },
  },
  // prints a line: no tuning cache to read (a damaged one would warn here), no kernels to compile
  gpu: false,
  async run() {
    console.log(`tessera ${packageVersion()}`);
  },
};
