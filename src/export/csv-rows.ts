/**
 * CSV rows written by PostgreSQL (src/export/csv.ts), made byte for byte what `csv.record` writes
 * (src/export/assembled-pages.ts). PostgreSQL writes each cell in one of three forms, by column:
 *  - `raw`: text that never needs quoting (uid, seq, timestamps), copied as it is;
 *  - `text`: a JSON string, as jsonb_out writes a string member, written as `csvCell` writes its
 *    value: formula-neutralised, quoted when it holds a comma, a quote or a line break;
 *  - `json`: a JSON value as jsonb_out writes it, compacted to JSON.stringify's text
 *    (src/export/json-compact.ts) and quoted.
 * Any of them may be empty. Cells are separated by `,`; rows end in CRLF. The common cases are
 * handled on the bytes; a cell with an escape, a leading apostrophe or a value JavaScript writes
 * otherwise is decoded and written by `csvCell`.
 */
import { JsonCompactor } from './json-compact.ts';

export type CellKind = 'raw' | 'text' | 'json';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;
const APOSTROPHE = 0x27;
/** = + - @ (TAB and CR arrive escaped). */
const isFormulaStart = (c: number) => c === 0x3d || c === 0x2b || c === 0x2d || c === 0x40;

export function tidyCsvRows(rows: Buffer, kinds: readonly CellKind[], csvCell: (value: string) => string): Buffer {
  // Rows usually shrink (JSON loses its spaces, text cells their quotes); `room` grows `out` when not.
  let out = Buffer.allocUnsafe(rows.length + 1024);
  const json = new JsonCompactor();
  let i = 0;
  let o = 0;
  const room = (bytes: number) => {
    if (o + bytes <= out.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, o + bytes));
    out.copy(bigger, 0, 0, o);
    out = bigger;
  };
  const decoded = (value: string) => {
    const cell = csvCell(value);
    room(Buffer.byteLength(cell));
    o += out.write(cell, o);
  };
  while (i < rows.length) {
    for (let k = 0; k < kinds.length; k++) {
      if (k > 0) {
        if (rows[i] !== COMMA) throw new Error(`CSV row: expected a comma before cell ${k}`);
        room(1);
        out[o++] = COMMA;
        i++;
      }
      const first = rows[i];
      if (first === COMMA || first === CR) continue; // empty
      const kind = kinds[k];
      if (kind === 'raw') {
        let end = i;
        while (end < rows.length && rows[end] !== COMMA && rows[end] !== CR) end++;
        room(end - i);
        while (i < end) out[o++] = rows[i++]!;
      } else if (kind === 'text' && first === QUOTE) {
        const start = i + 1;
        let end = start;
        let escaped = false;
        let comma = false;
        for (;;) {
          const d = rows[end];
          if (d === QUOTE) break;
          if (d === undefined) throw new Error('CSV row: text cell cut short');
          if (d === BACKSLASH) {
            escaped = true;
            end += 2;
          } else {
            if (d === COMMA) comma = true;
            end++;
          }
        }
        if (escaped || rows[start] === APOSTROPHE) {
          decoded(JSON.parse(rows.toString('utf8', i, end + 1)) as string);
        } else {
          room(end - start + 3);
          if (comma) out[o++] = QUOTE;
          if (isFormulaStart(rows[start]!)) out[o++] = APOSTROPHE;
          for (let j = start; j < end; j++) out[o++] = rows[j]!;
          if (comma) out[o++] = QUOTE;
        }
        i = end + 1;
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
          decoded(JSON.stringify(JSON.parse(rows.toString('utf8', from, to))));
          continue;
        }
        room(2 * (to - from) + 2);
        let quoted = false;
        for (let j = from; j < to && !quoted; j++) quoted = rows[j] === QUOTE || rows[j] === COMMA;
        if (quoted) out[o++] = QUOTE;
        for (let j = from; j < to; j++) {
          const d = rows[j]!;
          out[o++] = d;
          if (d === QUOTE) out[o++] = QUOTE;
        }
        if (quoted) out[o++] = QUOTE;
      } else {
        // A text cell holding another JSON value (null, a number): not what the validator stores.
        const start = i;
        while (i < rows.length && rows[i] !== COMMA && rows[i] !== CR) i++;
        const value = JSON.parse(rows.toString('utf8', start, i)) as unknown;
        decoded(value === null ? '' : String(value));
      }
    }
    if (rows[i] !== CR || rows[i + 1] !== LF) throw new Error('CSV row: expected CRLF after the last cell');
    room(2);
    out[o++] = CR;
    out[o++] = LF;
    i += 2;
  }
  return out.subarray(0, o);
}
