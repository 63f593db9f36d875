// Autotuning: per (adapter, kernel family, shape bucket), time a few candidate strategies on
// first use, check each against another's output, and cache the winner.
//
// How it fits: an op that has alternatives records through `plan.recordTuned(request)` (see
// plan.ts). That records the cached choice when there is one, else the adapter policy's
// heuristic, and leaves the request pending. Before the plan's first run, `tunePlan` (the plan's
// tune hook) settles every pending request: in mode 'auto' it times the candidates of each
// bucket not yet in the cache on the op's own scratch inputs (never the plan's buffers), checks
// every candidate's output against the heuristic's (the first candidate), times the ones that agree
// in interleaved rounds until each challenger is clearly faster than the heuristic by more than
// TUNE_MARGIN or clearly not (a sequential test on the per-round log time ratios, raceCandidates), at
// most TUNE_ROUNDS rounds, keeps the clearly faster one with the lowest ratio (else the heuristic),
// stores it, and re-records the dispatch with it; in mode 'cached' it only applies cached choices; in
// mode 'off' nothing is looked up or timed (deterministic heuristics). A plan that already ran is
// settled again by tunePlan (its tuned calls are remembered here).
// The cache lives in a TuneStore: Node registers a file in the user's cache directory
// (tune-store-node.ts), browsers use IndexedDB (below). Keys name the adapter and, on lavapipe under
// Node, llvmpipe's thread count (setTuneKeyDetail). Browser-safe module.
import { describeAdapter, type Gpu } from './device.js';
import { Pace, Plan, setTuneHook, type TuneRequest } from './plan.js';
import { emitKernelEvent } from './kernel.js';
import { Allocator, fmtBytes, readTensor, storageBytes, type Tensor } from './tensor.js';
import { DryAllocator } from './memory-plan.js';
import { profilePlan, queryChunks, resolveOffsets } from '../profile/profiler.js';
import { checkGpuArg } from '../profile/args.js';
import { notValidJson, visibleText } from '../io/json.js';
import { parseDecimal } from '../decimal.js';
import { InputError, shown } from '../model/input-error.js';
import { callHook, type Hook } from '../hook.js';
// gemm.ts imports this module too: BUCKET_FORMAT calls it only when a key is checked, not while the modules load
import { currentGemmBucket } from '../ops/gemm.js';

/**
 * How kernels with alternatives (GEMM tilings, attention strategies) are chosen: 'auto' times the
 * candidates of each shape not yet cached (seconds to minutes on a first call, a CPU adapter most)
 * and caches the fastest; 'cached' uses cached choices and never times; 'off' uses the adapter
 * policy's heuristics only (deterministic; nothing read or written).
 */
export type TuneMode = 'auto' | 'cached' | 'off';

/** One cached decision. */
export interface TuneEntry {
  /** The chosen strategy name. */
  choice: string;
  /** Fastest of the timed rounds, ms per candidate (candidates whose output disagreed are absent). */
  ms: Record<string, number>;
  /**
   * Per candidate, its time over the reference's (the heuristic, the first candidate; 1) in the same round,
   * the geometric mean over the rounds it was timed (raceCandidates; entries cached before session 16 hold
   * the median ratio). Absent from entries cached before tessera decided by ratios.
   */
  ratio?: Record<string, number>;
  /**
   * What the sequential rule (raceCandidates) ruled on each challenger (the candidates but the first): 'faster'
   * (than the reference by more than TUNE_MARGIN, at the rule's confidence), 'not faster', or 'undecided' (still
   * ambiguous after the most rounds: the reference is kept). Absent from entries cached before it.
   */
  verdict?: Record<string, TuneVerdict>;
  /** Timed rounds per candidate (a challenger ruled on leaves the race early). Absent from entries cached before it. */
  rounds?: Record<string, number>;
  /**
   * Per challenger with 3 or more usable rounds, the interval of its time ratio the verdict was read from ([low, high]:
   * exp of the mean log ratio ∓ the rule's half-width, challengerInterval): 'faster' when high < 1 − TUNE_MARGIN,
   * 'not faster' when low > 1 − TUNE_MARGIN, else undecided. Absent from entries cached before session 17.
   */
  interval?: Record<string, [number, number]>;
  /** Candidates dropped because their output disagreed with the reference candidate's. */
  rejected?: string[];
  /** The shape it was timed at, e.g. `x[4096,1152] w[1152,1152]`. */
  shapes: string;
  date: string;
}

/** Persistent key → entry storage. */
export interface TuneStore {
  /** Where the cache lives, for messages (`~/.cache/tessera/tune.json`, `IndexedDB tessera/tune`). */
  where: string;
  load(): Promise<Record<string, TuneEntry>>;
  /** Replaces everything stored with `entries` (used when the store has no `merge`). */
  save(entries: Record<string, TuneEntry>): Promise<void>;
  /**
   * Writes `changed` over what the store holds at the time of writing (re-read then, not at load(),
   * under whatever lock the store has), so choices another process saved since this one loaded are
   * kept; returns all entries as stored. A store whose contents cannot be read is replaced. The Node
   * file and IndexedDB stores have it; without it saves write the whole in-memory map (save).
   */
  merge?(changed: Record<string, TuneEntry>): Promise<Record<string, TuneEntry>>;
}

/** Cache format version: bump when strategies change meaning (old entries are then dropped: staleTuneKey). */
const VERSION = 'v1';

let store: TuneStore | null = null;
let entries: Record<string, TuneEntry> | null = null;
/** Keys this process tuned since its last save: what a save writes over the stored entries (TuneStore.merge). */
const dirty = new Set<string>();
let loading: Promise<void> | null = null;
let defaultMode: TuneMode | null = null;
const modes = new WeakMap<GPUDevice, TuneMode>();

/**
 * Registers the persistent store (Node: the cache file; browsers get IndexedDB by default). null: back
 * to the default, built again from globalThis.indexedDB on next use (a page or test that installs one later).
 */
export function setTuneStore(s: TuneStore | null): void {
  store = s;
  if (s === null) idb = undefined;
  entries = null;
  loading = null;
  dirty.clear();
}

/** Where choices are cached, or null when nothing persists (choices then last for the process). */
export function tuneStoreWhere(): string | null {
  return (store ?? browserStore())?.where ?? null;
}

/**
 * A TESSERA_TUNE or TESSERA_TUNE_MIN_FLOPS value tessera cannot read, named with the accepted ones
 * (the CLI reports it as a UsageError, exit 2, as TESSERA_MAX_GPU_MEMORY's). Refused rather than
 * read as the default: a misspelt `TESSERA_TUNE=of` would otherwise tune.
 */
export class TuneEnvError extends Error {
  override name = 'TuneEnvError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_TUNE_ENV';
}

/** An environment variable (browsers have none); empty or blank reads as unset. */
function envValue(name: string): string | undefined {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  return v === undefined || v.trim() === '' ? undefined : v;
}

