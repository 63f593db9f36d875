// The pipeline's tokenizer: tokenizer/tokenizer.json (T5/UMT5: Unigram model, Metaspace
// pre-tokenizer, template "$A </s>") read by @huggingface/tokenizers (pure JS, Node and browser),
// then padding and truncation as WanPipeline._get_t5_prompt_embeds asks the Python tokenizer for:
//   tokenizer(prompt, padding="max_length", max_length=N, truncation=True, add_special_tokens=True)
// Truncation is the Rust tokenizers' (in tokens, before the template's special tokens are added,
// so "</s>" is always last), on the side tokenizer_config's "truncation_side" names ("right" by
// default: the last tokens dropped; "left": the first), as transformers sets it; padding appends the
// pad token on the right with attention mask 0. "padding_side": "left" is refused (loadTokenizer).
// Not reproduced: a "Precompiled" normalizer (SentencePiece's charsmap, in released T5/UMT5
// tokenizer.json files) is applied by the JS library as NFKC plus its whitespace/control rules,
// not by the charsmap itself; they agree on ordinary text.
import { Tokenizer } from '@huggingface/tokenizers';
import { isObject, notValidJson, shownValue } from '../io/json.js';
import { folderRoot, listedFiles, readTextAs, type FolderSource } from '../io/source.js';
import { promptClean } from './prompt.js';

/** A tokenizer/ folder tessera cannot read: tokenizer.json missing or of a kind it does not support, or tokenizer_config.json's padding_side "left" (or a side other than left/right); the message names the file. */
export class TokenizerError extends Error {
  override name = 'TokenizerError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_TOKENIZER';
}

/** Token ids of a batch of prompts, padded to `maxLength`. */
export interface TokenBatch {
  /** [B·maxLength] token ids, row-major. */
  ids: Int32Array;
  /** [B] tokens before padding (mask.gt(0).sum(1) in diffusers), at most maxLength; 0 only for an empty or blank prompt with a template that appends no "</s>" (the encoder refuses it: TextEncoderError). */
  lengths: number[];
  /** B: the number of prompts. */
  batch: number;
  /** Tokens per row (max_sequence_length): each row truncated (special tokens kept) or padded with `<pad>` to it. */
  maxLength: number;
  /** The cleaned prompts the tokenizer saw. */
  cleaned: string[];
}

interface TemplateItem {
  Sequence?: { id: string };
  SpecialToken?: { id: string };
}

/**
 * What T5Tokenizer uses of @huggingface/tokenizers' Tokenizer. Structural, so the published
 * declarations never import that package (its .d.ts do not resolve under moduleResolution nodenext).
 */
export interface TokenizerCore {
  encode(text: string, options: { add_special_tokens: boolean }): { ids: number[] };
  token_to_id(token: string): number | undefined;
}

/** T5/UMT5 tokenization as transformers' tokenizer does it for WanPipeline: tokenizer.json through @huggingface/tokenizers, the template's special tokens kept when truncating, padded to a length. Made by loadTokenizer. */
export class T5Tokenizer {
  private readonly prefix: number[];
  private readonly suffix: number[];
  /** The `<pad>` token id rows are padded with (tokenizer_config's pad_token, else "<pad>"). */
  readonly padId: number;
  /** Which end of a long prompt's text tokens is dropped (tokenizer_config's truncation_side, default 'right': the last ones). */
  readonly truncationSide: 'left' | 'right';

