/**
 * The optional native tidying of export pages (native/tidy.c): the common cases of
 * tidyCsvRows (csv-rows.ts), eventLines and csvRecords (event-lines.ts) at
 * less than half the JavaScript's cost, handing every other line or row back to it. Built on `npm install` by
 * scripts/build-native.mjs; when it is not built, or `TRAILPROOF_NATIVE=0`, this is undefined and
 * the JavaScript does it all, with the same output (native-tidy.test.ts holds them equal).
 */
import { nativeAddon } from '../native/load.ts';

export interface NativeTidy {
  /** API_VERSION of native/tidy.c. */
  version: number;
  /**
   * Compacts JSON lines in place, from lines[state[0]] to lines[state[1]] (state[1] <= state[0]),
   * until a line that JavaScript must see to (a number other than a plain integer, an array-index
   * key, a line not in the expected form): then true, with state at that line's start, nothing of
   * it written. At the end false, with state[0] = lines.length.
   */
  compactJsonLines(lines: Uint8Array, state: Uint32Array): boolean;
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

export const nativeTidy = nativeAddon<NativeTidy>('trailproof_tidy', 3);