const TUNE_MODES: readonly TuneMode[] = ['off', 'cached', 'auto'];

/** TESSERA_TUNE; null when unset. @throws TuneEnvError for another value. */
function envMode(): TuneMode | null {
  const env = envValue('TESSERA_TUNE');
  if (env === undefined) return null;
  if ((TUNE_MODES as readonly string[]).includes(env)) return env as TuneMode;
  throw new TuneEnvError(`TESSERA_TUNE: ${JSON.stringify(env)} is not a tuning mode; expected off, cached or auto (lower case; unset: auto)`);
}

/** `m` as a TuneMode. @throws TypeError `<fn>: <m> is not a tuning mode; expected …` (a JavaScript caller's typo). */
function checkMode(m: unknown, fn: string, orNull: boolean): void {
  if ((TUNE_MODES as readonly unknown[]).includes(m) || (orNull && m === null)) return;
  const shown = typeof m === 'string' ? JSON.stringify(m) : String(m);
  throw new TypeError(`${fn}: ${shown} is not a tuning mode; expected 'off', 'cached' or 'auto'${orNull ? ' (null: back to TESSERA_TUNE, else auto)' : ''}`);
}

/**
 * Sets the tuning mode (TuneMode) of every device without its own (setTuneMode), for calls from
 * now on: in a browser, which has no TESSERA_TUNE, the way to choose it; `setDefaultTuneMode('off')`
 * before the first generate skips the candidate timing (its minutes on a CPU adapter) and keeps the
 * heuristic choices. null: back to TESSERA_TUNE (Node), else 'auto'. Kernels already recorded with
 * a choice keep it.
 * @throws TypeError for anything but 'off', 'cached', 'auto' or null.
 */
export function setDefaultTuneMode(m: TuneMode | null): void {
  checkMode(m, 'setDefaultTuneMode', true);
  defaultMode = m;
}

/**
 * The mode of devices without their own (setDefaultTuneMode, else TESSERA_TUNE, else 'auto').
 * @throws TuneEnvError when TESSERA_TUNE decides and is set to anything but off, cached or auto.
 */
export function defaultTuneMode(): TuneMode {
  return defaultMode ?? envMode() ?? 'auto';
}

/**
 * Sets the tuning mode (TuneMode) of one device (`gpu`: acquireGpu()'s object, or a loaded model's or
 * pipeline's `.gpu`), over the default (setDefaultTuneMode, TESSERA_TUNE).
 * @throws InputError for a `gpu` that is not acquireGpu()'s (an un-awaited one: checkGpuArg); TypeError for a
 *   mode other than 'off', 'cached' or 'auto'.
 */
export function setTuneMode(gpu: Gpu, m: TuneMode): void {
  // the mode is kept by gpu.device: without one (an un-awaited acquireGpu(), a GPUDevice) refused as the loaders refuse it
  if (typeof gpu?.device !== 'object' || gpu.device === null) checkGpuArg('setTuneMode', gpu);
  checkMode(m, 'setTuneMode', false);
  modes.set(gpu.device, m);
}

/**
 * The tuning mode of `gpu`'s device: its own (setTuneMode), else the default (setDefaultTuneMode,
 * else TESSERA_TUNE, else 'auto').
 * @throws TuneEnvError when TESSERA_TUNE decides and holds anything but off, cached or auto.
 */
export function tuneMode(gpu: Gpu): TuneMode {
  return modes.get(gpu.device) ?? defaultTuneMode();
}

let keyDetail: ((gpu: Gpu) => string | null) | null = null;

/**
 * Registers what besides the adapter decides which variant is fastest, for the cache key
 * (tuneAdapterKey): the Node entry registers llvmpipe's thread count (LP_NUM_THREADS: a winner
 * at 2 threads need not be one at 16). null: nothing (browsers).
 */
export function setTuneKeyDetail(f: ((gpu: Gpu) => string | null) | null): void {
  keyDetail = f;
}

/**
 * The adapter part of the cache key: describeAdapter, and the registered detail in parentheses
 * when there is one (`… llvmpipe … (16 llvmpipe threads)`); never holds a `|`.
 */
export function tuneAdapterKey(gpu: Gpu): string {
  const detail = keyDetail?.(gpu);
  return `${adapterBase(gpu)}${detail ? ` (${detail.replaceAll('|', '/')})` : ''}`;
}

const adapterBase = (gpu: Gpu): string => describeAdapter(gpu).replaceAll('|', '/');

/** Cache key: runtime and adapter (tuneAdapterKey), family, bucket. */
export function tuneKey(gpu: Gpu, family: string, bucket: string): string {
  return `${VERSION}|${gpu.runtime}|${tuneAdapterKey(gpu)}|${family}|${bucket}`;
}

/**
 * Per family, whether a bucket is in the form its calls make now (VERSION's keys only), checked where the bucket
 * is made: GEMM buckets end in the subgroup width at that N (` SWG64x4`) since session 18 (currentGemmBucket);
 * one without it matches no call.
 */
const BUCKET_FORMAT: Record<string, (bucket: string) => boolean> = { gemm: (b) => currentGemmBucket(b) };

/**
 * Whether no call can match cache key `key` (`v1|runtime|adapter|family|bucket`, tuneKey) again: its format
 * version is older than VERSION, or it is of VERSION and its family's bucket is in a superseded form
 * (BUCKET_FORMAT). A newer version's keys (a later tessera sharing the cache) and keys not of this form are kept.
 */
export function staleTuneKey(key: string): boolean {
  const [version, , , family, ...bucket] = key.split('|');
  const v = /^v(\d+)$/.exec(version ?? '');
  if (!v || family === undefined || !bucket.length) return false;
  const current = Number(VERSION.slice(1));
  if (Number(v[1]) !== current) return Number(v[1]) < current;
  return BUCKET_FORMAT[family]?.(bucket.join('|')) === false;
}

/**
 * `all` without its stale keys (staleTuneKey): what loading the cache keeps and what every save writes back
 * (the stores' merge), so entries no call will read are dropped rather than kept in the file forever.
 */
export function currentTuneEntries(all: Record<string, TuneEntry>): Record<string, TuneEntry> {
  return Object.fromEntries(Object.entries(all).filter(([k]) => !staleTuneKey(k)));
}

/**
 * The IndexedDB record `entries` as read: an object of key → entry, {} when there is none.
 * @throws Error for anything else (a string, a number, an array, null): what the record holds
 *   (loadTuneCache then warns naming the store and counts it as empty; the next save replaces it).
 */
function storedEntries(v: unknown): Record<string, TuneEntry> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    const what = Array.isArray(v) ? 'an array' : v === null ? 'null' : `the ${typeof v} ${typeof v === 'string' ? JSON.stringify(v.slice(0, 60)) : String(v)}`;
    throw new Error(`not a tessera tuning cache (its "entries" record is ${what}, not an object of tuned choices)`);
  }
  return v as Record<string, TuneEntry>;
}

