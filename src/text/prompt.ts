// WanPipeline's prompt cleaning (diffusers pipelines/wan/pipeline_wan.py: basic_clean,
// whitespace_clean, prompt_clean), reproduced character for character except ftfy:
//   prompt_clean(t) = whitespace_clean(basic_clean(t))
//   basic_clean(t)  = [ftfy.fix_text(t) when ftfy is installed]; html.unescape twice; str.strip()
//   whitespace_clean(t) = regex.sub(r"\s+", " ", t).strip()
// Not reproduced: ftfy.fix_text (an optional dependency of diffusers; the goldens were made without
// it). With ftfy installed, Python would also repair mojibake ("cafÃ©" → "café"), apply NFC,
// turn curly quotes into straight ones, drop terminal escapes and fix other encoding damage
// before tokenizing; tessera passes such text through as is.
import { decodeHTML } from 'entities';

// Python's `regex` module: \s matches the Unicode White_Space property — U+0085 included (JS \s
// lacks it), U+FEFF not (JS \s has it). Listed from Python itself (regex 2026.5.9).
const PY_WS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
// str.strip() with no argument strips str.isspace() characters: the above plus U+001C–U+001F.
const PY_STRIP = `${PY_WS}\\u001c-\\u001f`;
const WS_RUN = new RegExp(`[${PY_WS}]+`, 'gu');
const STRIP = new RegExp(`^[${PY_STRIP}]+|[${PY_STRIP}]+$`, 'gu');

/** Python's str.strip() (no argument). */
export const pyStrip = (s: string): string => s.replace(STRIP, '');

// html.unescape drops numeric references to these code points (html/__init__.py
// _invalid_codepoints, after its windows-1252 table for 0x80–0x9F); the HTML5 decoder keeps them.
function pyInvalidCodepoint(n: number): boolean {
  return (n >= 0x1 && n <= 0x8) || n === 0xb || (n >= 0xe && n <= 0x1f) || n === 0x7f || (n >= 0xfdd0 && n <= 0xfdef) || (n <= 0x10ffff && (n & 0xfffe) === 0xfffe);
}
const NUMERIC_REF = /&#(?:([0-9]+)|[xX]([0-9a-fA-F]+));?/g;

/** Python's html.unescape: HTML5 named and numeric character references (with and without ';'). */
export function htmlUnescape(s: string): string {
  if (!s.includes('&')) return s;
  const pre = s.replace(NUMERIC_REF, (ref, dec?: string, hex?: string) => {
    const n = dec !== undefined ? Number(dec) : parseInt(hex!, 16);
    return pyInvalidCodepoint(n) ? '' : ref;
  });
  return decodeHTML(pre);
}

/** diffusers' basic_clean without ftfy: unescape HTML twice (so "&amp;lt;" → "<"), strip. */
export function basicClean(text: string): string {
  return pyStrip(htmlUnescape(htmlUnescape(text)));
}

/** diffusers' whitespace_clean: every run of Unicode whitespace → one space, strip. */
export function whitespaceClean(text: string): string {
  return pyStrip(text.replace(WS_RUN, ' '));
}

/** diffusers' prompt_clean (WanPipeline): what the tokenizer sees. */
export function promptClean(text: string): string {
  return whitespaceClean(basicClean(text));
}
