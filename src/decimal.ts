// Numbers read from text the user typed (CLI flags, environment variables): decimal only.

const DECIMAL = /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * `text` (surrounding white space ignored) as a decimal number: digits with an optional point and
 * exponent (4, 0.5, .5, 1e-3, 2E+9), with a leading minus only where `signed`. Never hex, binary,
 * octal, a plus sign, Infinity or NaN, which Number() would also read (0x10 as 16: a typo taken
 * for another value).
 * @returns the number, or undefined for any other text or a value beyond the finite range.
 */
export function parseDecimal(text: string, signed = true): number | undefined {
  const t = text.trim();
  if (!DECIMAL.test(t) || (!signed && t.startsWith('-'))) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}