let idb: TuneStore | null | undefined;
function browserStore(): TuneStore | null {
  if (idb !== undefined) return idb;
  const indexedDB = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!indexedDB) return (idb = null);
  // The database at whatever version it is (no version asked: a page's other code, or a newer
  // tessera, may have moved it on), its 'tune' store created when missing.
  const openAt = (version?: number) =>
    new Promise<IDBDatabase>((resolve, reject) => {
      const r = version === undefined ? indexedDB.open('tessera') : indexedDB.open('tessera', version);
      r.onupgradeneeded = () => {
        if (!r.result.objectStoreNames.contains('tune')) r.result.createObjectStore('tune');
      };
      r.onsuccess = () => {
        // another page's upgrade (or deleteDatabase) waits for this connection: let it go
        r.result.onversionchange = () => r.result.close();
        resolve(r.result);
      };
      r.onerror = () => reject(r.error);
      r.onblocked = () => {
        r.onsuccess = () => r.result.close(); // opened once the other page lets go: no longer wanted
        reject(new Error(`the IndexedDB database "tessera" has no "tune" store, and another page holds it open, so it cannot be added now`));
      };
    });
  const open = async () => {
    const db = await openAt();
    if (db.objectStoreNames.contains('tune')) return db;
    // a 'tessera' database without the store (another library's, or an older layout): add it with an upgrade
    const next = db.version + 1;
    db.close();
    return openAt(next);
  };
  // one connection per load, save or merge, closed when its transaction is done: an open connection
  // would block the page's own deleteDatabase('tessera') (and other pages' upgrades) for as long as the page lives
  const withDb = async <T>(f: (db: IDBDatabase) => Promise<T>): Promise<T> => {
    const db = await open();
    try {
      return await f(db);
    } finally {
      db.close();
    }
  };
  idb = {
    where: 'IndexedDB tessera/tune',
    load: () =>
      withDb(
        (db) =>
          new Promise((resolve, reject) => {
            const g = db.transaction('tune', 'readonly').objectStore('tune').get('entries');
            g.onsuccess = () => {
              try {
                resolve(storedEntries(g.result));
              } catch (e) {
                reject(e);
              }
            };
            g.onerror = () => reject(g.error);
          }),
      ),
    save: (e) =>
      withDb(
        (db) =>
          new Promise<void>((resolve, reject) => {
            const t = db.transaction('tune', 'readwrite');
            t.objectStore('tune').put(e, 'entries');
            t.oncomplete = () => resolve();
            t.onerror = () => reject(t.error);
          }),
      ),
    // read and write in one readwrite transaction: another tab's choices saved meanwhile are kept
    merge: (changed) =>
      withDb(
        (db) =>
          new Promise((resolve, reject) => {
            const t = db.transaction('tune', 'readwrite');
            const os = t.objectStore('tune');
            let next: Record<string, TuneEntry> = changed;
            const g = os.get('entries');
            g.onsuccess = () => {
              let had: Record<string, TuneEntry> = {};
              try {
                had = currentTuneEntries(storedEntries(g.result));
              } catch {
                // unreadable (loadTuneCache warned when it loaded): replaced
              }
              next = { ...had, ...changed };
              os.put(next, 'entries');
            };
            t.oncomplete = () => resolve(next);
            t.onerror = () => reject(t.error);
          }),
      ),
  };
  return idb;
}

let unreadable: string | null = null;
let replaceable = true;

/** Why the cache failed to load in this process (it then counts as empty), or null: for `tessera info`. */
export function tuneCacheUnreadable(): string | null {
  return unreadable;
}

/** Whether the next save replaces an unreadable cache (false: a folder in the Node cache file's place; the reason says what to do). */
export function tuneCacheReplaceable(): boolean {
  return replaceable;
}

/** Loads the cache once per process (a store that fails to load counts as empty, with a warning). */
export async function loadTuneCache(): Promise<Record<string, TuneEntry>> {
  if (entries) return entries;
  if (!loading) {
    loading = (async () => {
      const s = store ?? browserStore();
      try {
        entries = s ? currentTuneEntries(await s.load()) : {};
      } catch (e) {
        // A cache is only measurements the tuner can redo: say so once, and carry on without it. The
        // next save of tuned choices replaces the file (saves only happen after timing new buckets).
        // (a store that says it cannot be replaced, such as a folder at the Node cache's path: its reason says what to do)
        const why = e instanceof SyntaxError ? notValidJson(e) : visibleText((e as Error).message);
        replaceable = (e as { replaceable?: boolean }).replaceable !== false;
        console.warn(`[tessera] tuning cache ${s?.where} is unreadable, ignoring it${replaceable ? ' (it will be replaced when tuned kernel choices are next saved)' : ''}: ${why}`);
        unreadable = why;
        entries = {};
      }
    })();
  }
  await loading;
  return entries!;
}

/**
 * Writes this process's new choices to the store: merged over what it holds now (TuneStore.merge:
 * two processes tuning at once each keep the other's choices; the file store re-reads under a lock
 * just before its atomic rename), and the in-memory cache gains what others saved. A store without
 * merge gets the whole in-memory map.
 */
async function writeTuneCache(s: TuneStore, all: Record<string, TuneEntry>): Promise<void> {
  if (!s.merge) {
    await s.save(all);
    dirty.clear();
    return;
  }
  const keys = [...dirty];
  const merged = await s.merge(Object.fromEntries(keys.filter((k) => k in all).map((k) => [k, all[k]!])));
  for (const k of keys) dirty.delete(k);
  // a key tuned again while the write was under way stays ours (and dirty)
  for (const [k, v] of Object.entries(merged)) if (!dirty.has(k)) all[k] = v;
}

async function saveTuneCache(): Promise<void> {
  const s = store ?? browserStore();
  if (!s || !entries) return;
  try {
    await writeTuneCache(s, entries);
  } catch (e) {
    console.warn(`[tessera] could not write the tuning cache at ${s.where}: ${(e as Error).message}`);
  }
}

/**
 * Writes the cache to its store now (this process's new choices merged over the stored ones, as
 * every save; an unreadable store is replaced), for `tessera tune`, whose point is the saved
 * choices: unlike the saves after tuning a plan (a warning), a failure throws. No-op without a
 * store or before the cache is loaded.
 * @throws Error `could not write the tuning cache at <where>: <the store's message>`.
 */
export async function saveTuneCacheOrThrow(): Promise<void> {
  const s = store ?? browserStore();
  if (!s || !entries) return;
  try {
    await writeTuneCache(s, entries);
  } catch (e) {
    throw new Error(`could not write the tuning cache at ${s.where}: ${(e as Error).message}`);
  }
}

