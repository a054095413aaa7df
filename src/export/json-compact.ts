/**
 * JSON Lines written by PostgreSQL, rewritten byte for byte as JSON.stringify writes the same
 * values, without parsing them (src/export/assembled-pages.ts).
 *
 * jsonb_out writes `{"k": v, "k2": [1, 2]}`: a space after each `:` and `,` outside strings, and
 * strings escaped exactly as JSON.stringify escapes them (`"`, `\`, \b \f \n \r \t, other controls
 * as \u00xx in lower case; PostgreSQL text holds no lone surrogates). Dropping the spaces outside
 * strings gives JSON.stringify's text, except in two cases, where the line is parsed and written
 * again instead (rare: the demo data has none):
 *  - a number JavaScript writes otherwise: jsonb keeps the digits it was given and never uses an
 *    exponent (1e21 comes back as 1000000000000000000000);
 *  - a key that is an array index (`"0"`, `"42"`): JavaScript objects list those first, jsonb sorts
 *    keys by length.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;
const COLON = 0x3a;
const NEWLINE = 0x0a;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;
const isDigit = (c: number) => c >= DIGIT_0 && c <= DIGIT_9;
const isNumberByte = (c: number) => isDigit(c) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === MINUS;

/**
 * `lines` (each ending in \n, values as jsonb_out writes them) as JSON.stringify would write each
 * line's value. Works in place: the result is `lines`' own memory, shortened, unless a line had to
 * be written again.
 */
export function compactJsonLines(lines: Buffer): Buffer {
  const n = lines.length;
  const out = lines; // never written ahead of where it is read: o <= i throughout
  const parts: Buffer[] = [];
  let o = 0;
  let kept = 0; // out[kept, lineStart) is final; a line written again goes to parts
  let lineStart = 0;
  let rewrite = false;
  let i = 0;
  while (i < n) {
    const c = lines[i]!;
    if (c === QUOTE) {
      const keyStart = o + 1;
      out[o++] = c;
      i++;
      for (;;) {
        const d = lines[i++]!;
        out[o++] = d;
        if (d === QUOTE) break;
        if (d === BACKSLASH) out[o++] = lines[i++]!;
      }
      if (lines[i] === COLON && isIndexKey(out, keyStart, o - 1)) rewrite = true;
    } else if (c === SPACE) {
      i++;
    } else if (isDigit(c) || c === MINUS) {
      const numberStart = o;
      while (i < n && isNumberByte(lines[i]!)) out[o++] = lines[i++]!;
      if (!sameInJavaScript(out, numberStart, o)) rewrite = true;
    } else if (c === NEWLINE) {
      out[o++] = c;
      i++;
      if (rewrite) {
        // The compacted line is the same JSON; parsed and written again by JavaScript.
        const value = JSON.parse(out.toString('utf8', lineStart, o)) as unknown;
        if (lineStart > kept) parts.push(out.subarray(kept, lineStart));
        parts.push(Buffer.from(`${JSON.stringify(value)}\n`));
        o = kept = lineStart;
        rewrite = false;
      }
      lineStart = o;
    } else {
      out[o++] = c;
      i++;
    }
  }
  if (parts.length === 0) return out.subarray(0, o);
  if (o > kept) parts.push(out.subarray(kept, o));
  return Buffer.concat(parts);
}

/** Whether a key's bytes [from, to) are an array index, which a JavaScript object moves first. */
function isIndexKey(bytes: Buffer, from: number, to: number): boolean {
  const length = to - from;
  if (length === 0 || length > 10 || (length > 1 && bytes[from] === DIGIT_0)) return false;
  for (let j = from; j < to; j++) if (!isDigit(bytes[j]!)) return false;
  return Number(bytes.toString('latin1', from, to)) < 2 ** 32 - 1;
}

/** Whether JavaScript writes the number bytes [from, to) back unchanged. */
function sameInJavaScript(bytes: Buffer, from: number, to: number): boolean {
  const length = to - from;
  // The common case without building a string: a short integer without a leading zero.
  if (length <= 15 && (length === 1 || (bytes[from]! >= DIGIT_1 && bytes[from]! <= DIGIT_9))) {
    let plain = true;
    for (let j = from; j < to && plain; j++) plain = isDigit(bytes[j]!);
    if (plain) return true;
  }
  const text = bytes.toString('latin1', from, to);
  return String(Number(text)) === text;
}
