/**
 * CSV rows written by PostgreSQL (src/export/csv.ts), made byte for byte what `csv.record` writes
 * (src/export/assembled-pages.ts). PostgreSQL separates cells with U+001F and ends each row with
 * U+001E, characters no cell holds (below), and writes each cell in one of four forms, by column:
 *  - `raw`: text that never needs quoting (uid, seq, timestamps, action), copied as it is;
 *  - `plain`: a string as it is (`->>`), for the members the validator keeps free of control
 *    characters (identifiers and names): written as `csvCell` writes it;
 *  - `text`: a JSON string, as jsonb_out writes a string member, for free text that may hold any
 *    character (reason, user agent): written as `csvCell` writes its value;
 *  - `json`: a JSON value as jsonb_out writes it, compacted to JSON.stringify's text
 *    (src/export/json-compact.ts) and quoted.
 * Any of them may be empty. Output cells are separated by `,`; rows end in CRLF. The common cases
 * are handled on the bytes; a cell with an escape, a leading apostrophe or a value JavaScript writes
 * otherwise is decoded and written by `csvCell`. `plain` asks PostgreSQL for less work than `text`
 * (no escaping on the way out), which is what limits a CSV export.
 *
 * Where the native addon is built (native-tidy.ts), it writes the common rows and hands every other
 * row to the JavaScript here, which also reports rows not in the expected form.
 */
import { JsonCompactor } from './json-compact.ts';
import { nativeTidy, withRoom, writeRows, type NativeTidy, type RowWriter } from './native-tidy.ts';

export type CellKind = 'raw' | 'plain' | 'text' | 'json';

/** Between cells and after each row, as PostgreSQL writes them. */
export const CELL_END = '\x1f';
export const ROW_END = '\x1e';

const US = 0x1f;
const RS = 0x1e;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;
const APOSTROPHE = 0x27;
/** = + - @ (TAB and CR arrive escaped, or not at all). */
const isFormulaStart = (c: number) => c === 0x3d || c === 0x2b || c === 0x2d || c === 0x40;

/** The CellKind codes of native/tidy.c. */
const CELL_KIND_CODES: Record<CellKind, number> = { raw: 0, plain: 1, text: 2, json: 3 };

export function tidyCsvRows(
  rows: Buffer,
  kinds: readonly CellKind[],
  csvCell: (value: string) => string,
  native: NativeTidy | null = nativeTidy ?? null,
): Buffer {
  const writer = new CsvRowWriter(rows, kinds, csvCell);
  if (!native) return writeRows(writer, null);
  const codes = Uint8Array.from(kinds, (kind) => CELL_KIND_CODES[kind]);
  return writeRows(writer, (out, state) => native.tidyCsvRows(rows, codes, out, state));
}

/** Writes rows one at a time from `i` in `rows` to `o` in `out`, growing `out` as needed. */
class CsvRowWriter implements RowWriter {
  // Rows usually shrink (JSON loses its spaces, text cells their quotes).
  out: Buffer;
  o = 0;
  i = 0;
  private readonly json = new JsonCompactor();

  constructor(
    readonly rows: Buffer,
    private readonly kinds: readonly CellKind[],
    private readonly csvCell: (value: string) => string,
  ) {
    this.out = Buffer.allocUnsafe(rows.length + 1024);
  }