/** Whether a stored entry has what a TuneEntry holds (a choice name, timings, the shapes and date as text). */
function wellFormed(e: unknown): e is TuneEntry {
  if (!e || typeof e !== 'object') return false;
  const t = e as Partial<Record<keyof TuneEntry, unknown>>;
  const record = (v: unknown) => v === undefined || (!!v && typeof v === 'object' && !Array.isArray(v));
  return typeof t.choice === 'string' && !!t.ms && typeof t.ms === 'object' && !Array.isArray(t.ms) && typeof t.shapes === 'string' && typeof t.date === 'string' && (t.rejected === undefined || Array.isArray(t.rejected)) && record(t.ratio) && record(t.verdict) && record(t.rounds);
}

/** Cached choice for a request, when the cache is loaded and the mode allows it (sync: used while recording). */
export function cachedChoice(gpu: Gpu, family: string, bucket: string): TuneEntry | null {
  if (tuneMode(gpu) === 'off' || !entries) return null;
  const e: unknown = entries[tuneKey(gpu, family, bucket)];
  return wellFormed(e) ? e : null;
}

/**
 * Every cached entry of this adapter (and llvmpipe thread count, tuneAdapterKey): `family|bucket` → entry
 * (for `tessera info`), loading the cache first. Under mode 'off' the cache is still read.
 */
export async function cachedChoices(gpu: Gpu): Promise<Record<string, TuneEntry>> {
  const all = await loadTuneCache();
  const prefix = tuneKey(gpu, '', '').slice(0, -2);
  const out: Record<string, TuneEntry> = {};
  for (const [k, v] of Object.entries(all)) if (k.startsWith(prefix + '|')) out[k.slice(prefix.length + 1)] = v;
  return out;
}

/**
 * This adapter's cached entries under another key detail than the one in effect (another llvmpipe
 * thread count, or none: saved before tessera keyed choices by it), counted per detail ('' for
 * none). A run does not use them. For `tessera info`.
 */
export async function cachedElsewhere(gpu: Gpu): Promise<Record<string, number>> {
  const all = await loadTuneCache();
  const base = `${VERSION}|${gpu.runtime}|${adapterBase(gpu)}`;
  const mine = `${VERSION}|${gpu.runtime}|${tuneAdapterKey(gpu)}|`;
  const out: Record<string, number> = {};
  for (const k of Object.keys(all)) {
    if (!k.startsWith(base) || k.startsWith(mine)) continue;
    const rest = k.slice(base.length);
    const detail = rest.startsWith('|') ? '' : /^ \(([^|]*)\)\|/.exec(rest)?.[1];
    if (detail !== undefined) out[detail] = (out[detail] ?? 0) + 1;
  }
  return out;
}

/** Relative agreement between two candidates' outputs: max |a−b| ≤ atol + rtol·max|b|. */
const AGREE = { f32: { rtol: 1e-3, atol: 1e-4 }, f16: { rtol: 2e-2, atol: 2e-3 } };

function agree(a: Float32Array, b: Float32Array, f16: boolean): { ok: boolean; err: number } {
  const t = f16 ? AGREE.f16 : AGREE.f32;
  let maxB = 0;
  let err = 0;
  for (let i = 0; i < b.length; i++) {
    if (!Number.isFinite(a[i]!) || !Number.isFinite(b[i]!)) return { ok: false, err: Infinity };
    maxB = Math.max(maxB, Math.abs(b[i]!));
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
  }
  return { ok: a.length === b.length && err <= t.atol + t.rtol * maxB, err };
}

/**
 * Candidates in the order of timed round `i` (0-based) of a block: as given, rotated by one more place every
 * round (A B C, B C A, C A B, …), so over a block of as many rounds as candidates each takes each place once.
 */
export function roundOrder<C>(candidates: readonly C[], i: number): C[] {
  const n = candidates.length;
  const k = n === 0 ? 0 : i % n;
  return [...candidates.slice(k), ...candidates.slice(0, k)];
}

/**
 * A candidate replaces the reference (the heuristic) only when it is faster by more than this share: its
 * time over the reference's in the same round, over the rounds, is below 1 − TUNE_MARGIN at the confidence
 * of raceCandidates' rule. Within it the order of two candidates is noise, and a cached choice is reused
 * by every later run, so near-equal candidates keep the heuristic (the same choice on every machine)
 * rather than whichever won a coin toss. On lavapipe, 16 threads: the same GEMM timed twice on a quiet
 * machine, 29.0 and 30.9 ms (bench/RESULTS.md session 14). Under heavy load no margin helps a fixed
 * number of rounds: the same GEMM entered twice, 30 tunings at load 35–43 on 2 cores, 5 rounds, decided
 * by the median paired ratio, was picked over itself in about half of them (log-sd of that ratio 0.24;
 * session 15). raceCandidates adds rounds while the evidence is ambiguous and keeps the heuristic when
 * it still is at TUNE_ROUNDS (session 16).
 */
export const TUNE_MARGIN = 0.05;

/**
 * The most timed rounds per candidate (`tessera tune --rounds`, TuneOptions.rounds): the cap of
 * raceCandidates' sequential rule, which stops earlier once every challenger is ruled on. Twice the 5
 * rounds of the fixed rule before it (session 16): the worst case of a bucket's timing.
 */
export const TUNE_ROUNDS = 10;

/** The most `rounds` (TuneOptions.rounds, `tessera tune --rounds`) accepted: a bucket's worst case stays bounded. */
export const TUNE_ROUNDS_MAX = 50;

/**
 * What is wrong with a `rounds` value (TuneOptions.rounds, `tessera tune --rounds`), as a phrase to follow its
 * name (`must be a whole number between 1 and 50, got NaN`), or null for a whole number 1 … TUNE_ROUNDS_MAX.
 * NaN or Infinity would reach studentTQuantile's RangeError, 1e9 would time for ever.
 */
export function tuneRoundsProblem(v: unknown): string | null {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= TUNE_ROUNDS_MAX) return null;
  return `must be a whole number between 1 and ${TUNE_ROUNDS_MAX}, got ${shown(v)}`;
}

/** @throws InputError `<fn>: rounds must be a whole number between 1 and 50, got …` (undefined: the default, accepted). */
function checkRounds(fn: string, o: TuneOptions): void {
  if (o.rounds === undefined) return;
  const problem = tuneRoundsProblem(o.rounds);
  if (problem) throw new InputError(`${fn}: rounds ${problem}`);
}

/** Paired rounds a challenger needs before raceCandidates rules on it (a mean and a spread of at least 3). */
const MIN_PAIRS = 3;

/**
 * The chance raceCandidates' rule allows of each wrong verdict on one challenger over a whole race: ruling
 * it faster by more than TUNE_MARGIN when it is not (a slower kernel cached for good), or ruling it not
 * faster when it is. Spread evenly over the looks the race can take (Bonferroni, which is loose here: the
 * looks share their rounds). Replayed on 30 recorded races at load 17–25 (bench/RESULTS.md "Session 16"):
 * the same GEMM twice was ruled faster than itself in 1 of 30 at 0.1, 0.2 and 0.4 alike, while a 2× win was
 * found in 26 of 30 at 0.1 and 29 of 30 at 0.2. The rate is per challenger, not across challengers (a bucket
 * with 3 challengers may hold up to 3 such chances), and rounds with no spread at all (equal ratios) decide
 * after 3 pairs.
 */
