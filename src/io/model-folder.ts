// A diffusers model folder: config.json plus one safetensors file or an index of shards.
// Only headers are read on open; tensors are read one at a time by byte range later.
import { componentKind } from './component-kind.js';
import { isObject, notValidJson, parsePythonJson } from './json.js';
import { readSafetensorsHeader, readTensorF32, type TensorInfo } from './safetensors.js';
import type { ByteSource, FolderSource } from './source.js';
import { checkRelPath, FileAccessError, folderFile, folderRoot, HtmlAnswerError, listedFiles, readTextAs } from './source.js';

/** A model folder tessera cannot open: config.json missing or not JSON, shard index problems, a variant-only folder without `variant`; the message names the file. */
export class ModelFolderError extends Error {
  override name = 'ModelFolderError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_MODEL_FOLDER';
  /** The message without the file (and tensor) prefix. */
  readonly detail: string;
  constructor(
    message: string,
    /** The file (folder/relative path) the problem is in. */
    readonly file: string,
    /** The tensor at fault, when one is. */
    readonly tensor?: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${tensor !== undefined ? `tensor ${JSON.stringify(tensor)}: ` : ''}${message}`, options);
    this.detail = message;
  }
}

/** What a weight variant may be (`fp16`, `bf16`, …): a plain name, so `X.<variant>.safetensors` stays a file in the folder. */
export const VARIANT_NAME = /^[A-Za-z0-9_-]+$/;

/** An opened diffusers model folder: its config.json and the index of its safetensors tensors (read on demand). */
export interface ModelFolder {
  /** The folder as the user gave it (path or URL): messages name files under it. */
  name: string;
  /** config.json, parsed. */
  config: Record<string, unknown>;
  /** Every tensor; `info.file` is the shard's path relative to the folder (what `source` takes). */
  tensors: Map<string, TensorInfo>;
  /** Relative paths of the safetensors files, in index order. */
  shards: string[];
  /** `__metadata__` of each shard, by relative path. */
  metadata: Map<string, Record<string, string>>;
  /**
   * The open byte source of shard `file` (one of `shards`), opened again when release() closed it.
   * @throws ModelFolderError for another name, after close(), or when a released shard cannot be opened again or
   *   changed size since the folder was opened.
   */
  source(file: string): Promise<ByteSource>;
  /** Tensor `name` as f32 (F16/BF16 widened), read by byte range from its shard. @throws ModelFolderError for an unknown name; SafetensorsError for unreadable data. */
  readF32(name: string): Promise<Float32Array>;
  /** Closes every shard's source; later reads throw ModelFolderError. */
  close(): Promise<void>;
  /**
   * Closes every shard's source that holds a file handle (a ByteSource with close(): files on disk) but keeps the
   * folder usable: the next read of such a shard opens it again (one open), refusing one whose size changed. Sources
   * with nothing to free (HTTP, Blob, in memory) are kept: opening one again would cost a request (over HTTP a HEAD)
   * for nothing. For holders that read now and then (the text encoder's embedding rows): no handle stays open
   * between their calls. Optional for ModelFolders not made by openModelFolder.
   */
  release?(): Promise<void>;
}

/** `folder/config.json` (the folder as the user gave it): where a ConfigError points. */
export const configPath = (folder: Pick<ModelFolder, 'name'>): string => folderFile(folder, 'config.json');

/** The safetensors file (`folder/shard`) that holds tensor `key`, for errors about its values; the folder when the key is unknown. */
export function tensorPath(folder: Pick<ModelFolder, 'name' | 'tensors'>, key: string): string {
  const file = folder.tensors.get(key)?.file;
  return file === undefined ? folder.name : folderFile(folder, file);
}


/** The variant a weights file name carries: `X.fp16.safetensors`, `X.fp16-00001-of-00002.safetensors`, `X.safetensors.index.fp16.json`, `X.fp16.safetensors.index.json`. */
export function variantOf(file: string, base: string): string | null {
  const esc = base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m =
    new RegExp(`^${esc}\\.([A-Za-z0-9_-]+?)(?:-\\d+-of-\\d+)?\\.safetensors(?:\\.index\\.json)?$`).exec(file) ??
    new RegExp(`^${esc}\\.safetensors\\.index\\.([A-Za-z0-9_-]+)\\.json$`).exec(file);
  return m ? m[1]! : null;
}

/**
 * The library call that loads a folder of this kind, for hints: loadVae for a VAE (diffusers' Autoencoder*
 * classes), loadTextEncoder for a transformers text encoder, loadModel otherwise. loadPipeline names itself
 * instead (pipelineVariantHint).
 */
function loaderCall(config: Record<string, unknown>, hf: boolean): string {
  if (hf) return 'loadTextEncoder(folders';
  return /^Autoencoder/.test(String(config['_class_name'])) ? 'loadVae(dir' : 'loadModel(dir';
}

/**
 * The end of a variant-only folder's message, in the library's words: the call (`call`: `loadModel(dir`, …) with
 * its `variant` option. The command line shows its flag instead (src/cli/errors.ts flagNames: `pass --variant V`).
 */
const variantAdvice = (variant: string, call: string) => `load it with ${call}, { variant: '${variant}' })`;

/** A component's variant-only message (ModelFolderError.message) as loadPipeline's user reads it: the library call is loadPipeline. */
export function pipelineVariantHint(message: string): string {
  return message.replace(/load it with \w+\((?:dir|folders), \{ variant: '([A-Za-z0-9_-]+)' \}\)$/, (_m, v: string) => variantAdvice(v, 'loadPipeline(dir'));
}

/**
 * The Python line that rewrites a folder's PyTorch pickle weights as safetensors: the class from config.json
 * (diffusers' _class_name, transformers' architectures[0]), loaded and saved in place (both libraries' save_pretrained
 * write safetensors by default).
 */
function convertLine(folder: FolderSource, config: Record<string, unknown>, hf: boolean): string {
  const arch = config['architectures'];
  const cls = hf ? (Array.isArray(arch) && typeof arch[0] === 'string' ? arch[0] : 'AutoModel') : String(config['_class_name']);
  const dir = folderRoot(folder).replace(/'/g, "\\'");
  return `python -c "from ${hf ? 'transformers' : 'diffusers'} import ${cls} as M; M.from_pretrained('${dir}').save_pretrained('${dir}')"`;
}

/**
 * Why no weights were found: names the variant files that are there and the flag that loads them, or the
 * PyTorch pickles (`.bin`) tessera does not read and the one line that converts them.
 */
async function missingWeights(folder: FolderSource, base: string, stem: string, indexName: string, variant: string | undefined, config: Record<string, unknown>, hf: boolean): Promise<string> {
  const files = await listedFiles(folder);
  const found = new Map<string, string[]>();
  for (const f of files ?? []) {
    const v = variantOf(f, base);
    if (v !== null && v !== variant) found.set(v, [...(found.get(v) ?? []), f]);
  }
  const what = `neither ${stem} nor ${indexName} found`;
  if (!found.size) {
    // diffusers' save_pretrained(safe_serialization=False), older repositories: diffusion_pytorch_model.bin / pytorch_model.bin (and shards)
    const bins = (files ?? []).filter((f) => (f.startsWith(`${base}.`) || (hf && f.startsWith('pytorch_model.'))) && /\.bin(\.index(\.[A-Za-z0-9_-]+)?\.json)?$/.test(f)).sort();
    if (bins.length) return `${what}; the folder has ${bins.join(', ')}: PyTorch pickle weights, which tessera does not read (safetensors only); convert them once: ${convertLine(folder, config, hf)}`;
    return files && variant ? `${what} (the folder has no ${variant} variant files)` : what;
  }
  const names = [...found.keys()];
  const list = [...found.values()].flat().sort().join(', ');
  return `${what}; the folder has ${names.length === 1 ? 'the weight variant' : 'weight variants'} ${names.join(', ')} (${list}): ${variantAdvice(names[0]!, loaderCall(config, hf))}`;
}

/**
 * Why a folder has no config.json: it is a pipeline's root (model_index.json: the loader to use, or the
 * component folder), it does not exist (a folder that lists its files: disk, File maps), or just that.
 */
async function noConfigReason(folder: FolderSource, readText: (rel: string) => Promise<string | null>, hf: boolean): Promise<string> {
  if ((await readText('model_index.json')) !== null) {
    const subs = hf ? folderFile(folder, 'text_encoder') : `${folderFile(folder, 'transformer')} (loadVae: ${folderFile(folder, 'vae')})`;
    return `no such file: ${folder.name} is a pipeline folder (model_index.json): load it with loadPipeline, or give its component folder, ${subs}`;
  }
  if (folder.list) {
    const gone = await folder.list().then(
      () => false,
      (e: unknown) => (e as { code?: unknown }).code === 'ENOENT',
    );
    if (gone) return `no such file: there is no folder ${folder.name}`;
  }
  // the path already names config.json: say what the folder is not
  return `no such file: ${folder.name} is not a model folder (a diffusers model folder holds config.json beside its weights)`;
}

export interface OpenModelFolderOptions {
  /** diffusers weight variant: `diffusion_pytorch_model.<variant>.safetensors[.index.json]`. */
  variant?: string;
  /**
   * Whose folder layout: diffusers (default: `_class_name` in config.json,
   * `diffusion_pytorch_model[.variant].safetensors`) or transformers (a pipeline's text_encoder/:
   * `architectures` or `model_type` in config.json, `model[.variant].safetensors[.index.json]`).
   */
  library?: 'diffusers' | 'transformers';
  /** The largest safetensors header read, in bytes (readSafetensorsHeader's maxHeaderBytes; its default otherwise). */
  maxHeaderBytes?: number;
}

/**
 * Opens a diffusers model folder. The index (when present) wins over a single file, as in
 * diffusers, except in a folder that cannot list its files (plain httpFolder): there the single file
 * is tried first, so that loading it makes no request for an absent index. Checks: config.json parses to an object with `_class_name`; every shard named
 * by the index exists and is a valid safetensors file; each tensor is in exactly the shard
 * the index names; no shard holds tensors the index does not list. Only the headers are read: tensors
 * later, by byte range (`readF32`). `opts.maxHeaderBytes`: the largest safetensors header read (readSafetensorsHeader's bound).
 * @throws ModelFolderError naming the file: config.json missing, not JSON or without `_class_name`
 *   (transformers: `architectures`/`model_type`), a variant that is not a plain name, no weights (naming the
 *   variants the folder has), a bad index or shard layout, a file there but unreadable; SafetensorsError for a
 *   corrupt shard header.
 */
export async function openModelFolder(folder: FolderSource, opts?: OpenModelFolderOptions): Promise<ModelFolder> {
  const path = (rel: string) => folderFile(folder, rel);
  // a file that is there but cannot be read (a folder in its place, no permission) is this folder's problem, named as a missing one is
  const asFolderError = (file: string, e: FileAccessError) => new ModelFolderError(e.reason, file, undefined, { cause: e });
  const readText = (rel: string) => readTextAs(folder, rel, asFolderError);
  const configText = await readText('config.json');
  const hf = opts?.library === 'transformers';
  if (configText === null) throw new ModelFolderError(await noConfigReason(folder, readText, hf), path('config.json'));
  let config: unknown;
  try {
    config = parsePythonJson(configText); // Python's json writes Infinity/NaN
  } catch (e) {
    throw new ModelFolderError(notValidJson(e), path('config.json'));
  }
  if (!isObject(config)) throw new ModelFolderError('must be a JSON object', path('config.json'));
  if (hf && !Array.isArray(config['architectures']) && typeof config['model_type'] !== 'string') throw new ModelFolderError('has neither "architectures" nor "model_type" (is this a transformers model folder?)', path('config.json'));
  if (!hf && typeof config['_class_name'] !== 'string') {
    // a text encoder's folder (transformers' config.json: architectures, no _class_name) given for a diffusers component's
    const te = componentKind(config);
    if (te) throw new ModelFolderError(`has no "_class_name": ${te.cls}, ${te.what} folder's config.json (the pipeline's ${te.sub}/), not a diffusers model's: load that folder with ${te.loader}`, path('config.json'));
    throw new ModelFolderError('has no "_class_name" string (is this a diffusers model folder?)', path('config.json'));
  }

  const base = hf ? 'model' : 'diffusion_pytorch_model';
  const variant = opts?.variant;
  if (variant !== undefined && !VARIANT_NAME.test(variant)) throw new ModelFolderError(`variant ${JSON.stringify(variant)} must be a plain name such as fp16 or bf16`, folder.name);
  const stem = variant ? `${base}.${variant}.safetensors` : `${base}.safetensors`;
  // The index as diffusers / transformers name it (_add_variant: `X.safetensors.index.<variant>.json`),
  // then the `X.<variant>.safetensors.index.json` some repositories carry.
  const indexNames = variant ? [`${base}.safetensors.index.${variant}.json`, `${stem}.index.json`] : [`${stem}.index.json`];
  let indexName = indexNames[0]!;
  let indexText: string | null = null;
  // A folder that lists its files (disk, File maps, httpFolder with `files`) is read only for the index
  // names it has. One that cannot list (plain HTTP) is asked for the single file first, so the common
  // single-file folder makes no failing request (the browser logs each 404); there a folder holding both
  // is read from the single file, where diffusers would take the index.
  const listed = await listedFiles(folder);
  let single: ByteSource | null = null;
  let singleError: unknown;
  if (!folder.list) {
    try {
      single = await folder.open(stem);
    } catch (e) {
      singleError = e;
    }
  }
  if (single === null) {
    for (const name of indexNames) {
      if (listed && !listed.includes(name)) continue;
      const t = await readText(name);
      if (t !== null) {
        [indexName, indexText] = [name, t];
        break;
      }
    }
    if (indexText === null && singleError instanceof FileAccessError) throw asFolderError(path(stem), singleError);
    if (indexText === null && singleError !== undefined) {
      const why = singleError instanceof HtmlAnswerError ? ` (${singleError.message})` : '';
      throw new ModelFolderError(`${await missingWeights(folder, base, stem, indexName, variant, config, hf)}${why}`, path(stem), undefined, { cause: singleError });
    }
  }
  // tensor -> shard, from the index (null: a single file, no index)
  let weightMap: Map<string, string> | null = null;
  const shards: string[] = [];
  if (indexText !== null) {
    let index: unknown;
    try {
      index = JSON.parse(indexText);
    } catch (e) {
      throw new ModelFolderError(notValidJson(e), path(indexName));
    }
    const wm = isObject(index) ? index['weight_map'] : undefined;
    if (!isObject(wm)) throw new ModelFolderError('has no "weight_map" object', path(indexName));
    weightMap = new Map();
    for (const [tensor, shard] of Object.entries(wm)) {
      if (typeof shard !== 'string') throw new ModelFolderError(`weight_map value must be a shard file name, got ${JSON.stringify(shard)}`, path(indexName), tensor);
      try {
        checkRelPath(folder.name, shard);
      } catch (e) {
        throw new ModelFolderError(`weight_map names ${JSON.stringify(shard)}, not a file inside the folder`, path(indexName), tensor, { cause: e });
      }
      weightMap.set(tensor, shard);
      if (!shards.includes(shard)) shards.push(shard);
    }
  } else {
    shards.push(stem);
  }

  const sources = new Map<string, ByteSource>();
  const closeAll = async () => {
    const all = [...sources.values()];
    sources.clear();
    await Promise.allSettled(all.map((s) => s.close?.()));
  };
  const tensors = new Map<string, TensorInfo>();
  const metadata = new Map<string, Record<string, string>>();
  try {
    for (const shard of shards) {
      let src: ByteSource;
      try {
        src = single ?? (await folder.open(shard));
      } catch (e) {
        if (e instanceof FileAccessError) throw asFolderError(path(shard), e);
        const msg = e instanceof Error ? e.message : String(e);
        if (weightMap) throw new ModelFolderError(`shard listed in ${indexName} cannot be opened (${msg})`, path(shard), undefined, { cause: e });
        throw new ModelFolderError(await missingWeights(folder, base, stem, indexName, variant, config, hf), path(stem), undefined, { cause: e });
      }
      sources.set(shard, src);
      const h = await readSafetensorsHeader(src, opts?.maxHeaderBytes !== undefined ? { maxHeaderBytes: opts.maxHeaderBytes } : undefined);
      metadata.set(shard, h.metadata);
      for (const [name, info] of h.tensors) {
        const other = tensors.get(name);
        if (other) throw new ModelFolderError(`is in two shards: ${other.file} and ${shard}`, path(shard), name);
        if (weightMap) {
          const want = weightMap.get(name);
          if (want === undefined) throw new ModelFolderError(`is in this shard but not in ${indexName}`, path(shard), name);
          if (want !== shard) throw new ModelFolderError(`is in this shard but ${indexName} puts it in ${want}`, path(shard), name);
        }
        tensors.set(name, { ...info, file: shard });
      }
    }
    if (weightMap) {
      for (const [name, shard] of weightMap) {
        if (!tensors.has(name)) throw new ModelFolderError(`${indexName} puts it in this shard, but it is not there`, path(shard), name);
      }
    }
  } catch (e) {
    await closeAll();
    throw e;
  }

  let closed = false;
  // each shard's size when its header was read: a shard opened again after release() must still be that file
  const sizes = new Map([...sources].map(([f, s]) => [f, s.size]));
  const reopening = new Map<string, Promise<ByteSource>>();
  const reopen = async (file: string): Promise<ByteSource> => {
    let src: ByteSource;
    try {
      src = await folder.open(file);
    } catch (e) {
      if (e instanceof FileAccessError) throw asFolderError(path(file), e);
      throw new ModelFolderError(`cannot be opened again (${e instanceof Error ? e.message : String(e)})`, path(file), undefined, { cause: e });
    }
    if (closed || src.size !== sizes.get(file)) {
      await src.close?.();
      if (closed) throw new ModelFolderError('model folder is closed', path(file));
      throw new ModelFolderError(`changed since the folder was opened (${sizes.get(file)} bytes then, ${src.size} now): load it again`, path(file));
    }
    sources.set(file, src);
    return src;
  };
  const source = async (file: string): Promise<ByteSource> => {
    if (closed) throw new ModelFolderError('model folder is closed', path(file));
    const s = sources.get(file);
    if (s) return s;
    if (!shards.includes(file)) throw new ModelFolderError(`not one of the folder's safetensors files (${shards.join(', ')})`, path(file));
    let p = reopening.get(file);
    if (!p) {
      p = reopen(file).finally(() => reopening.delete(file));
      reopening.set(file, p);
    }
    return p;
  };
  return {
    name: folder.name,
    config,
    tensors,
    shards,
    metadata,
    source,
    async readF32(name) {
      const info = tensors.get(name);
      if (!info) throw new ModelFolderError('no such tensor in the model', folder.name, name);
      return readTensorF32(await source(info.file), info);
    },
    async close() {
      closed = true;
      await closeAll();
    },
    async release() {
      // only sources holding something to free (a file handle: those with close()); an HTTP, Blob or in-memory
      // source is kept, so a read after release() makes no new request (over HTTP, a HEAD per encode)
      const held = [...sources].filter(([, s]) => s.close);
      for (const [f] of held) sources.delete(f);
      await Promise.allSettled(held.map(([, s]) => s.close!()));
    },
  };
}
