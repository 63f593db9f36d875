// The browser's tuning cache (IndexedDB database 'tessera', object store 'tune'): (a) every load, save
// and merge opened a connection and left it open, so the page's own deleteDatabase('tessera') stayed
// blocked for the page's life; (b) a 'tessera' database without a 'tune' store (another library's), or
// one at a version above 1, failed every load and every save (open('tessera', 1): NotFoundError or
// VersionError), each page load warning twice, the first saying the cache "will be replaced when tuned
// kernel choices are next saved", which never happened. Now each connection is closed after its
// transaction, the database is opened at its own version, and a missing 'tune' store is added by an
// upgrade. A small versioned in-memory IndexedDB stands in for the browser's (one per test file: the
// store reads globalThis.indexedDB on first use).
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeTransaction } from '../helpers/indexeddb.js';
import { loadTuneCache, saveTuneCacheOrThrow, setTuneStore, type TuneEntry } from '../../src/gpu/tune.js';

const later = (f: () => void) => setTimeout(f, 0);

/** The one database: its version, its stores' records, and the connections open on it. */
const db = { exists: false, version: 0, stores: new Map<string, Map<string, unknown>>(), open: new Set<object>(), opened: 0 };

function connection() {
  const conn = {
    get version() {
      return db.version;
    },
    objectStoreNames: { contains: (n: string) => db.stores.has(n) },
    onversionchange: null as null | (() => void),
    createObjectStore(n: string) {
      db.stores.set(n, new Map());
    },
    close() {
      db.open.delete(conn);
    },
    transaction(name: string) {
      if (!db.open.has(conn)) throw new Error('InvalidStateError: the connection is closed');
      const store = db.stores.get(name);
      if (!store) throw new Error(`NotFoundError: no object store ${name}`);
      return fakeTransaction(store);
    },
  };
  return conn;
}

(globalThis as { indexedDB?: unknown }).indexedDB = {
  open(name: string, version?: number) {
    expect(name).toBe('tessera');
    const r: { result?: ReturnType<typeof connection>; error: Error | null; onupgradeneeded?: () => void; onsuccess?: () => void; onerror?: () => void; onblocked?: () => void } = { error: null };
    later(() => {
      const want = version ?? (db.exists ? db.version : 1);
      if (want < db.version) {
        r.error = new Error(`VersionError: the requested version (${want}) is less than the existing version (${db.version})`);
        r.onerror?.();
        return;
      }
      const c = connection();
      r.result = c;
      db.open.add(c);
      db.opened++;
      if (!db.exists || want > db.version) {
        if ([...db.open].some((o) => o !== c)) {
          db.open.delete(c);
          r.onblocked?.();
          return;
        }
        db.exists = true;
        db.version = want;
        r.onupgradeneeded?.();
      }
      r.onsuccess?.();
    });
    return r;
  },
};
afterAll(() => {
  delete (globalThis as { indexedDB?: unknown }).indexedDB;
  setTuneStore(null);
});

const entry: TuneEntry = { choice: 'tiled-64', ms: { 'tiled-64': 1, 'tiled-32': 2 }, shapes: 'x[64,64] w[64,64]', date: '2026-12-02T00:00:00.000Z' };

/** The cache as a new page loads it. */
async function freshLoad(): Promise<Record<string, TuneEntry>> {
  setTuneStore(null); // the browser's store, loaded afresh
  return loadTuneCache();
}

describe('the IndexedDB tuning cache', () => {
  beforeEach(() => {
    db.exists = false;
    db.version = 0;
    db.stores = new Map();
    db.open.clear();
    db.opened = 0;
  });

  it('closes each connection after its load and its save (a deleteDatabase in the same page is not blocked)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(await freshLoad()).toEqual({});
      expect(db.opened).toBeGreaterThan(0);
      expect(db.open.size).toBe(0);
      await saveTuneCacheOrThrow(); // the merge a tuned plan's save does
      expect(db.open.size).toBe(0);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('a "tessera" database without a "tune" store (version 3): the store is added by an upgrade to 4, loaded without a warning, and saved to', async () => {
    db.exists = true;
    db.version = 3;
    db.stores.set('other', new Map([['x', 1]]));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(await freshLoad()).toEqual({});
      expect(db.version).toBe(4);
      expect(db.stores.get('other')!.get('x')).toBe(1); // the other store is left as it was
      expect(db.stores.has('tune')).toBe(true);
      await saveTuneCacheOrThrow(); // the merge a tuned plan's save does
      expect(db.stores.get('tune')!.get('entries')).toEqual({});
      expect(warn).not.toHaveBeenCalled();
      expect(db.open.size).toBe(0);
    } finally {
      warn.mockRestore();
    }
  });

  it('a database at a version above 1 that has the store: read as it is, no warning', async () => {
    db.exists = true;
    db.version = 7;
    db.stores.set('tune', new Map([['entries', { k: entry }]]));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(await freshLoad()).toEqual({ k: entry });
      expect(db.version).toBe(7);
      expect(warn).not.toHaveBeenCalled();
      expect(db.open.size).toBe(0);
    } finally {
      warn.mockRestore();
    }
  });
});