export const TUNE_ERROR = 0.2;

/** raceCandidates' verdict on a challenger (TuneEntry.verdict). */
export type TuneVerdict = 'faster' | 'not faster' | 'undecided';

/**
 * P(|T| ≤ t) for Student's t with `df` degrees of freedom (a positive integer): the finite series of
 * Abramowitz & Stegun, Handbook of Mathematical Functions (1964), 26.7.3 (odd df) and 26.7.4 (even df),
 * in θ = atan(t / √df).
 */
function studentTAbs(t: number, df: number): number {
  const th = Math.atan(t / Math.sqrt(df));
  const c2 = Math.cos(th) ** 2;
  let sum = 1;
  let term = 1;
  if (df % 2 === 1) {
    if (df === 1) return (2 / Math.PI) * th;
    for (let k = 3; k <= df - 2; k += 2) sum += term *= ((k - 1) / k) * c2;
    return (2 / Math.PI) * (th + Math.sin(th) * Math.cos(th) * sum);
  }
  for (let k = 2; k <= df - 2; k += 2) sum += term *= ((k - 1) / k) * c2;
  return Math.sin(th) * sum;
}

/**
 * The upper `p` quantile of Student's t with `df` degrees of freedom (a positive integer; 0 < p < 0.5):
 * the t with P(T > t) = p, by bisection on studentTAbs (4.303 for p 0.025 and df 2).
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 0.5) || !Number.isInteger(df) || df < 1) throw new RangeError(`studentTQuantile: p in (0, 0.5) and a whole df ≥ 1 expected, got p ${p}, df ${df}`);
  const want = 1 - 2 * p;
  let lo = 0;
  let hi = 1;
  while (studentTAbs(hi, df) < want) hi *= 2;
  for (let i = 0; i < 100 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTAbs(mid, df) < want) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * ln(time / reference's time) for each round both were timed in (index by index; `times` may be the
 * shorter: a challenger that left the race), leaving out rounds where either read no finite time above
 * 0 ms (coarse or quantized timestamps on small work read 0; a damaged reading says nothing either way).
 */
export function pairedLogRatios(ref: readonly number[], times: readonly number[]): number[] {
  const ok = (t: number | undefined): t is number => t !== undefined && Number.isFinite(t) && t > 0;
  const out: number[] = [];
  for (let i = 0; i < Math.min(ref.length, times.length); i++) if (ok(ref[i]) && ok(times[i])) out.push(Math.log(times[i]! / ref[i]!));
  return out;
}

/**
 * The verdict on one challenger from its paired log ratios `d` (pairedLogRatios), at a look of a race
 * that takes at most `looks` looks: with n ≥ 3 ratios of mean m and standard deviation s, the
 * confidence interval m ± t(TUNE_ERROR / looks, n − 1)·s/√n of their mean below ln(1 − TUNE_MARGIN):
 * 'faster'; above it: 'not faster'; else (or with fewer ratios) 'undecided'.
 */
export function judgeChallenger(d: readonly number[], looks: number): TuneVerdict {
  const ci = challengerInterval(d, looks);
  if (!ci) return 'undecided';
  const bar = Math.log(1 - TUNE_MARGIN);
  return ci.mean + ci.half < bar ? 'faster' : ci.mean - ci.half > bar ? 'not faster' : 'undecided';
}

/**
 * judgeChallenger's interval of the mean log ratio: `mean` of `d` and the `half`-width t(TUNE_ERROR / looks, n − 1)·s/√n,
 * or null with fewer than 3 ratios (MIN_PAIRS). As a time ratio (TuneEntry.interval): [exp(mean − half), exp(mean + half)].
 */
export function challengerInterval(d: readonly number[], looks: number): { mean: number; half: number } | null {
  const n = d.length;
  if (n < MIN_PAIRS) return null;
  const mean = d.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { mean, half: (studentTQuantile(TUNE_ERROR / Math.max(1, looks), n - 1) * sd) / Math.sqrt(n) };
}

/** What raceCandidates timed and decided. */
export interface Race {
  /** Each candidate's times (ms), indexed by round; a challenger ruled on left the race, and its array ends there. */
  samples: Map<string, number[]>;
  /** Per challenger (every candidate but the first). */
  verdict: Record<string, TuneVerdict>;
  /** Per candidate, the geometric mean of its paired time ratios to the first's (TuneEntry.ratio): 1 for the first, and for one without a usable round. */
  ratio: Record<string, number>;
  /** Per challenger with 3 or more usable pairs, the time-ratio interval its verdict was read from (TuneEntry.interval). */
  interval: Record<string, [number, number]>;
  /** The challenger ruled 'faster' with the lowest ratio, else the first candidate (the heuristic). */
  choice: string;
}

/**
 * Times `names` (the reference, the heuristic, first) and decides between them by a sequential rule, a
 * race (Maron & Moore, "The racing algorithm: model selection for lazy learners", AI Review 11, 1997):
 *
 * - The rounds come in blocks: a block of the k candidates still racing (the reference and the challengers
 *   not yet ruled on) is k rounds, each timing every one once (`time(name, round)`) in roundOrder's
 *   rotation, so each takes each place in the round once per block, the reference first as often as
 *   any challenger (with 5 rounds of 2 the fixed rule before put it first 3 times).
 * - After each block every challenger still racing is judged on its time over the reference's in the
 *   same rounds (paired: a load change between rounds divides out), in logs (judgeChallenger): a
 *   t-interval of the mean log ratio entirely below ln(1 − TUNE_MARGIN) rules it 'faster', entirely
 *   above rules it 'not faster', and either way it leaves the race; one that straddles the bar races on.
 *   These are repeated confidence intervals (Jennison & Turnbull, "Interim analyses: the repeated
 *   confidence interval approach", JRSS B 51, 1989), made simultaneous over the race's looks by
 *   Bonferroni: each look is taken at level TUNE_ERROR / L, L = maxRounds − 2 bounding the looks with 3
 *   or more pairs, so a verdict is wrong with a chance of at most TUNE_ERROR over the race (for
 *   roughly normal log ratios; a burst that hits one round widens the interval, delaying a verdict
 *   rather than making one).
 * - The race stops when no challenger is left, or when the next block would take a candidate past
 *   `maxRounds` rounds once every challenger still racing has 3 rounds (MIN_PAIRS): blocks run until then
 *   whatever maxRounds is, so any maxRounds ≥ 1 can give a verdict (with 2 candidates and maxRounds 1, 2
 *   or 3, each is timed 4 times; with more candidates than maxRounds, once per candidate). Challengers
 *   still undecided then keep the heuristic.
 *
 * Worst case: every candidate timed max(maxRounds, the first whole blocks to reach 3 rounds) times: 4 with
 * 2 candidates, else as many as the candidates (the check run before is apart).
 * A lone candidate is timed once (its TuneEntry.ms). Rounds read as 0 ms or as no number are left out
 * of the pairs (pairedLogRatios): a challenger with fewer than 3 usable pairs stays undecided.
 */