  constructor(
    private readonly tok: TokenizerCore,
    json: Record<string, unknown>,
    config: Record<string, unknown>,
    readonly name: string,
  ) {
    // the template's special tokens around $A ("$A </s>" for T5): kept when truncating
    const pp = json['post_processor'] as { type?: string; single?: TemplateItem[]; special_tokens?: Record<string, { ids: number[] }> } | null;
    this.prefix = [];
    this.suffix = [];
    if (pp && pp.type === 'TemplateProcessing' && Array.isArray(pp.single)) {
      let seen = false;
      for (const it of pp.single) {
        if (it.Sequence) seen = true;
        else if (it.SpecialToken) {
          const ids = pp.special_tokens?.[it.SpecialToken.id]?.ids;
          if (!ids) throw new TokenizerError(`${name}: post_processor template names special token ${JSON.stringify(it.SpecialToken.id)} that special_tokens does not define`);
          (seen ? this.suffix : this.prefix).push(...ids);
        }
      }
    } else if (pp) {
      throw new TokenizerError(`${name}: post_processor ${JSON.stringify(pp.type)} is not supported (expected TemplateProcessing, as T5/UMT5 tokenizers have)`);
    }
    const pad = config['pad_token'];
    const padText = typeof pad === 'string' ? pad : pad && typeof pad === 'object' && typeof (pad as { content?: unknown }).content === 'string' ? (pad as { content: string }).content : '<pad>';
    const padId = tok.token_to_id(padText);
    if (padId === undefined) throw new TokenizerError(`${name}: pad token ${JSON.stringify(padText)} is not in the vocabulary`);
    this.padId = padId;
    this.truncationSide = side(config, 'truncation_side', name);
    // WanPipeline keeps each prompt's first mask.sum() rows of the encoder's output; padded on the
    // left those are the pad tokens' rows, not the prompt's, and the prompt's own rows are dropped
    if (side(config, 'padding_side', name) === 'left') {
      throw new TokenizerError(`${configFile(name)}: "padding_side": "left" is not supported: WanPipeline keeps each prompt's first rows of the encoder's output, which with left padding are the pad tokens' rows, not the prompt's; set it to "right" (the T5/UMT5 default)`);
    }
  }

  /** Special tokens the template adds around one sequence (1 for "$A </s>"). */
  get specialCount(): number {
    return this.prefix.length + this.suffix.length;
  }

  /** Tokens of a prompt after prompt_clean, the template's special tokens not counted, before any truncation. */
  textTokens(prompt: string): number {
    return this.tok.encode(promptClean(prompt), { add_special_tokens: false }).ids.length;
  }

  /** Token ids of already-cleaned text with the template's special tokens, truncated to `maxLength`. */
  encode(text: string, maxLength: number): number[] {
    const keep = maxLength - this.specialCount;
    if (keep < 0) throw new TokenizerError(`max_sequence_length ${maxLength} is shorter than the ${this.specialCount} special token(s) the tokenizer adds`);
    const seq = this.tok.encode(text, { add_special_tokens: false }).ids;
    const kept = this.truncationSide === 'left' ? seq.slice(Math.max(0, seq.length - keep)) : seq.slice(0, keep);
    return [...this.prefix, ...kept, ...this.suffix];
  }

  /**
   * prompt_clean each prompt, tokenize, truncate and pad to `maxLength` (WanPipeline).
   * @throws TokenizerError for a maxLength that is not a positive integer or is shorter than the template's special tokens.
   */
  tokenize(prompts: readonly string[], maxLength: number): TokenBatch {
    if (!Number.isInteger(maxLength) || maxLength < 1) throw new TokenizerError(`max_sequence_length must be a positive integer, got ${maxLength}`);
    const B = prompts.length;
    const ids = new Int32Array(B * maxLength).fill(this.padId);
    const lengths: number[] = [];
    const cleaned = prompts.map(promptClean);
    cleaned.forEach((p, b) => {
      const t = this.encode(p, maxLength);
      ids.set(t, b * maxLength);
      lengths.push(t.length);
    });
    return { ids, lengths, batch: B, maxLength, cleaned };
  }
}

/** tokenizer_config.json beside the tokenizer.json named `name`. */
function configFile(name: string): string {
  return name.replace(/tokenizer\.json$/, 'tokenizer_config.json');
}

/**
 * tokenizer_config's truncation_side or padding_side: "right" when absent, as transformers defaults.
 * @throws TokenizerError naming the file and key for a value other than "left" or "right" (transformers refuses it too).
 */
function side(config: Record<string, unknown>, key: 'truncation_side' | 'padding_side', name: string): 'left' | 'right' {
  const v = config[key];
  if (v === undefined) return 'right';
  if (v === 'left' || v === 'right') return v;
  throw new TokenizerError(`${configFile(name)}: "${key}" must be "left" or "right", found ${shownValue(v)}`);
}