  /**
   * The row at `i`. Its cells come out at most twice their length plus quotes and a prefix, so it
   * checks for that much room first. `out`, `o` and `i` are plain locals here: this loop is the
   * export's hot path where the native code is not built.
   */
  row(): void {
    const { rows, kinds, csvCell, json } = this;
    let { out, o, i } = this;
    const rowEnd = rows.indexOf(RS, i);
    const need = 2 * ((rowEnd < 0 ? rows.length : rowEnd) - i) + 4 * kinds.length + 2;
    out = withRoom(out, o, need);
    for (let k = 0; k < kinds.length; k++) {
      if (k > 0) {
        if (rows[i] !== US) throw new Error(`CSV row: expected the end of cell ${k - 1}`);
        out[o++] = COMMA;
        i++;
      }
      const first = rows[i];
      if (first === US || first === RS) continue; // empty
      const kind = kinds[k];
      if (kind === 'raw') {
        for (let c = rows[i]; c !== US && c !== RS && c !== undefined; c = rows[++i]) out[o++] = c;
      } else if (kind === 'plain') {
        // Quoted when it holds a comma or a quote (no line breaks: no control characters), quotes
        // doubled; one that starts like a formula or with an apostrophe is left to csvCell.
        let end = i;
        let quoted = false;
        for (let c = rows[end]; c !== US && c !== RS; c = rows[++end]) {
          if (c === undefined) throw new Error('CSV row: cut short');
          if (c === COMMA || c === QUOTE) quoted = true;
        }
        if (isFormulaStart(first!) || first === APOSTROPHE) {
          const cell = csvCell(rows.toString('utf8', i, end));
          out = withRoom(out, o, Buffer.byteLength(cell));
          o += out.write(cell, o);
        } else {
          o = putField(out, o, rows, i, end, quoted);
        }
        i = end;
      } else if (kind === 'text' && first === QUOTE) {
        // Copied while looking for what the fast path cannot take: an escape or a leading apostrophe
        // (then csvCell gets the decoded value); a comma means quotes around it.
        const start = i + 1;
        const at = o;
        let formula = 0;
        if (isFormulaStart(rows[start]!)) {
          out[o + 1] = APOSTROPHE;
          formula = 1;
        }
        o += 1 + formula; // room for an opening quote
        let j = start;
        let comma = false;
        let plain = rows[start] !== APOSTROPHE;
        for (;;) {
          const d = rows[j];
          if (d === QUOTE) break;
          if (d === undefined) throw new Error('CSV row: text cell cut short');
          if (d === BACKSLASH) {
            plain = false;
            j += 2;
            continue;
          }
          if (d === COMMA) comma = true;
          out[o++] = d;
          j++;
        }
        if (!plain) {
          o = at;
          const cell = csvCell(JSON.parse(rows.toString('utf8', i, j + 1)) as string);
          out = withRoom(out, o, Buffer.byteLength(cell));
          o += out.write(cell, o);
        } else if (comma) {
          out[at] = QUOTE;
          out[o++] = QUOTE;
        } else {
          out.copyWithin(at, at + 1, o); // no quotes: close the gap left for one
          o--;
        }
        i = j + 1;
      } else if (kind === 'json') {
        // Compacted in place (it only shrinks), then copied out with its quotes doubled.
        json.i = i;
        json.o = i;
        json.value(rows, rows);
        const from = i;
        const to = json.o;
        i = json.i;
        if (json.rewrite) {
          json.rewrite = false;
          const cell = csvCell(JSON.stringify(JSON.parse(rows.toString('utf8', from, to))));
          out = withRoom(out, o, Buffer.byteLength(cell));
          o += out.write(cell, o);
          continue;
        }
        let quoted = false;
        for (let j = from; j < to && !quoted; j++) quoted = rows[j] === QUOTE || rows[j] === COMMA;
        o = putField(out, o, rows, from, to, quoted);
      } else {
        // A text cell holding another JSON value (null, a number): not what the validator stores.
        const start = i;
        while (i < rows.length && rows[i] !== US && rows[i] !== RS) i++;
        const value = JSON.parse(rows.toString('utf8', start, i)) as unknown;
        const cell = value === null ? '' : csvCell(String(value));
        out = withRoom(out, o, Buffer.byteLength(cell));
        o += out.write(cell, o);
      }
    }
    if (rows[i] !== RS) throw new Error('CSV row: expected the row to end after its last cell');
    out[o++] = CR;
    out[o++] = LF;
    i++;
    this.out = out;
    this.o = o;
    this.i = i;
  }
}

/**
 * Writes source[from, to) at out[o] as an RFC 4180 field: `quoted` (it holds a quote or a comma), in
 * quotes with its quotes doubled. `out` has the room (twice the length and two). Returns the
 * position after it.
 */
function putField(out: Buffer, o: number, source: Buffer, from: number, to: number, quoted: boolean): number {
  if (!quoted) {
    for (let j = from; j < to; j++) out[o++] = source[j]!;
    return o;
  }
  out[o++] = QUOTE;
  for (let j = from; j < to; j++) {
    const d = source[j]!;
    out[o++] = d;
    if (d === QUOTE) out[o++] = QUOTE;
  }
  out[o++] = QUOTE;
  return o;
}