export async function raceCandidates(names: readonly string[], maxRounds: number, time: (name: string, round: number) => Promise<number>): Promise<Race> {
  const ref = names[0];
  if (ref === undefined) throw new Error('tuning: no candidate to choose from');
  const samples = new Map<string, number[]>(names.map((n) => [n, []]));
  const verdict: Record<string, TuneVerdict> = Object.fromEntries(names.slice(1).map((n) => [n, 'undecided' as TuneVerdict]));
  const looks = Math.max(1, maxRounds - MIN_PAIRS + 1);
  const pairs = (n: string) => pairedLogRatios(samples.get(ref)!, samples.get(n)!);
  const ruled = new Set<string>();
  for (let round = 0; ; ) {
    const racing = names.filter((n) => n === ref || !ruled.has(n));
    // the cap stops the race only once every challenger still racing has MIN_PAIRS rounds (they ran every
    // round so far): with 2 candidates and maxRounds 3 the first block is 2 rounds, and stopping there
    // (2 + 2 > 3) could never rule on anything
    if (round > 0 && (racing.length < 2 || (round >= MIN_PAIRS && round + racing.length > maxRounds))) break;
    for (let j = 0; j < racing.length; j++, round++) for (const n of roundOrder(racing, j)) samples.get(n)![round] = await time(n, round);
    for (const n of racing.slice(1)) {
      verdict[n] = judgeChallenger(pairs(n), looks);
      if (verdict[n] !== 'undecided') ruled.add(n);
    }
  }
  const ratio: Record<string, number> = {};
  for (const n of names) {
    const d = n === ref ? [] : pairs(n);
    ratio[n] = d.length ? Math.exp(d.reduce((a, b) => a + b, 0) / d.length) : 1;
  }
  // a challenger ruled on left the race, so its pairs now are those it was ruled on
  const interval: Record<string, [number, number]> = {};
  for (const n of names.slice(1)) {
    const ci = challengerInterval(pairs(n), looks);
    if (ci) interval[n] = [Math.exp(ci.mean - ci.half), Math.exp(ci.mean + ci.half)];
  }
  const choice = names.slice(1).reduce((best, n) => (verdict[n] === 'faster' && ratio[n]! < ratio[best]! ? n : best), ref);
  return { samples, verdict, ratio, interval, choice };
}

/** Each candidate's figure from its timed rounds (ms): the fastest round (TuneEntry.ms; the choice is raceCandidates'). */
export function fastestRounds(samples: ReadonlyMap<string, readonly number[]>): Record<string, number> {
  const ms: Record<string, number> = {};
  for (const [name, s] of samples) {
    if (s.length === 0) throw new Error(`tuning: candidate ${name} has no timed round`);
    ms[name] = Math.min(...s);
  }
  return ms;
}

/** What tunePlan decided for one shape bucket of a plan. */
export interface TuneReport {
  /** The tuning cache key: version, runtime, adapter (tuneAdapterKey), family and bucket joined by '|'. */
  key: string;
  /** Kernel family, e.g. `gemm`. */
  family: string;
  /** Shape bucket sharing one decision, e.g. `f32 M4096 N2048 K2048`. */
  bucket: string;
  /** The decision: `entry.choice` is the strategy the plan's dispatches of this bucket now run (Dispatch.choice), `entry.ms` each candidate's fastest round, `entry.ratio` what decided. */
  entry: TuneEntry;
  /** True when this run timed it (false: taken from the cache). */
  measured: boolean;
}

/** Options of tunePlan (`tessera tune --rounds --force`). */
export interface TuneOptions {
  /**
   * The most timed rounds per candidate (each round times every candidate still racing once; raceCandidates
   * stops earlier once every challenger is ruled on), a whole number 1 … 50; default TUNE_ROUNDS (10). A
   * challenger is ruled on after 3 rounds at the earliest, and the race always gives each challenger those
   * (in whole blocks of one round per candidate: 4 rounds with 2 candidates, 1 per candidate with more), so
   * below that the rounds run past `rounds`; a challenger not ruled on keeps the heuristic.
   * @throws InputError (tunePlan, tuneRequest) for anything else: NaN, Infinity, 0, 2.5, 1e9.
   */
  rounds?: number;
  /** Re-time buckets that are already cached. */
  force?: boolean;
  /** Keep the choices in the tuning cache (default true); false: this plan only (A/B of kernel sources). */
  save?: boolean;
  /**
   * Told what is being tuned (`tuning gemm …`, `  checking gemm …`); a promise it returns is awaited, and a
   * throw or rejection fails the call, naming onProgress (src/hook.ts).
   */
  onProgress?: Hook<[msg: string]>;
  /**
   * Calls under this many FLOPs are not timed: they keep the heuristic (or a cached choice) and
   * nothing is cached for them. Default 0 (time everything, as `tessera tune` does); the tuning a
   * first run does by itself passes implicitTuneMinFlops().
   */
  minFlops?: number;
  /**
   * GPU bytes tuning may allocate for one call's scratch (every candidate's inputs and output, the
   * read-back of an output and the timing buffers), measured by a dry run before anything is
   * allocated: a call that needs more is not timed (it keeps the heuristic, nothing is cached, and
   * the tuning log says so). Undefined: no limit. A plan's own tuning passes Plan.tuneBudget (what
   * the model's maxMemory leaves).
   */
  maxScratchBytes?: number;
}

/**
 * The GPU bytes tuneRequest allocates for `r` at most: a dry run of every candidate's bench on one
 * allocator (all are live while timed), one output's read-back, and the timing rig of the longest
 * candidate plan (resolve and read-back buffers, with timestamps).
 */
export function tuneScratchBytes(gpu: Gpu, r: TuneRequest): number {
  const dry = new DryAllocator(gpu);
  let out: Tensor | null = null;
  let rig = 0;
  for (const name of r.candidates) {
    const plan = new Plan(gpu, dry);
    plan.tuning = false;
    out = r.bench(plan, name);
    if (gpu.timestamps) rig = Math.max(rig, 2 * resolveOffsets(queryChunks(plan.dispatches.length)).total);
  }
  return dry.peakBytes + (out ? readbackBytes(out) : 0) + rig;
}

const readbackBytes = (t: Tensor): number => Math.max(16, Math.ceil(storageBytes(t.size, t.dtype) / 16) * 16);

