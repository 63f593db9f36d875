// Mesa keeps its shader cache under $MESA_SHADER_CACHE_DIR, else $XDG_CACHE_HOME, else ~/.cache. A CLI spawn given
// an XDG_CACHE_HOME of its own (a fresh tuning cache) would take Mesa's cache there too: an empty folder, so every
// kernel the spawn runs is compiled cold by lavapipe, each run of the file again (tune-cli: a fresh `tune --quick`
// 11.7 CPU s against 3.7 with the warm cache). What a test checks is tessera's own cache, not Mesa's.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The env entry that keeps a spawn on this process's Mesa shader cache whatever XDG_CACHE_HOME it is given. */
export function sameMesaCache(): { MESA_SHADER_CACHE_DIR: string } {
  return { MESA_SHADER_CACHE_DIR: process.env.MESA_SHADER_CACHE_DIR || process.env.XDG_CACHE_HOME || join(homedir(), '.cache') };
}
