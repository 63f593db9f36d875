// Paths given on the command line, checked before any GPU work: one UsageError line naming the flag
// (--inputs FILE, --model/--vae/--pipeline DIR) instead of a raw ENOENT/ENOTDIR from deep inside a loader.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, type Parsed } from './args.js';

const FILE_FLAGS = ['inputs'] as const;
const DIR_FLAGS = ['model', 'vae', 'pipeline'] as const;

/** URLs are read over HTTP by the loaders; only local paths are checked here. */
const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

/**
 * Checks every path flag present in `p`: --inputs must be a regular file, --model/--vae/--pipeline a
 * folder; --model/--vae given a pipeline root (model_index.json) get a hint to the component folder.
 * `withPipeline: false` for commands without --pipeline (bench): the hint names only the component folder.
 * @throws UsageError `--flag PATH: no such file` / `not a regular file` / `not a folder` / the hint.
 */
export function checkPathFlags(p: Parsed, { withPipeline = true }: { withPipeline?: boolean } = {}): void {
  for (const flag of FILE_FLAGS) {
    const v = p[flag];
    if (typeof v !== 'string' || isUrl(v)) continue;
    const st = statSync(v, { throwIfNoEntry: false });
    if (!st) throw new UsageError(`--${flag} ${v}: no such file`);
    if (!st.isFile()) throw new UsageError(`--${flag} ${v}: not a regular file (expected a .safetensors file${st.isDirectory() ? ', got a folder' : ''})`);
  }
  for (const flag of DIR_FLAGS) {
    const v = p[flag];
    if (typeof v !== 'string' || isUrl(v)) continue;
    const st = statSync(v, { throwIfNoEntry: false });
    if (!st) throw new UsageError(`--${flag} ${v}: no such folder`);
    if (!st.isDirectory()) throw new UsageError(`--${flag} ${v}: not a folder (expected a diffusers ${flag === 'pipeline' ? 'pipeline folder with model_index.json' : 'model folder with config.json'})`);
    if (flag !== 'pipeline' && existsSync(join(v, 'model_index.json'))) {
      const sub = flag === 'model' ? 'transformer' : 'vae';
      throw new UsageError(`--${flag} ${v}: a pipeline folder (it has model_index.json); give ${flag === 'model' && withPipeline ? '--pipeline DIR or ' : ''}--${flag} ${join(v, sub)}`);
    }
  }
}
