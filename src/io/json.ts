// JSON as Python writes it. diffusers saves configs with Python's json module, which writes
// float('inf') / float('nan') as the bare tokens Infinity, -Infinity and NaN (e.g.
// DPMSolverMultistepScheduler's default "lambda_min_clipped": -Infinity). JSON.parse refuses
// them; this reader accepts exactly those three tokens outside strings, as Python's json.loads does.

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
