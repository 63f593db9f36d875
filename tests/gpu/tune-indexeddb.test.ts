// The browser's tuning cache (IndexedDB tessera/tune, record `entries`) that holds something other
// than an object of choices counts as empty, with one warning, and the next save replaces it, as
// the Node file store does. Its load returned the record as it was, so a string or a number there
// made every tuned call throw a raw TypeError (`Cannot create property … on string`) on each page
// load until the user cleared the site's data. A minimal in-memory IndexedDB stands in for the
// browser's (the store is built from globalThis.indexedDB on first use; this file has its own module).
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fakeTransaction } from '../helpers/indexeddb.js';
import { loadTuneCache, saveTuneCacheOrThrow, setTuneStore, tuneStoreWhere, type TuneEntry } from '../../src/gpu/tune.js';

/** The records of the one object store ('tune'), as IndexedDB would hold them (structured clones). */
const records = new Map<string, unknown>();
const later = (f: () => void) => setTimeout(f, 0);

function fakeDb() {
  return {
    version: 1,
    objectStoreNames: { contains: (name: string) => name === 'tune' },
    close() {},
    transaction: () => fakeTransaction(records),
  };
}

const fakeIndexedDb = {
  open() {
    const r: { result?: unknown; onupgradeneeded?: () => void; onsuccess?: () => void; onerror?: () => void; error: null } = { error: null };
    later(() => {
      r.result = fakeDb();
      r.onsuccess?.();
    });
    return r;
  },
};

(globalThis as { indexedDB?: unknown }).indexedDB = fakeIndexedDb;
afterAll(() => {
  delete (globalThis as { indexedDB?: unknown }).indexedDB;
  setTuneStore(null);
});

const entry: TuneEntry = { choice: 'tiled-64', ms: { 'tiled-64': 1 }, shapes: 'x', date: '2026-12-01T00:00:00.000Z' };

describe('a corrupt IndexedDB tuning cache', () => {
  for (const [what, value, held] of [
    ['a string', 'corrupted!', 'the string "corrupted!"'],
    ['a number', 42, 'the number 42'],
    ['an array', [entry], 'an array'],
    ['null', null, 'null'],
  ] as const) {
    it(`${what} under "entries": one warning naming IndexedDB tessera/tune, counted as empty, replaced by the next save`, async () => {
      records.set('entries', value);
      setTuneStore(null); // the browser's store, loaded afresh
      expect(tuneStoreWhere()).toBe('IndexedDB tessera/tune');
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      try {
        expect(await loadTuneCache()).toEqual({});
        expect(await loadTuneCache()).toEqual({}); // loaded once: no second warning
        expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
          `[tessera] tuning cache IndexedDB tessera/tune is unreadable, ignoring it (it will be replaced when tuned kernel choices are next saved): not a tessera tuning cache (its "entries" record is ${held}, not an object of tuned choices)`,
        ]);
      } finally {
        warn.mockRestore();
      }
      await saveTuneCacheOrThrow();
      expect(records.get('entries')).toEqual({});
    });
  }

  it('a sound record loads as stored, and a save keeps it', async () => {
    records.set('entries', { k: entry });
    setTuneStore(null);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(await loadTuneCache()).toEqual({ k: entry });
      await saveTuneCacheOrThrow();
      expect(records.get('entries')).toEqual({ k: entry });
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('no record yet: empty, no warning', async () => {
    records.clear();
    setTuneStore(null);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(await loadTuneCache()).toEqual({});
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});
