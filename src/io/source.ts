// Where bytes come from: random-access byte sources and folders of files, the same API in
// Node and the browser. No Node imports here (node-source.ts has the fs-backed ones).

/** Random access to one file's bytes. `read` returns exactly `length` bytes or throws. */
export interface ByteSource {
  /** The file as messages name it (a path, a URL, a File's name). */
  name: string;
  /** Its length in bytes. */
  size: number;
  /** `length` bytes from byte `offset`. tessera's sources throw RangeError when [offset, offset + length) is not inside [0, size) or either is not a safe integer ≥ 0, and their own errors (I/O, HTTP). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases the file (a descriptor on disk); nothing to do for HTTP and Blobs. */
  close?(): Promise<void>;
}

/**
 * A file that is there but cannot be read as one: a folder in its place, no permission, a path
 * through a file. `reason` says which in words (`is a folder, not a file`); the message is `FILE: reason`.
 * Loaders rethrow it as their own error kind for that file (ModelFolderError for a model folder's; readTextAs).
 */
export class FileAccessError extends Error {
  override name = 'FileAccessError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_FILE_ACCESS';
  constructor(
    /** The path as the folder names it (`folder/rel`). */
    readonly file: string,
    /** What is wrong, in words (`is a folder, not a file`, `cannot be read: permission denied (EACCES)`). */
    readonly reason: string,
    /** The errno code where there is one (EISDIR, EACCES, …); `code` is the class's. */
    readonly errno?: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}`, options);
  }
}

/** A folder of files addressed by relative path (`config.json`, shard names). */
export interface FolderSource {
  /** The folder as the user gave it (path or URL): messages name files as `name/rel`. */
  name: string;
  /** The file as UTF-8 text, or null when it does not exist. @throws FileAccessError when it is there but cannot be read (a folder, no permission). */
  readText(rel: string): Promise<string | null>;
  /** Throws when the file does not exist (disk: the ENOENT error); FileAccessError when it is there but cannot be read. */
  open(rel: string): Promise<ByteSource>;
  /**
   * The file names directly in the folder (or in its subfolder `dir`), where the source can list
   * them (disk, File maps; not HTTP).
   */
  list?(dir?: string): Promise<string[]>;
}

/** The folder's name as given, without trailing slashes: what errors put before a file's relative path. */
export const folderRoot = (folder: Pick<FolderSource, 'name'>): string => folder.name.replace(/\/+$/, '');

/** `folder/rel` as errors name it: folderRoot, then `rel`. */
export const folderFile = (folder: Pick<FolderSource, 'name'>, rel: string): string => `${folderRoot(folder)}/${rel}`;

/**
 * `folder.readText(rel)` for a loader that names a file that is there but cannot be read (a folder in its place,
 * no permission) as it names a missing one: that FileAccessError is rethrown as `asOwn(file, e)`, the loader's own
 * error kind, where `file` is `folder/rel` (the folder's name without trailing slashes); other errors pass unchanged.
 * @returns the text, or null when the file does not exist.
 */
export async function readTextAs(folder: FolderSource, rel: string, asOwn: (file: string, e: FileAccessError) => Error): Promise<string | null> {
  try {
    return await folder.readText(rel);
  } catch (e) {
    throw e instanceof FileAccessError ? asOwn(folderFile(folder, rel), e) : e;
  }
}

/**
 * The file names directly in `folder` (its `list`), or null where it cannot say: a source without
 * `list` (plain HTTP), or a listing that fails (e.g. no such directory). `ifFailed`: what a failed
 * listing gives instead of null (the tokenizer's message counts a folder it cannot list as empty).
 */
export async function listedFiles(folder: FolderSource, ifFailed: string[] | null = null): Promise<string[] | null> {
  return folder.list ? folder.list().catch(() => ifFailed) : null;
}

/** Bounds check shared by all sources: a read must lie inside [0, size). */
export function checkRange(name: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new RangeError(`${name}: read of ${length} bytes at offset ${offset} is outside the file (${size} bytes)`);
  }
}

/** The files of `sub/` inside `folder`, as a folder of their own. */
export function subFolder(folder: FolderSource, sub: string): FolderSource {
  checkRelPath(folder.name, sub);
  return {
    name: folderFile(folder, sub),
    readText: async (rel: string) => {
      checkRelPath(`${folder.name}/${sub}`, rel);
      return folder.readText(`${sub}/${rel}`);
    },
    open: async (rel: string): Promise<ByteSource> => {
      checkRelPath(`${folder.name}/${sub}`, rel);
      return folder.open(`${sub}/${rel}`);
    },
    ...(folder.list ? { list: async (dir?: string) => folder.list!(dir ? `${sub}/${dir}` : sub) } : {}),
  };
}

/**
 * Relative paths inside a folder: no absolute paths, no `..`, no empty segments, no
 * backslashes. Shard names come from an untrusted index file, so they must not escape it.
 */
export function checkRelPath(folder: string, rel: string): void {
  const bad =
    rel.length === 0 ||
    rel.startsWith('/') ||
    rel.includes('\\') ||
    rel.includes('\0') ||
    /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(rel) ||
    rel.split('/').some((seg) => seg === '' || seg === '.' || seg === '..');
  if (bad) throw new Error(`${folder}: ${JSON.stringify(rel)} is not a plain relative path inside the folder`);
}

/** In-memory source. Reads return copies, so callers may not alias the caller's data. */
export function bytesSource(name: string, data: Uint8Array): ByteSource {
  return {
    name,
    size: data.byteLength,
    async read(offset, length) {
      checkRange(name, data.byteLength, offset, length);
      return data.slice(offset, offset + length);
    },
  };
}

/** Browser File / Blob (also Node's Blob): each read is one `blob.slice`. */
export function blobSource(name: string, blob: Blob): ByteSource {
  return {
    name,
    size: blob.size,
    async read(offset, length) {
      checkRange(name, blob.size, offset, length);
      const buf = await blob.slice(offset, offset + length).arrayBuffer();
      if (buf.byteLength !== length) throw new Error(`${name}: short read (${buf.byteLength} of ${length} bytes at offset ${offset})`);
      return new Uint8Array(buf);
    },
  };
}

/** Total size from a `Content-Range: bytes a-b/total` header, or null. */
function totalFromContentRange(v: string | null): number | null {
  const m = v ? /\/(\d+)\s*$/.exec(v) : null;
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * An HTTP answer that is an HTML page where a data file was asked for: what single-page-app servers
 * (Vite's dev server and preview, many static hosts) send with status 200 for a path they do not have.
 */
export class HtmlAnswerError extends Error {
  override name = 'HtmlAnswerError';
  /** Stable, for a switch (the README's error table). */
  readonly code: string = 'ERR_HTML_ANSWER';
  /** @param url the URL answered with HTML. */
  constructor(readonly url: string) {
    super(
      `${url}: the server answered with an HTML page (content-type text/html), as single-page-app fallbacks do for missing files: ` +
        'no such file is served at this URL (check the folder URL; with Vite, put the model folder under public/ and load it by its URL)',
    );
  }
}

/**
 * A request over HTTP that got no answer: it failed before any HTTP status (no server, wrong host or port, offline,
 * from a page a CORS refusal), or the connection dropped during a range read after the server had answered for the
 * file. The message names the URL and the likely causes; `cause` is fetch's TypeError. name 'NetworkError', code
 * 'ERR_NETWORK' (the README's error table). An HTTP answer that is an error (404, 500) is not one of these.
 */
export class NetworkError extends Error {
  override name = 'NetworkError';
  /** Stable, for a switch (the README's error table). */
  readonly code: string = 'ERR_NETWORK';
  /** @param url the URL requested; @param message the whole line (naming the URL). */
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Files tessera reads over HTTP (weights, JSON, tokenizer models): never legitimately HTML. */
const DATA_FILE = /\.(json|safetensors|model)$/i;

/** Whether `res` is an HTML page standing in for data file `url`. */
function isHtmlAnswer(url: string, res: Response): boolean {
  const type = res.headers.get('content-type') ?? '';
  return /^\s*text\/html\b/i.test(type) && DATA_FILE.test(new URL(url, 'http://x/').pathname);
}

/**
 * `fetch(url, init)`, where a request that fails before any HTTP answer (the browser's `TypeError:
 * Failed to fetch`, Node's `fetch failed`: no server, no network, a CORS refusal) is one error naming
 * the URL and the likely causes, since browsers tell the page nothing more (the reason goes to the
 * console only). `during`: the range request of a file whose server already answered (HEAD), where
 * neither an unreachable server nor CORS is the likely cause. Other errors (an abort) pass unchanged.
 * @throws Error `<url>: not a valid URL …` (checked before any request: fetch's TypeError would read as a network failure);
 *   NetworkError `<url>: the request failed before any HTTP answer (<what fetch said>): …`;
 *   NetworkError `<url>: the connection failed during <during> (<what fetch said>) …`.
 */
async function fetchNamed(url: string, init?: RequestInit, during?: string): Promise<Response> {
  // relative URLs resolve against the page (or worker) where there is one, as fetch resolves them
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    new URL(url, page);
  } catch {
    throw new Error(`${url}: not a valid URL (${page === undefined ? 'an absolute http:// or https:// URL is needed here' : 'fetch cannot parse it'})`);
  }
  try {
    return await fetch(url, init);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    // Node (undici) puts the reason (ECONNREFUSED, ENOTFOUND) in `cause`
    const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
    const reason = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
    const said = [e.message, reason].filter((x) => x !== '').join(': ');
    if (during !== undefined) {
      throw new NetworkError(url, `${url}: the connection failed during ${during} (${said}), after the server had answered for this file: it went away or the network dropped; try again`, { cause: e });
    }
    throw new NetworkError(
      url,
      `${url}: the request failed before any HTTP answer (${said}): the server is not reachable (not running, wrong host or port, offline), ` +
        'or, from a web page, it is on another origin and sends no CORS header (Access-Control-Allow-Origin) for this page',
      { cause: e },
    );
  }
}

/**
 * Reads `res`'s body to its end (it is small or empty: a HEAD answer, a one-byte range probe). Chromium ends the
 * request of a Response whose body is never read to its end as cancelled (a `net::ERR_ABORTED` request failure, a
 * red "(canceled)" row in DevTools), even a HEAD answer's, whose body is empty but not null there; `body.cancel()`
 * is logged the same way. A failure here is ignored: the headers were what was wanted.
 */
async function drain(res: Response): Promise<void> {
  await res.arrayBuffer().catch(() => undefined);
}

/** What a Range request answered with the whole file (HTTP 200) means, with servers that do answer them. */
const RANGE_SERVERS = 'the server must answer HTTP Range requests with 206 Partial Content: `npx http-server`, Vite and common CDNs do; Python\'s `python -m http.server` does not';

/**
 * A file over HTTP read with Range requests. The size comes from HEAD (Content-Length),
 * or, where HEAD gives none (some CDNs, or compressed responses), from a one-byte range GET.
 * The URL that request was redirected to (the Hugging Face Hub's `resolve/` answers 302 to its CDN) is
 * kept and the range reads go there directly; one the target refuses (HTTP 403/404/410: a signed
 * CDN URL that expired) is asked for again through `url`, whose new target is kept.
 * @throws Error naming the URL for HTTP 404 or another failed status, a server without sizes or Range
 *   support (a Range request answered with the whole file, as `python -m http.server` does), a `url` fetch
 *   cannot parse (`not a valid URL`, before any request); NetworkError for a request that fails before any HTTP
 *   answer (server unreachable, CORS) or a read whose connection fails after HEAD answered; HtmlAnswerError when a
 *   `.json` / `.safetensors` / `.model` URL is answered with an HTML page.
 */
export async function httpSource(url: string): Promise<ByteSource> {
  let size: number | null = null;
  const head = await fetchNamed(url, { method: 'HEAD' });
  await drain(head);
  // where the redirects led (Response.url; empty for a synthetic Response)
  let target = head.url || url;
  if (head.status === 404) throw new Error(`${url}: not found (HTTP 404)`);
  if (head.ok && isHtmlAnswer(url, head)) throw new HtmlAnswerError(url);
  if (head.ok && !head.headers.get('content-encoding')) {
    const len = head.headers.get('content-length');
    if (len !== null && /^\d+$/.test(len.trim())) size = Number(len);
  }
  if (size === null || !Number.isSafeInteger(size)) {
    const probe = await fetchNamed(url, { headers: { Range: 'bytes=0-0' } });
    target = probe.url || url;
    if (probe.ok && isHtmlAnswer(url, probe)) {
      await probe.body?.cancel();
      throw new HtmlAnswerError(url);
    }
    if (!probe.ok) throw new Error(`${url}: HTTP ${probe.status} ${probe.statusText}`);
    size = probe.status === 206 ? totalFromContentRange(probe.headers.get('content-range')) : null;
    // one byte: read, not cancelled (logged as a failed request); a 200 (the whole file) is cancelled
    if (probe.status === 206) await drain(probe);
    else await probe.body?.cancel();
    if (size === null) throw new Error(`${url}: server does not report the file size (no Content-Length on HEAD, no Content-Range on a range request)`);
  }
  const total = size;
  return {
    name: url,
    size: total,
    async read(offset, length) {
      checkRange(url, total, offset, length);
      if (length === 0) return new Uint8Array(0);
      const range = { headers: { Range: `bytes=${offset}-${offset + length - 1}` } };
      const during = `a range request (bytes ${offset}-${offset + length - 1})`;
      let res = await fetchNamed(target, range, during);
      if (target !== url && [403, 404, 410].includes(res.status)) {
        // the kept redirect target expired: through the file's own URL again
        await res.body?.cancel();
        res = await fetchNamed(url, range, during);
        target = res.url || url;
      }
      if (res.status !== 206 && !(res.status === 200 && offset === 0 && length === total)) {
        await res.body?.cancel();
        const why = res.status === 200 ? ` with the whole file (${RANGE_SERVERS})` : ` ${res.statusText}`.trimEnd();
        throw new Error(`${url}: range request bytes ${offset}-${offset + length - 1} answered HTTP ${res.status}${why}`);
      }
      const buf = new Uint8Array(await res.arrayBuffer());
      if (buf.byteLength !== length) throw new Error(`${url}: range request returned ${buf.byteLength} bytes, expected ${length}`);
      return buf;
    },
  };
}

/** The names directly in folder `dir` (or the top) among relative paths `paths`. */
function filesIn(paths: Iterable<string>, dir?: string): string[] {
  const pre = dir ? `${dir.replace(/\/+$/, '')}/` : '';
  return [...paths].filter((k) => k.startsWith(pre) && !k.slice(pre.length).includes('/')).map((k) => k.slice(pre.length));
}

/** Files the loaders ask for that may legitimately be absent: shard indexes, tokenizer_config.json. */
const OPTIONAL_FILE = /(^|\/)([^/]+\.index(\.[A-Za-z0-9_-]+)?\.json|tokenizer_config\.json)$/;

/** Options of httpFolder. */
export interface HttpFolderOptions {
  /**
   * The folder's files, as relative paths (`model_index.json`, `transformer/config.json`, …). Given,
   * the folder makes no request for a file not listed (reads of optional files such as shard indexes
   * answer "missing" at once, so the browser logs no 404s), and it can `list` its files.
   */
  files?: readonly string[];
}

/**
 * A model folder served over HTTP (`baseUrl/config.json`, `baseUrl/<shard>`). `readText` answers null
 * (missing) for HTTP 404, and for an HTML page (content-type text/html) served in place of an optional
 * file such as a shard index; an HTML page in place of any other `.json` / `.safetensors` / `.model`
 * file is an HtmlAnswerError, since single-page-app servers answer missing files with their index.html.
 * Without `files`, loaders probe for optional files, and each absent one is a failed request (the
 * browser logs it as a 404).
 * @throws Error (from `open`, `readText`) naming the URL and the HTTP status, or, for a request that
 *   fails before any HTTP answer, NetworkError naming the likely causes (server unreachable, no CORS header); HtmlAnswerError.
 *   At once: Error for an entry of `files` that is not a plain relative path (as for any `rel` later: no `..`,
 *   no leading `/`, no backslash, no URL scheme).
 */
export function httpFolder(baseUrl: string, opts: HttpFolderOptions = {}): FolderSource {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  const url = (rel: string) => {
    checkRelPath(base, rel);
    return base + rel.split('/').map(encodeURIComponent).join('/');
  };
  const files = opts.files ? [...opts.files] : null;
  if (files) for (const f of files) checkRelPath(`${base} (files)`, f);
  const listed = files ? new Set(files) : null;
  return {
    name: base,
    async readText(rel) {
      const u = url(rel);
      if (listed && !listed.has(rel)) return null;
      const res = await fetchNamed(u);
      if (res.status === 404) {
        await res.body?.cancel();
        return null;
      }
      if (!res.ok) throw new Error(`${u}: HTTP ${res.status} ${res.statusText}`);
      if (isHtmlAnswer(u, res)) {
        await res.body?.cancel();
        if (OPTIONAL_FILE.test(rel)) return null;
        throw new HtmlAnswerError(u);
      }
      return new TextDecoder('utf-8').decode(await res.arrayBuffer());
    },
    async open(rel) {
      const u = url(rel);
      if (listed && !listed.has(rel)) throw new Error(`${u}: not found (not in the folder's file list)`);
      return httpSource(u);
    },
    ...(files
      ? {
          list: async (dir?: string) => filesIn(files, dir),
        }
      : {}),
  };
}

/** A folder held in memory or picked in the browser (e.g. `<input webkitdirectory>` files by relative path). */
export function mapFolder(name: string, files: Map<string, Uint8Array | Blob>): FolderSource {
  const get = (rel: string) => {
    checkRelPath(name, rel);
    return files.get(rel);
  };
  return {
    name,
    async readText(rel) {
      const f = get(rel);
      if (f === undefined) return null;
      return new TextDecoder('utf-8').decode(f instanceof Uint8Array ? f : await f.arrayBuffer());
    },
    async open(rel) {
      const f = get(rel);
      if (f === undefined) throw new Error(`${name}/${rel}: no such file`);
      return f instanceof Uint8Array ? bytesSource(`${name}/${rel}`, f) : blobSource(`${name}/${rel}`, f);
    },
    list: async (dir?: string) => filesIn(files.keys(), dir),
  };
}
