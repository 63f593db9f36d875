// Which component of a diffusers pipeline a folder's config.json describes (a transformer, a VAE, a text encoder),
// for the refusals of a component folder given where another kind is loaded: a VAE folder given to loadModel (or
// --model / forward), a transformer folder given as a pipeline (loadPipeline, encode --pipeline). Each says what the
// folder is and what to give instead, as a pipeline root given as a component already does (model-folder.ts).

/** A pipeline component kind: the model_index.json key it sits under, and the loader that takes it alone. */
export interface ComponentKind {
  /** In words: 'a transformer', 'a VAE', 'a text encoder'. */
  what: string;
  /** The subfolder a pipeline keeps it in (model_index.json's key): transformer, vae, text_encoder. */
  sub: 'transformer' | 'vae' | 'text_encoder';
  /** The library call that loads it alone: loadModel, loadVae, loadTextEncoder. */
  loader: 'loadModel' | 'loadVae' | 'loadTextEncoder';
  /** The class its config names (`_class_name`, or a text encoder's architectures[0]). */
  cls: string;
}

const TRANSFORMERS = ['WanTransformer3DModel', 'DiTTransformer2DModel', 'Transformer2DModel', 'LatteTransformer3DModel'];

/**
 * The component a parsed config.json describes, or undefined (not an object, or a class tessera does not place):
 * a transformer class tessera runs, a VAE (`_class_name` AutoencoderKL…), a text encoder (`architectures` with an
 * …EncoderModel, or model_type t5/umt5: transformers' configs have no `_class_name`).
 */
export function componentKind(config: unknown): ComponentKind | undefined {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return undefined;
  const c = config as Record<string, unknown>;
  const cls = c['_class_name'];
  if (typeof cls === 'string') {
    if (TRANSFORMERS.includes(cls)) return { what: 'a transformer', sub: 'transformer', loader: 'loadModel', cls };
    if (/^Autoencoder/.test(cls)) return { what: 'a VAE', sub: 'vae', loader: 'loadVae', cls };
    return undefined;
  }
  const arch = Array.isArray(c['architectures']) ? c['architectures'].find((a): a is string => typeof a === 'string') : undefined;
  if ((arch !== undefined && /EncoderModel$/.test(arch)) || c['model_type'] === 'umt5' || c['model_type'] === 't5') {
    return { what: 'a text encoder', sub: 'text_encoder', loader: 'loadTextEncoder', cls: arch ?? String(c['model_type']) };
  }
  return undefined;
}

/** componentKind of config.json's text (undefined for text that is not JSON). */
export function componentKindOfText(text: string | null): ComponentKind | undefined {
  if (text === null) return undefined;
  try {
    return componentKind(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** The folder above `root` (a path or a URL without its trailing slash), as messages name it: `.` for a bare name. */
export function parentFolder(root: string): string {
  const i = root.lastIndexOf('/');
  return i > 0 ? root.slice(0, i) : i === 0 ? '/' : '.';
}

/** `ROOT is a VAE folder (config.json: AutoencoderKLWan), one component of a pipeline`: how the refusals name it. */
export function componentWords(root: string, k: ComponentKind): string {
  return `${root} is ${k.what} folder (config.json: ${k.cls}), a pipeline's ${k.sub}/ component`;
}
