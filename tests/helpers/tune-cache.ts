// A tuning cache file as the Node store writes it (src/gpu/tune-store-node.ts), for CLI tests that run
// with XDG_CACHE_HOME=dir: dir/tessera/tune.json holding `entries` (key → entry, damaged ones too).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeTuneCache(xdgCacheHome: string, entries: Record<string, unknown>): string {
  const path = join(xdgCacheHome, 'tessera', 'tune.json');
  mkdirSync(join(xdgCacheHome, 'tessera'), { recursive: true });
  writeFileSync(path, JSON.stringify({ tessera: 'tuning cache', entries }));
  return path;
}