/**
 * The floor of the tuning a run does by itself (mode 'auto', before a plan's first run): 2^24 FLOPs.
 * Below it a kernel takes about a millisecond on lavapipe and microseconds on a GPU, while timing its
 * candidates costs seconds of compiling each: of 203 buckets tuned on lavapipe, every one under 2^23
 * FLOPs kept its heuristic or won by noise (bench/RESULTS.md "Session 9"), and the embedded model's
 * first demo spent most of its minutes there. `tessera tune` times every bucket it is given.
 * TESSERA_TUNE_MIN_FLOPS (a number ≥ 0) replaces it.
 */
export const TUNE_MIN_FLOPS = 2 ** 24;

/**
 * TESSERA_TUNE_MIN_FLOPS (a finite decimal number ≥ 0: 0, 16777216, 1e7), or TUNE_MIN_FLOPS when it is unset or empty.
 * @throws TuneEnvError for any other value (abc, -1, Infinity; 0x10, 0b11, +5: Number() would read those as another value).
 */
export function implicitTuneMinFlops(): number {
  const env = envValue('TESSERA_TUNE_MIN_FLOPS');
  if (env === undefined) return TUNE_MIN_FLOPS;
  // decimal only (parseDecimal, as the CLI's number flags): a typo such as 0x10 is refused, not read as 16
  const v = parseDecimal(env, false) ?? NaN;
  if (!Number.isFinite(v) || v < 0) throw new TuneEnvError(`TESSERA_TUNE_MIN_FLOPS: ${JSON.stringify(env)} is not a number of FLOPs; expected a number ≥ 0 such as 0 or 1e7 (unset: 2^24 = ${TUNE_MIN_FLOPS})`);
  return v;
}

/** A call tuneRequest did not time because its scratch would exceed TuneOptions.maxScratchBytes (nothing was allocated). */
class TuneScratchError extends Error {
  override name = 'TuneScratchError';
}

/**
 * Time the candidates of one request on scratch inputs and return the entry (not stored).
 * Each candidate runs once and is compared with the first candidate's output; one that
 * disagrees (or is not finite) is rejected and never chosen. Then interleaved rounds, as many as
 * raceCandidates' sequential rule needs (at most `o.rounds`, TUNE_ROUNDS), decided by each challenger's
 * time ratios to the reference's in the same rounds.
 */
export async function tuneRequest(gpu: Gpu, r: TuneRequest, o: TuneOptions = {}): Promise<TuneEntry> {
  checkRounds('tuneRequest', o);
  if (o.maxScratchBytes !== undefined) {
    const need = tuneScratchBytes(gpu, r);
    if (need > o.maxScratchBytes) throw new TuneScratchError(`its scratch needs ${fmtBytes(need)}, above the ${fmtBytes(Math.max(0, o.maxScratchBytes))} the budget (maxMemory) leaves`);
  }
  const alloc = new Allocator(gpu);
  try {
    const plans = r.candidates.map((name) => {
      const plan = new Plan(gpu, alloc);
      plan.tuning = false;
      const out = r.bench(plan, name);
      return { name, plan, out };
    });
    const f16 = plans[0]!.out.dtype === 'f16';
    let ref: Float32Array | null = null;
    const ok: typeof plans = [];
    const rejected: string[] = [];
    for (const c of plans) {
      await callHook('onProgress', 'tuneRequest', o.onProgress, `  checking ${r.family} ${c.name}`);
      await c.plan.run(`tuning ${r.family} ${r.bucket} ${c.name}`);
      // a staging buffer of the tuning allocator, freed at once: one read-back live at a time (tuneScratchBytes counts one)
      const got = await readTensor(gpu, c.out, { staging: alloc });
      if (!ref) {
        if (!agree(got, got, f16).ok) throw new Error(`tuning ${r.family} ${r.bucket}: the reference candidate ${c.name} produced non-finite values`);
        ref = got;
        ok.push(c);
        continue;
      }
      const a = agree(got, ref, f16);
      if (a.ok) ok.push(c);
      else {
        rejected.push(c.name);
        console.warn(`[tessera] tuning ${r.family} ${r.bucket}: candidate ${c.name} disagrees with ${plans[0]!.name} (max |diff| ${a.err}); not used`);
      }
    }
    // Interleaved rounds (raceCandidates), each challenger judged by its time over the reference's in the
    // same rounds: on a shared machine the load changes from one run to the next, and the fastest round
    // of each (the rule before session 15) compared one candidate's luckiest run with another's, taken in
    // other rounds. Rounds are added while a challenger's evidence straddles the margin, up to the cap
    // (a fixed 5 rounds picked the same GEMM over itself in about half of 30 tunings at load 35–43; see
    // TUNE_MARGIN). The check run above was each candidate's first (a CPU driver compiles its pipelines
    // then), so no round holds a compile.
    // Each candidate's rounds wait through one Pace, as Plan.run's runs do: with a Pace per round
    // (profilePlan's default) no wait ever slept, and Dawn's busy wait took a core from lavapipe's
    // threads in every timed round. A Pace learns from its second run on: rounds 3 … are paced, alike
    // for every candidate.
    const byName = new Map(ok.map((c) => [c.name, { plan: c.plan, pace: new Pace() }]));
    const race = await raceCandidates(
      ok.map((c) => c.name),
      o.rounds ?? TUNE_ROUNDS,
      async (name) => {
        const c = byName.get(name)!;
        return (await profilePlan(c.plan, { repeats: 1, warmup: 0, pace: c.pace })).totalMs;
      },
    );
    const d = plans[0]!.plan.dispatches[plans[0]!.plan.dispatches.length - 1]!;
    const rounds = Object.fromEntries([...race.samples].map(([n, s]) => [n, s.length]));
    const verdict = Object.keys(race.verdict).length ? { verdict: race.verdict } : {};
    const interval = Object.keys(race.interval).length ? { interval: race.interval } : {};
    return { choice: race.choice, ms: fastestRounds(race.samples), ratio: race.ratio, ...verdict, ...interval, rounds, ...(rejected.length ? { rejected } : {}), shapes: d.shapes, date: new Date().toISOString() };
  } finally {
    alloc.destroyAll();
  }
}

