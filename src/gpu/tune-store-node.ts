// Node: the tuning cache as one JSON file in the user's cache directory,
// $XDG_CACHE_HOME/tessera/tune.json (default ~/.cache/tessera/tune.json), written atomically
// (temporary file + rename) so a killed process never leaves half a file.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTuneStore, type TuneEntry, type TuneStore } from './tune.js';

export function tuneCachePath(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tessera', 'tune.json');
}

export function nodeTuneStore(path = tuneCachePath()): TuneStore {
  return {
    where: path,
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (e) {
        // nothing there, or a part of the path is a file: no cache yet (saving reports the path)
        const code = (e as { code?: string }).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return {};
        throw e;
      }
      const j = JSON.parse(text) as { entries?: Record<string, TuneEntry> };
      if (!j || typeof j !== 'object' || !j.entries || typeof j.entries !== 'object' || Array.isArray(j.entries)) throw new Error('not a tessera tuning cache (no "entries" object)'); // the caller names the file
      return j.entries;
    },
    async save(entries) {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify({ tessera: 'tuning cache', entries }, null, 1));
      await rename(tmp, path);
    },
  };
}

setTuneStore(nodeTuneStore());
