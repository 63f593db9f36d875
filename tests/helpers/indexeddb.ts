// A minimal in-memory IndexedDB transaction over one object store's records (structured clones), for
// tests of the browser's tuning cache (src/gpu/tune.ts browserStore): get and put, each answered on a
// later tick, and oncomplete once every request (and those they start) is done.
const later = (f: () => void) => setTimeout(f, 0);

export function fakeTransaction(records: Map<string, unknown>) {
  const t: { oncomplete?: () => void; onerror?: () => void; error: null } = { error: null };
  let pending = 1; // the transaction's own tick: it completes once its requests (and those they start) are done
  const done = () => {
    if (--pending === 0) later(() => t.oncomplete?.());
  };
  later(done);
  const objectStore = () => ({
    get(key: string) {
      const r: { result?: unknown; onsuccess?: () => void; onerror?: () => void; error: null } = { error: null };
      pending++;
      later(() => {
        r.result = structuredClone(records.get(key));
        r.onsuccess?.();
        done();
      });
      return r;
    },
    put(value: unknown, key: string) {
      records.set(key, structuredClone(value));
      pending++;
      later(done);
      return {};
    },
  });
  return Object.assign(t, { objectStore });
}