/**
 * Settle the tuned calls of `plan` (see the module comment), re-recording dispatches whose choice
 * changed. Returns what was decided, per distinct bucket (the choice of each is `entry.choice`, what
 * the plan's dispatches of that bucket now run). Its 'tune' KernelEvents (watchKernels) say
 * `explicit: true`. What `tessera tune` does, from a script: on a freshly recorded plan (a
 * workload's, or a model's planFor) before its first run, which would otherwise settle them itself
 * (with TESSERA_TUNE_MIN_FLOPS' floor). On a plan that already ran (a model's plan of a shape after a
 * forward() or generate() of it: planFor returns the plan the model keeps per shape) it tunes
 * all the same: its tuned calls were remembered when its first run settled them, so they are settled
 * again (cached choices applied; in 'auto' what is not cached timed, such as calls under the first
 * run's floor; every bucket with `force`) and the dispatches re-recorded, which the plan's next run
 * uses. During a run of the plan (plan.run() not settled) it is refused with an InputError. A plan without tuned calls returns [].
 * Follows the device's tuning mode (tuneMode): 'off' returns [] and times nothing, 'cached' applies
 * cached choices only, 'auto' times what is not cached (every bucket with `force`). `rounds`: the most
 * timed rounds per candidate (raceCandidates); `save: false` keeps the choices out of the cache.
 * @throws DisposedError (one line naming the plan, and to record it again) for a plan whose buffers
 *   were freed (a model's dispose(), resetPlans() or maxPlans eviction, a workload's destroy());
 *   TuneEnvError when TESSERA_TUNE decides the mode and holds another value; GpuError when the
 *   device is lost while timing (a candidate that fails otherwise keeps the heuristic, with a warning).
 */
export async function tunePlan(plan: Plan, o: TuneOptions = {}): Promise<TuneReport[]> {
  plan.checkLive('tunePlan');
  checkRounds('tunePlan', o);
  // re-recording its dispatches under a run would change what that run encodes, and timing beside it would time both
  if (plan.runsInFlight > 0) throw new InputError(`tunePlan: ${plan.name !== undefined ? `plan "${plan.name}"` : 'the plan'} has a run in flight (plan.run() not settled): await it, then tune`);
  return settlePlan(plan, o, true);
}

type TuneSite = ReturnType<Plan['takeTunables']>[number];

/**
 * Every tuned call of a plan handed over so far (Plan.takeTunables hands each over once), with the
 * choice it now runs (`chosen`): what tunePlan settles again on a plan that already ran. Weak: dropped
 * with the plan.
 */
const settledSites = new WeakMap<Plan, TuneSite[]>();

/** tunePlan; `explicit` false for the tuning a run does by itself (the plan's tune hook: its new calls only). */
async function settlePlan(plan: Plan, o: TuneOptions, explicit: boolean): Promise<TuneReport[]> {
  const fresh = plan.takeTunables();
  const known = settledSites.get(plan) ?? [];
  if (fresh.length) settledSites.set(plan, [...known, ...fresh]);
  const pending = explicit ? [...known, ...fresh] : fresh;
  const mode = tuneMode(plan.gpu);
  if (mode === 'off' || pending.length === 0) return [];
  const all = await loadTuneCache();
  const reports = new Map<string, TuneReport>();
  const failed = new Set<string>();
  let changed = false;
  // the cached entry a site may use as is (none with `force`, when its choice is not a candidate here,
  // or when it is damaged: a hand-edited file's entry without timings is re-timed, not reported as is)
  const usable = (site: (typeof pending)[number]): TuneEntry | undefined => {
    const entry: unknown = o.force ? undefined : all[tuneKey(plan.gpu, site.family, site.bucket)];
    return wellFormed(entry) && site.candidates.includes(entry.choice) ? entry : undefined;
  };
  const worthTiming = (site: (typeof pending)[number]) => site.candidates.length >= 2 && site.flops >= (o.minFlops ?? 0);
  const toTime = mode === 'auto' ? new Set(pending.filter((site) => worthTiming(site) && !usable(site)).map((site) => tuneKey(plan.gpu, site.family, site.bucket))) : new Set<string>();
  // onProgress through callHook (awaited; a failure fails the call naming it), and recognised when it fails inside tuneRequest
  let hookFailure: { e: unknown } | undefined;
  const progress = async (msg: string) => {
    try {
      await callHook('onProgress', 'tunePlan', o.onProgress, msg);
    } catch (e) {
      hookFailure = { e };
      throw e;
    }
  };
  const hooked: TuneOptions = { ...o, onProgress: o.onProgress && progress };
  // 'tune' KernelEvents for the device's watchers (watchKernels): as each bucket's timing starts, and after the last
  let timed = 0;
  const tell = (site: (typeof pending)[number]) => emitKernelEvent(plan.gpu.device, { type: 'tune', family: site.family, bucket: site.bucket, candidates: [...site.candidates], done: timed, total: toTime.size, where: tuneStoreWhere(), explicit });
  for (const site of pending) {
    const key = tuneKey(plan.gpu, site.family, site.bucket);
    if (failed.has(key)) continue;
    let rep = reports.get(key);
    if (!rep) {
      let entry = usable(site);
      let measured = false;
      if (!entry) {
        if (mode !== 'auto' || !worthTiming(site)) continue;
        await progress(`tuning ${site.family} ${site.bucket}: ${site.candidates.join(', ')}`);
        tell(site);
        try {
          entry = await tuneRequest(plan.gpu, site, hooked);
        } catch (e) {
          // Tuning is an optimisation: a failure (scratch inputs too large, a candidate that does
          // not compile) keeps the heuristic for this plan and caches nothing. A failed onProgress
          // fails the call (the callback contract), as a lost device does.
          if (plan.gpu.lost || (hookFailure && e === hookFailure.e)) throw e;
          const what = e instanceof TuneScratchError ? 'skipped' : 'failed';
          console.warn(`[tessera] tuning ${site.family} ${site.bucket} ${what}, keeping the heuristic ${site.heuristic}: ${(e as Error).message}`);
          failed.add(key);
          if (++timed === toTime.size) tell(site);
          continue;
        }
        if (++timed === toTime.size) tell(site);
        if (o.save !== false) {
          all[key] = entry;
          dirty.add(key);
          changed = true;
        }
        measured = true;
      }
      rep = { key, family: site.family, bucket: site.bucket, entry, measured };
      reports.set(key, rep);
    }
    if (rep.entry.choice !== site.chosen) {
      plan.replace(site.index, site.args(rep.entry.choice), rep.entry.choice);
      site.chosen = rep.entry.choice;
    }
  }
  if (changed) await saveTuneCache();
  return [...reports.values()];
}

/**
 * The options of the tuning a run does by itself (the plan's tune hook), for callers that settle a
 * plan's tuning apart (bench model) with the same limits: minFlops implicitTuneMinFlops() under
 * TESSERA_TUNE auto (else 0), and maxScratchBytes Plan.tuneBudget (what the model's maxMemory
 * leaves; no limit when unset).
 * @throws TuneEnvError for a bad TESSERA_TUNE_MIN_FLOPS.
 */
export function implicitTuneOptions(plan: Plan): TuneOptions {
  return { minFlops: tuneMode(plan.gpu) === 'auto' ? implicitTuneMinFlops() : 0, ...(plan.tuneBudget !== undefined ? { maxScratchBytes: plan.tuneBudget } : {}) };
}

setTuneHook({ cached: (gpu, family, bucket) => cachedChoice(gpu, family, bucket)?.choice ?? null, tune: (plan) => settlePlan(plan, implicitTuneOptions(plan), false).then(() => undefined) });