/**
 * tokenizer.json's "model" must be what T5/UMT5 tokenizers have: a Unigram model whose vocab is a
 * non-empty list of [piece, score] pairs (a string and a finite log-probability). Checked here so a
 * damaged file is named in one line, not by the tokenizer library's internals (or not at all: a score
 * "x" was read as NaN).
 * @throws TokenizerError naming `where`, the key (or the first bad vocab index) and what was expected.
 */
function checkUnigramModel(model: unknown, where: string): void {
  if (!isObject(model)) throw new TokenizerError(`${where}: "model" must be an object (a Unigram model, as T5/UMT5 tokenizers have), found ${shownValue(model)}`);
  if (model['type'] !== 'Unigram') throw new TokenizerError(`${where}: model.type ${shownValue(model['type'])} is not supported (expected "Unigram", as T5/UMT5 tokenizers have)`);
  const vocab = model['vocab'];
  if (!Array.isArray(vocab)) throw new TokenizerError(`${where}: model.vocab must be an array of [piece, score] pairs, found ${shownValue(vocab)}`);
  if (vocab.length === 0) throw new TokenizerError(`${where}: model.vocab is empty (expected [piece, score] pairs, one per token)`);
  const bad = vocab.findIndex((e) => !(Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'number' && Number.isFinite(e[1])));
  if (bad >= 0) throw new TokenizerError(`${where}: model.vocab[${bad}] must be a [piece, score] pair (a string and a finite number), found ${shownValue(vocab[bad])}`);
}

/**
 * Reads `tokenizer.json` and `tokenizer_config.json` (optional) from a pipeline's tokenizer folder.
 * @throws TokenizerError naming the file: tokenizer.json missing, either file there but unreadable (a
 *   folder in its place, no permission), not valid JSON (control characters of the excerpt escaped), or a tokenizer
 *   of a kind tessera does not support (model.type not Unigram, model.vocab empty or with an entry that is not [string, finite number]);
 *   tokenizer_config.json's truncation_side or padding_side not "left"/"right", or padding_side "left" (WanPipeline's
 *   result with it keeps the pad tokens' rows).
 */
export async function loadTokenizer(folder: FolderSource): Promise<T5Tokenizer> {
  const dir = folderRoot(folder);
  const where = `${dir}/tokenizer.json`;
  // there but unreadable: the tokenizer's problem, in its own kind (as a missing tokenizer.json)
  const readText = (rel: string, what: string) => readTextAs(folder, rel, (file, e) => new TokenizerError(`${file}: ${e.reason} (${what})`, { cause: e }));
  const text = await readText('tokenizer.json', 'tessera reads the tokenizer from tokenizer.json');
  if (text === null) {
    // say what is there: a folder that lists nothing (or does not exist) is not "only spiece.model"
    const files = await listedFiles(folder, []);
    const why =
      files === null ? 'tessera reads the tokenizer from tokenizer.json'
      : files.length === 0 ? 'the folder is empty or does not exist: is this the tokenizer/ folder of a text-to-video pipeline (WanPipeline)?'
      : files.includes('spiece.model') ? 'tessera reads the tokenizer from tokenizer.json; a folder with only spiece.model is not supported'
      : `the folder holds ${files.slice(0, 6).join(', ')}${files.length > 6 ? ', …' : ''}; tessera reads the tokenizer from tokenizer.json`;
    throw new TokenizerError(`${where}: missing (${why})`);
  }
  const parse = (t: string, file: string): Record<string, unknown> => {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new TokenizerError(`${file}: ${notValidJson(e)}`);
    }
    if (!isObject(v)) throw new TokenizerError(`${file}: must be a JSON object, found ${shownValue(v)}`);
    return v;
  };
  const json = parse(text, where);
  checkUnigramModel(json['model'], where);
  const cfgText = await readText('tokenizer_config.json', 'the tokenizer\'s settings, a JSON file');
  const config = cfgText === null ? {} : parse(cfgText, `${dir}/tokenizer_config.json`);
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json, config);
  } catch (e) {
    throw new TokenizerError(`${where}: cannot be read (${e instanceof Error ? e.message : String(e)})`);
  }
  return new T5Tokenizer(tok, json, config, where);
}
