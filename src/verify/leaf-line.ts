/**
 * Reading a leaf line in the writer's exact spelling (bundle-format.ts `leafLine`) on its bytes,
 * without decoding it: the fast path of verification. Every field is validated as strictly as the
 * slow path (JSON.parse) would; anything else — other key orders, spaces, escapes, a purged
 * payload — is left to the slow path, and so are retention and erasure records, whose content the
 * engine reads (purge-check.ts). Attacker-controlled input: never reads past `end`.
 */

/** Where the fields of one leaf line are, as byte offsets into the line's buffer. */
export interface LeafOffsets {
  index: number;
  indexStart: number;
  indexEnd: number;
  uidStart: number;
  receivedStart: number;
  receivedEnd: number;
  commitmentStart: number;
  saltStart: number;
  eventStart: number;
  eventEnd: number;
}

/** Offsets to be filled in by parseLeafLine (one object reused line after line). */
export function newLeafOffsets(): LeafOffsets {
  return { index: 0, indexStart: 0, indexEnd: 0, uidStart: 0, receivedStart: 0, receivedEnd: 0, commitmentStart: 0, saltStart: 0, eventStart: 0, eventEnd: 0 };
}

export const UID_LENGTH = 36;
const HEX_LENGTH = 64;
const MAX_INDEX_DIGITS = 15;
const MAX_RECEIVED_AT = 40;

const P_START = Buffer.from('{"type":"leaf","index":');
const P_UID = Buffer.from(',"uid":"');
const P_RECEIVED = Buffer.from('","received_at":"');
const P_COMMITMENT = Buffer.from('","commitment":"');
const P_SALT = Buffer.from('","salt":"');
const P_EVENT = Buffer.from('","event":');
const NULL = Buffer.from('null');
/** How a retention record's event begins: JCS sorts `action` first. */
const RETENTION_EVENT = Buffer.from('{"action":"retention.');
/** How an erasure record's event begins. */
const ERASURE_EVENT = Buffer.from('{"action":"erasure.');

/** Value of each lowercase hex digit, -1 for any other byte. */
export const HEX_VALUE = table('0123456789abcdef', (_c, i) => i);
const UID_CHAR = table('0123456789abcdef-', () => 1);
const TIME_CHAR = table('0123456789TZ:.+-', () => 1);

/** Whether `bytes[start, end)` is a leaf line in the writer's spelling; fills `out` if so. */
export function parseLeafLine(bytes: Buffer, start: number, end: number, out: LeafOffsets): boolean {
  let p = start;
  if (!matchAt(bytes, p, end, P_START)) return false;
  p += P_START.length;
  const indexStart = p;
  let index = 0;
  while (p < end && bytes[p]! >= 0x30 && bytes[p]! <= 0x39) index = index * 10 + (bytes[p++]! - 0x30);
  const digits = p - indexStart;
  if (digits === 0 || digits > MAX_INDEX_DIGITS || (digits > 1 && bytes[indexStart] === 0x30)) return false;
  const indexEnd = p;
  if (!matchAt(bytes, p, end, P_UID)) return false;
  p += P_UID.length;
  const uidStart = p;
  if (!allIn(bytes, p, p + UID_LENGTH, end, UID_CHAR)) return false;
  p += UID_LENGTH;
  if (!matchAt(bytes, p, end, P_RECEIVED)) return false;
  p += P_RECEIVED.length;
  const receivedStart = p;
  while (p < end && TIME_CHAR[bytes[p]!] === 1) p++;
  if (p === receivedStart || p - receivedStart > MAX_RECEIVED_AT) return false;
  const receivedEnd = p;
  if (!matchAt(bytes, p, end, P_COMMITMENT)) return false;
  p += P_COMMITMENT.length;
  const commitmentStart = p;
  if (!allIn(bytes, p, p + HEX_LENGTH, end, HEX_VALUE, 0)) return false;
  p += HEX_LENGTH;
  if (!matchAt(bytes, p, end, P_SALT)) return false;
  p += P_SALT.length;
  const saltStart = p;
  if (!allIn(bytes, p, p + HEX_LENGTH, end, HEX_VALUE, 0)) return false;
  p += HEX_LENGTH;
  if (!matchAt(bytes, p, end, P_EVENT)) return false;
  p += P_EVENT.length;
  // The event runs to the line's closing brace; an empty or `null` event is the slow path's.
  if (bytes[end - 1] !== 0x7d || end - 1 <= p || (end - 1 - p === NULL.length && matchAt(bytes, p, end, NULL))) return false;
  if (matchAt(bytes, p, end, RETENTION_EVENT) || matchAt(bytes, p, end, ERASURE_EVENT)) return false;
  // Field by field: an object literal merged in would be made for every line.
  out.index = index;
  out.indexStart = indexStart;
  out.indexEnd = indexEnd;
  out.uidStart = uidStart;
  out.receivedStart = receivedStart;
  out.receivedEnd = receivedEnd;
  out.commitmentStart = commitmentStart;
  out.saltStart = saltStart;
  out.eventStart = p;
  out.eventEnd = end - 1;
  return true;
}

function matchAt(bytes: Buffer, at: number, end: number, pattern: Buffer): boolean {
  if (at + pattern.length > end) return false;
  // A byte loop: for patterns this short it beats Buffer#compare's per-call cost.
  for (let i = 0; i < pattern.length; i++) if (bytes[at + i] !== pattern[i]) return false;
  return true;
}

/** Every byte of [from, to) is in `allowed` (at least `min`), and `to` ≤ `end`. */
function allIn(bytes: Buffer, from: number, to: number, end: number, allowed: Int8Array, min = 1): boolean {
  if (to > end) return false;
  for (let i = from; i < to; i++) if (allowed[bytes[i]!]! < min) return false;
  return true;
}

function table(chars: string, value: (c: string, i: number) => number): Int8Array {
  const t = new Int8Array(256).fill(-1);
  [...chars].forEach((c, i) => (t[c.charCodeAt(0)] = value(c, i)));
  return t;
}
