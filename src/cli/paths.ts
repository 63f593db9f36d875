// Paths given on the command line, checked before any GPU work: one UsageError line naming the flag
// (--inputs FILE, --model/--vae/--pipeline DIR) instead of a raw ENOENT/ENOTDIR from deep inside a loader.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError, type Parsed } from './args.js';

const FILE_FLAGS = ['inputs'] as const;
const DIR_FLAGS = ['model', 'vae', 'pipeline'] as const;

/** URLs are read over HTTP by the loaders; only local paths are checked here. */
const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

/**
 * Checks every path flag present in `p`: --inputs must be a regular file, --model/--vae/--pipeline a
 * folder; --model/--vae given a pipeline root (model_index.json) get a hint to the component folder.
 * Every bad path is named, in one line (a bad --model was said only once --inputs was put right).
 * `withPipeline: false` for commands without --pipeline (bench): the hint names only the component folder.
 * @throws UsageError `--flag PATH: no such file` / `not a regular file` / `not a folder` / the hint, those of
 *   several flags joined by "; ".
 */
export function checkPathFlags(p: Parsed, { withPipeline = true }: { withPipeline?: boolean } = {}): void {
  const bad: string[] = [];
  for (const flag of FILE_FLAGS) {
    const v = p[flag];
    if (typeof v !== 'string' || isUrl(v)) continue;
    const st = statSync(v, { throwIfNoEntry: false });
    if (!st) bad.push(`--${flag} ${v}: no such file`);
    else if (!st.isFile()) bad.push(`--${flag} ${v}: not a regular file (expected a .safetensors file${st.isDirectory() ? ', got a folder' : ''})`);
  }
  for (const flag of DIR_FLAGS) {
    const v = p[flag];
    if (typeof v !== 'string' || isUrl(v)) continue;
    const st = statSync(v, { throwIfNoEntry: false });
    if (!st) bad.push(`--${flag} ${v}: no such folder`);
    else if (!st.isDirectory()) bad.push(`--${flag} ${v}: not a folder (expected a diffusers ${flag === 'pipeline' ? 'pipeline folder with model_index.json' : 'model folder with config.json'})`);
    else if (flag !== 'pipeline' && existsSync(join(v, 'model_index.json'))) {
      const sub = flag === 'model' ? 'transformer' : 'vae';
      bad.push(`--${flag} ${v}: a pipeline folder (it has model_index.json); give ${flag === 'model' && withPipeline ? '--pipeline DIR or ' : ''}--${flag} ${join(v, sub)}`);
    }
  }
  if (bad.length) throw new UsageError(bad.join('; '));
}

/** A file a command reads, and what it is in words for a refusal (`a weights file of --model DIR`). */
export interface ReadFile {
  path: string;
  what: string;
  /** `dev:ino` of the file, when readFiles stat'd it already (a file of a folder); else undefined. */
  id?: string;
}

/** What a file of a model, VAE or pipeline folder is, by its name. */
function kindOf(name: string, sub: string): string {
  if (sub === 'tokenizer') return 'a tokenizer file';
  if (/\.safetensors$/.test(name)) return 'a weights file';
  if (/\.safetensors\.index(\.[^.]+)?\.json$/.test(name)) return 'the weights index';
  if (name === 'config.json') return 'the config';
  if (name === 'scheduler_config.json') return 'the scheduler config';
  if (name === 'model_index.json') return 'the model index';
  return 'a file';
}

/** The regular files (with their `dev:ino`) and the folders directly in `dir`, from one listing and one stat each (none when it cannot be listed). */
function entriesOf(dir: string): { files: { name: string; id: string }[]; folders: string[] } {
  const out = { files: [] as { name: string; id: string }[], folders: [] as string[] };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out; // unreadable: the loader says why
  }
  for (const n of names) {
    const st = statSync(join(dir, n), { throwIfNoEntry: false });
    if (st?.isFile()) out.files.push({ name: n, id: `${st.dev}:${st.ino}` });
    else if (st?.isDirectory()) out.folders.push(n);
  }
  return out;
}

/**
 * Every local file the command may read through its path flags: --inputs; the files of --model and
 * --vae (config, weights, shards, index; --model's ../scheduler/scheduler_config.json too); the
 * pipeline's model_index.json and the files of its component folders (transformer/, vae/,
 * text_encoder/, tokenizer/, scheduler/). A superset of what the loaders open (e.g. another
 * variant's weights), as a file there is the folder's either way. `embedded`: the --pipeline folder
 * is the embedded one (named so). URLs are skipped.
 */
export function readFiles(p: Parsed, { embedded = false }: { embedded?: boolean } = {}): ReadFile[] {
  const out: ReadFile[] = [];
  const inputs = p.inputs;
  if (typeof inputs === 'string' && !isUrl(inputs)) out.push({ path: inputs, what: 'the --inputs file' });
  for (const flag of ['model', 'vae'] as const) {
    const dir = p[flag];
    if (typeof dir !== 'string' || isUrl(dir)) continue;
    for (const { name: n, id } of entriesOf(dir).files) out.push({ path: join(dir, n), what: `${kindOf(n, '')} of --${flag} ${dir}`, id });
    if (flag === 'model') out.push({ path: join(dirname(resolve(dir)), 'scheduler', 'scheduler_config.json'), what: `the scheduler config read for --model ${dir}` });
  }
  const pipe = p.pipeline;
  if (typeof pipe === 'string' && !isUrl(pipe)) {
    const of = embedded ? 'the embedded tessera-shapes pipeline' : `--pipeline ${pipe}`;
    const { files, folders } = entriesOf(pipe);
    for (const { name: n, id } of files) out.push({ path: join(pipe, n), what: `${kindOf(n, '')} of ${of}`, id });
    for (const s of folders) for (const { name: n, id } of entriesOf(join(pipe, s)).files) out.push({ path: join(pipe, s, n), what: `${kindOf(n, s)} of ${of} (${s}/)`, id });
  }
  return out;
}
