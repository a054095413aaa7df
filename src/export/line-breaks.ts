/**
 * Line breaks beyond LF and CR that some consumers split records on: Unicode's mandatory breaks
 * (UAX #14 BK/NL: VT, FF, NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR; JavaScript's `split(/\R/)`-style
 * readers, editors, several SIEM shippers). Every line-oriented format writes a record as one line
 * by every one of these definitions.
 */

/** Every character some reader ends a line at: LF, VT, FF, CR, NEL, LS, PS. */
export const ANY_LINE_BREAK = /\r\n|[\n\v\f\r\u0085\u2028\u2029]/g;

/** The breaks JSON.stringify writes as they are (it escapes the C0 controls, not these). */
const JSON_UNESCAPED_BREAKS = /[\u0085\u2028\u2029]/g;

/** `JSON.stringify(value)` with NEL, LS and PS escaped as `\u…`: the same JSON value, on one line. */
export function jsonLine(value: unknown): string {
  return escapeJsonBreaks(JSON.stringify(value));
}

/** JSON text with NEL, LS and PS escaped (they occur only inside strings, where `\u…` means the same). */
export function escapeJsonBreaks(json: string): string {
  return json.replace(JSON_UNESCAPED_BREAKS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
