/**
 * JSON values written by PostgreSQL (jsonb_out), rewritten byte for byte as JSON.stringify writes
 * the same values, without parsing them: the nested cells of CSV exports (csv-rows.ts) and the body
 * members of JSON Lines (event-lines.ts), in pages assembled by PostgreSQL (assembled-pages.ts).
 *
 * jsonb_out writes `{"k": v, "k2": [1, 2]}`: a space after each `:` and `,` outside strings, and
 * strings escaped exactly as JSON.stringify escapes them (`"`, `\`, \b \f \n \r \t, other controls
 * as \u00xx in lower case; PostgreSQL text holds no lone surrogates). Dropping the spaces outside
 * strings gives JSON.stringify's text, except in two cases, where the value is parsed and written
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
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;
const LOWER_A = 0x61;
const LOWER_Z = 0x7a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const isDigit = (c: number) => c >= DIGIT_0 && c <= DIGIT_9;
const isNumberByte = (c: number) => isDigit(c) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === MINUS;

/**
 * Copies one JSON value as jsonb_out wrote it from `input` at `i` to `out` at `o` (which may be the
 * same memory, `o` <= `i`), without the spaces outside strings; afterwards `i` and `o` are just past
 * it, and `rewrite` is set if JavaScript would write some of it otherwise (see the header).
 */
export class JsonCompactor {
  i = 0;
  o = 0;
  rewrite = false;

  value(input: Buffer, out: Buffer): void {
    let i = this.i;
    let o = this.o;
    let depth = 0;
    do {
      const c = input[i]!;
      if (c === QUOTE) {
        const keyStart = o + 1;
        out[o++] = c;
        i++;
        for (;;) {
          const d = input[i++];
          if (d === undefined) throw new Error('JSON string cut short');
          out[o++] = d;
          if (d === QUOTE) break;
          if (d === BACKSLASH) out[o++] = input[i++]!;
        }
        if (input[i] === COLON && isIndexKey(out, keyStart, o - 1)) this.rewrite = true;
      } else if (c === SPACE) {
        i++;
      } else if (isDigit(c) || c === MINUS) {
        const numberStart = o;
        while (isNumberByte(input[i]!)) out[o++] = input[i++]!;
        if (!sameInJavaScript(out, numberStart, o)) this.rewrite = true;
      } else if (c >= LOWER_A && c <= LOWER_Z) {
        while (input[i]! >= LOWER_A && input[i]! <= LOWER_Z) out[o++] = input[i++]!; // true, false, null
      } else if (c === undefined) {
        throw new Error('JSON value cut short');
      } else {
        out[o++] = c;
        i++;
        if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
        else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
      }
    } while (depth > 0);
    this.i = i;
    this.o = o;
  }
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
