/**
 * The optional native tidying of export pages (native/tidy.c): the common rows of tidyCsvRows
 * (csv-rows.ts), eventLines and csvRecords (event-lines.ts) at a third of the JavaScript's cost,
 * every other row handed back to it (writeRows). Built on `npm install` by scripts/build-native.mjs;
 * when it is not built, or `TRAILPROOF_NATIVE=0`, this is undefined and the JavaScript does it all,
 * with the same output (native-tidy.test.ts holds them equal).
 */
import { nativeAddon } from '../native/load.ts';

export interface NativeTidy {
  /** API_VERSION of native/tidy.c. */
  version: number;
  /**
   * Writes CSV rows from rows[state[0]] to out[state[1]] until a row the JavaScript must write, or
   * one out may lack room for: then true, with state at that row's start in both. At the end false,
   * with state[0] = rows.length. `kinds` are the cells' CellKind codes (CELL_KIND_CODES).
   */
  tidyCsvRows(rows: Uint8Array, kinds: Uint8Array, out: Uint8Array, state: Uint32Array): boolean;
  /**
   * Writes the JSON line of each event row of event-lines.ts from rows[state[0]] to out[state[1]],
   * until a row the JavaScript must write, or one out may lack room for: then true, with state at
   * that row's start in both. At the end false, with state[0] = rows.length.
   */
  eventLines(rows: Uint8Array, out: Uint8Array, state: Uint32Array): boolean;
  /** As eventLines, the CSV record (src/export/csv.ts) of each row's event. */
  csvLines(rows: Uint8Array, out: Uint8Array, state: Uint32Array): boolean;
}

export const nativeTidy = nativeAddon<NativeTidy>('trailproof_tidy', 4);

/** Writes a page's rows one at a time from `i` in `rows` to `o` in `out`, growing `out` as needed. */
export interface RowWriter {
  readonly rows: Buffer;
  out: Buffer;
  o: number;
  i: number;
  /** The row at `i`, `i` and `o` moved past it. */
  row(): void;
}

/**
 * The page: the common rows written by `native` (one of the functions above, bound to the page's
 * rows, from writer.i to writer.o until it stops at a row) and each row it stops at by `writer`;
 * without `native`, every row by `writer`.
 */
export function writeRows(writer: RowWriter, native: ((out: Buffer, state: Uint32Array) => boolean) | null): Buffer {
  if (!native) {
    while (writer.i < writer.rows.length) writer.row();
    return writer.out.subarray(0, writer.o);
  }
  const state = new Uint32Array(2);
  for (;;) {
    state[0] = writer.i;
    state[1] = writer.o;
    const stopped = native(writer.out, state);
    writer.i = state[0]!;
    writer.o = state[1]!;
    if (!stopped) return writer.out.subarray(0, writer.o);
    writer.row();
  }
}

/** `out`, or a copy of out[0, o) in a bigger buffer, with room for `need` more bytes at `o`. */
export function withRoom(out: Buffer, o: number, need: number): Buffer {
  if (o + need <= out.length) return out;
  const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, o + need));
  out.copy(bigger, 0, 0, o);
  return bigger;
}
