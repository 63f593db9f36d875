// setTuneStore(null) puts the browser's default store back: the IndexedDB store is built again from
// globalThis.indexedDB on next use. It was built once per process from the first globalThis.indexedDB
// seen (or its absence), so a page or test that installed IndexedDB after a first look, or swapped it,
// kept the old one (or none: choices not persisted) even after a reset. This file has its own module,
// so the store is not yet built when it starts.
import { afterAll, describe, expect, it } from 'vitest';
import { fakeTransaction } from '../helpers/indexeddb.js';
import { loadTuneCache, setTuneStore, tuneStoreWhere, type TuneEntry } from '../../src/gpu/tune.js';

const g = globalThis as { indexedDB?: unknown };

/** An in-memory IndexedDB of one database with a 'tune' store holding `records`. */
function fakeIndexedDb(records: Map<string, unknown>) {
  const db = { version: 1, objectStoreNames: { contains: (name: string) => name === 'tune' }, close() {}, transaction: () => fakeTransaction(records) };
  return {
    open() {
      const r: { result?: unknown; onsuccess?: () => void; error: null } = { error: null };
      setTimeout(() => {
        r.result = db;
        r.onsuccess?.();
      }, 0);
      return r;
    },
  };
}

const entry = (choice: string): TuneEntry => ({ choice, ms: { [choice]: 1 }, shapes: 'x', date: '2026-12-03T00:00:00.000Z' });

afterAll(() => {
  delete g.indexedDB;
  setTuneStore(null);
});

describe('setTuneStore(null) and the IndexedDB store', () => {
  it('IndexedDB installed after a first look without it: used after setTuneStore(null)', async () => {
    delete g.indexedDB;
    setTuneStore(null);
    expect(tuneStoreWhere()).toBeNull(); // no IndexedDB: nothing persists
    g.indexedDB = fakeIndexedDb(new Map([['entries', { a: entry('tiled-64') }]]));
    setTuneStore(null);
    expect(tuneStoreWhere()).toBe('IndexedDB tessera/tune');
    expect(await loadTuneCache()).toEqual({ a: entry('tiled-64') });
  });

  it('a swapped globalThis.indexedDB is read after setTuneStore(null), not the first one', async () => {
    g.indexedDB = fakeIndexedDb(new Map([['entries', { first: entry('tiled-64') }]]));
    setTuneStore(null);
    expect(await loadTuneCache()).toEqual({ first: entry('tiled-64') });
    g.indexedDB = fakeIndexedDb(new Map([['entries', { second: entry('gemv') }]]));
    setTuneStore(null);
    expect(await loadTuneCache()).toEqual({ second: entry('gemv') });
  });

  it('IndexedDB removed: setTuneStore(null) leaves nothing persisting', () => {
    g.indexedDB = fakeIndexedDb(new Map());
    setTuneStore(null);
    expect(tuneStoreWhere()).toBe('IndexedDB tessera/tune');
    delete g.indexedDB;
    setTuneStore(null);
    expect(tuneStoreWhere()).toBeNull();
  });
});
