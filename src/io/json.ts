// JSON as Python writes it. diffusers saves configs with Python's json module, which writes
// float('inf') / float('nan') as the bare tokens Infinity, -Infinity and NaN (e.g.
// DPMSolverMultistepScheduler's default "lambda_min_clipped": -Infinity). JSON.parse refuses
// them; this reader accepts exactly those three tokens outside strings, as Python's json.loads does.

/** A JSON object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses JSON text that may contain Python's `Infinity`, `-Infinity` and `NaN` tokens.
 * @throws SyntaxError (JSON.parse's) for anything else that is not JSON.
 */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (first) {
    if (!/Infinity|NaN/.test(text)) throw first;
  }
  // Replace the tokens outside strings with unique string markers, then revive them.
  const mark = '\u0000tessera-nonfinite:';
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (inString) {
      out += ch;
      if (ch === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (ch === '"') inString = false;
      i++;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
      i++;
      continue;
    }
    const tok = ['-Infinity', 'Infinity', 'NaN'].find((t) => text.startsWith(t, i));
    if (tok) {
      out += JSON.stringify(mark + tok);
      i += tok.length;
      continue;
    }
    out += ch;
    i++;
  }
  const values: Record<string, number> = { '-Infinity': -Infinity, Infinity: Infinity, NaN: NaN };
  return JSON.parse(out, (_k, v) => (typeof v === 'string' && v.startsWith(mark) ? values[v.slice(mark.length)] : v));
}

// Characters a terminal acts on rather than shows: C0/DEL/C1 controls (ESC starts colour and
// cursor sequences, NUL and BEL print as nothing or beep), the line/paragraph separators and the
// bidirectional overrides/isolates (they reorder what follows).
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with each control character written as a visible JSON-style escape (ESC → `\u001b`, NUL →
 * `\u0000`): for echoing user-supplied text (prompt words, excerpts of a file) in a one-line message.
 * Other characters are unchanged.
 */
export function visibleText(text: string): string {
  return text.replace(INVISIBLE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Whether `text` holds a character visibleText escapes. */
export function hasControlChars(text: string): boolean {
  return new RegExp(INVISIBLE.source).test(text);
}

/**
 * `not valid JSON (<parser's message>)` for an error thrown while parsing a JSON file, the message's
 * excerpt of the file with control characters escaped (a binary file's NULs would otherwise reach the terminal).
 */
export function notValidJson(e: unknown): string {
  return `not valid JSON (${visibleText(e instanceof Error ? e.message : String(e))})`;
}

/**
 * A JSON value as a message shows it: JSON text, except that non-finite numbers read as themselves
 * (NaN, Infinity, -Infinity, which JSON.stringify would write as null), control characters are escaped
 * (visibleText), and text past `max` characters is cut with "…".
 */
export function shownValue(v: unknown, max = 80): string {
  const show = (x: unknown): string => {
    if (typeof x === 'number') return String(x); // NaN, Infinity; JSON's own form otherwise
    if (Array.isArray(x)) return `[${x.map(show).join(',')}]`;
    if (typeof x === 'object' && x !== null) return `{${Object.entries(x).map(([k, y]) => `${JSON.stringify(k)}:${show(y)}`).join(',')}}`;
    return JSON.stringify(x) ?? String(x);
  };
  const s = visibleText(show(v));
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
