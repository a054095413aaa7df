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
import { nativeTidy, type NativeTidy } from './native-tidy.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;
const COLON = 0x3a;
const NEWLINE = 0x0a;
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

/**
 * `lines` (each ending in \n, values as jsonb_out writes them) as JSON.stringify would write each
 * line's value. Works in place: the result is `lines`' own memory, shortened, unless a line had to
 * be written again. The common lines are compacted by the native addon where it is built.
 */
export function compactJsonLines(lines: Buffer, native: NativeTidy | null = nativeTidy ?? null): Buffer {
  const c = new JsonCompactor(); // reads and writes `lines`: o <= i throughout
  const untilRewrite = native ? nativeUntilRewrite(native) : jsUntilRewrite;
  const parts: Buffer[] = [];
  let kept = 0; // lines[kept, lineStart) is final; a line written again goes to parts
  for (let lineStart = untilRewrite(lines, c); lineStart >= 0; lineStart = untilRewrite(lines, c)) {
    // The compacted line lines[lineStart, c.o) is the same JSON; parsed and written again by JavaScript.
    const value = JSON.parse(lines.toString('utf8', lineStart, c.o)) as unknown;
    if (lineStart > kept) parts.push(lines.subarray(kept, lineStart));
    parts.push(Buffer.from(`${JSON.stringify(value)}\n`));
    c.o = kept = lineStart;
  }
  if (parts.length === 0) return lines.subarray(0, c.o);
  if (c.o > kept) parts.push(lines.subarray(kept, c.o));
  return Buffer.concat(parts);
}

/**
 * Compacts whole lines in place from c.i to c.o until one that JavaScript must write again: returns
 * where that line starts written (c.o is just past it), or -1 once all lines are done.
 */
type UntilRewrite = (lines: Buffer, c: JsonCompactor) => number;

/** Compacts the line at c.i; true if JavaScript must write it again. */
function compactLine(lines: Buffer, c: JsonCompactor): boolean {
  c.value(lines, lines);
  if (lines[c.i] !== NEWLINE) throw new Error('JSON line does not end after its value');
  lines[c.o++] = lines[c.i++]!;
  const rewrite = c.rewrite;
  c.rewrite = false;
  return rewrite;
}

const jsUntilRewrite: UntilRewrite = (lines, c) => {
  while (c.i < lines.length) {
    const lineStart = c.o;
    if (compactLine(lines, c)) return lineStart;
  }
  return -1;
};

/** The native code compacts the common lines and stops, before writing it, at any other, which the JavaScript takes. */
function nativeUntilRewrite(native: NativeTidy): UntilRewrite {
  const state = new Uint32Array(2);
  return (lines, c) => {
    for (;;) {
      state[0] = c.i;
      state[1] = c.o;
      const stopped = native.compactJsonLines(lines, state);
      c.i = state[0]!;
      c.o = state[1]!;
      if (!stopped) return -1;
      const lineStart = c.o;
      if (compactLine(lines, c)) return lineStart;
    }
  };
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
