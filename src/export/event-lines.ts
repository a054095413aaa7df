/**
 * Export records of events from the cheapest rows PostgreSQL can write for them: per event the
 * uid, the tenant as JSON, seq, received_at, occurred_at (only when the body lacks it) and the body
 * as jsonb writes it whole, fields ended by U+001F and the row by \n (jsonb and JSON escape both
 * inside strings, so neither can occur in a field). Writing the body out once is about a quarter
 * less of the database's work per event than writing each member out on its own in the API's
 * order, and the database is what limits an export.
 *
 * JSON Lines (jsonl.ts): each row becomes exactly the line `JSON.stringify(toStoredEvent(row))`
 * writes, the read API's event. Where the native addon is built (native-tidy.ts), it writes the
 * common rows: it compacts the body's members and puts them in the API's order, and stops at any
 * other row (a number or a key JavaScript writes otherwise, an occurred_at not in toISOString's
 * form, anything unexpected); the JavaScript here does the same on the bytes and parses only the
 * rows it cannot take.
 *
 * CSV (csv.ts), where the addon is built: it takes the cells from the compacted body; the rows it
 * stops at are parsed here and written by the format's own `record`.
 *
 * native-tidy.test.ts holds the native code and the JavaScript to the same bytes and errors.
 */
import type { StoredEvent } from '../event/types.ts';
import type { Fragment } from '../query/event-repository.ts';
import { toStoredEvent } from '../query/event-repository.ts';
import type { Sql } from '../store/db.ts';
import { JsonCompactor } from './json-compact.ts';
import { nativeTidy, withRoom, writeRows, type NativeTidy, type RowWriter } from './native-tidy.ts';

const FIELD_END = '\x1f';
const NEWLINE = 0x0a;

/** SQL of the row of one event `e` of `tenant` (see the header). */
export function eventRow(sql: Sql, tenant: string): Fragment {
  // Timestamps at time zone UTC are timestamps without one, written in ISO style (db.ts asks for it).
  return sql`concat(e.uid, ${FIELD_END}::text, ${JSON.stringify(tenant)}::text, ${FIELD_END}::text, e.seq, ${FIELD_END}::text,
    e.received_at at time zone 'UTC', ${FIELD_END}::text,
    case when e.body ? 'occurred_at' then null else e.occurred_at at time zone 'UTC' end, ${FIELD_END}::text,
    e.body, ${'\n'}::text)`;
}

/** The JSON line of each row of `rows`, the common ones written by the native addon where it is built (`native` null: by the JavaScript alone). */
export function eventLines(rows: Buffer, native: NativeTidy | null = nativeTidy ?? null): Buffer {
  return writeRows(new EventLineWriter(rows), native && ((out, state) => native.eventLines(rows, out, state)));
}

/**
 * The CSV record (`record`, src/export/csv.ts) of each row's event, the common ones written by the
 * native addon. Without it every row is parsed, so the CSV format uses these rows only where the
 * addon is built (csv.ts).
 */
export function csvRecords(rows: Buffer, record: (event: StoredEvent) => string, native: NativeTidy | null = nativeTidy ?? null): Buffer {
  return writeRows(new RecordWriter(rows, record), native && ((out, state) => native.csvLines(rows, out, state)));
}

/**
 * The read API's members after uid, tenant and seq (toStoredEvent in src/query/event-repository.ts),
 * in its order, each from the body where present; received_at goes right after occurred_at. The
 * native code writes the same (native/tidy.c).
 */
const MEMBERS = ['id', 'action', 'occurred_at', 'actor', 'targets', 'outcome', 'reason', 'context', 'changes', 'metadata', 'source'] as const;
const MEMBER_BYTES = MEMBERS.map((m) => Buffer.from(m));
const OCCURRED_AT = MEMBERS.indexOf('occurred_at');
const NAMES = MEMBERS.map((m) => Buffer.from(`,"${m}":`));
const RECEIVED_AT = Buffer.from(',"received_at":');
const UID_NAME = Buffer.from('{"uid":"');
const TENANT_NAME = Buffer.from('","tenant":');
const SEQ_NAME = Buffer.from(',"seq":');
const QUOTE = 0x22;
const SPACE = 0x20;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const BACKSLASH = 0x5c;
const FIELD_END_BYTE = 0x1f;
const DIGIT_0 = 0x30;
const isDigit = (b: number) => b >= DIGIT_0 && b <= 0x39;
const isUidByte = (b: number) => isDigit(b) || (b >= 0x61 && b <= 0x66) || b === 0x2d;

/** A RowWriter of event rows: the event of a row parsed, and room made in `out`. */
abstract class EventRowWriter implements RowWriter {
  // A record is about as long as its row: the envelope's names and the timestamps' extra characters
  // roughly make up for the spaces and field ends dropped.
  out: Buffer;
  o = 0;
  i = 0;

  constructor(readonly rows: Buffer) {
    this.out = Buffer.allocUnsafe(rows.length + (rows.length >> 3) + 1024);
  }

  /** The row at `i`. */
  abstract row(): void;

  /** The event of the row [i, end), parsed, as the read API has it. */
  protected event(end: number): StoredEvent {
    const fields = this.rows.toString('utf8', this.i, end).split(FIELD_END);
    if (fields.length !== 6) throw new Error(`event row: ${fields.length} fields, not 6`);
    const [uid, tenant, seq, received, occurred, body] = fields as [string, string, string, string, string, string];
    const parsed = JSON.parse(body) as { occurred_at?: string };
    return toStoredEvent({
      uid,
      tenant_id: JSON.parse(tenant) as string,
      seq: Number(seq),
      occurred_at: new Date(parsed.occurred_at ?? isoOrThrow(occurred)),
      received_at: new Date(isoOrThrow(received)),
      body: parsed as Parameters<typeof toStoredEvent>[0]['body'],
    });
  }

  /** Appends `text`. */
  protected write(text: string): void {
    this.room(Buffer.byteLength(text));
    this.o += this.out.write(text, this.o);
  }

  /** Makes room for `need` more bytes at `o`. */
  protected room(need: number): void {
    this.out = withRoom(this.out, this.o, need);
  }

  /** Where the row at `i` ends (its "\n"). */
  protected rowEnd(): number {
    const end = this.rows.indexOf(NEWLINE, this.i);
    if (end < 0) throw new Error('event row: cut short');
    return end;
  }
}

/** Each row as the record `record` writes of its event, parsed. */
class RecordWriter extends EventRowWriter {
  constructor(
    rows: Buffer,
    private readonly record: (event: StoredEvent) => string,
  ) {
    super(rows);
  }

  row(): void {
    const end = this.rowEnd();
    this.write(this.record(this.event(end)));
    this.i = end + 1;
  }
}

/** Each row as the read API's JSON line of its event: the common ones on the bytes (see fast). */
class EventLineWriter extends EventRowWriter {
  private scratch = Buffer.alloc(0);
  private readonly json = new JsonCompactor();
  private readonly from: number[] = new Array<number>(MEMBERS.length);
  private readonly to: number[] = new Array<number>(MEMBERS.length);
  /** The tenant field last seen written as JSON.stringify writes it. */
  private tenant: Uint8Array = new Uint8Array(0);
  private readonly ends = [0, 0, 0, 0, 0];

  /** The row at `i`: the common case on the bytes (see fast), any other by parsing it. */
  row(): void {
    const end = this.rowEnd();
    if (!this.fast(end)) this.write(`${JSON.stringify(this.event(end))}\n`);
    this.i = end + 1;
  }

  /**
   * The row [i, end) written on the bytes, as the native code writes it: the body's members
   * compacted into `scratch`, then put in the API's order. False (nothing written) for a row this
   * cannot take: a value JavaScript writes otherwise (JsonCompactor's rewrite), an occurred_at not
   * in toISOString's form, a key with an escape, fields not as PostgreSQL writes them.
   */
  private fast(end: number): boolean {
    const { rows } = this;
    // The five fields before the body, each ended by U+001F.
    const ends = this.ends;
    let at = this.i;
    for (let k = 0; k < 5; k++, at++) {
      while (at < end && rows[at] !== FIELD_END_BYTE) at++;
      if (at >= end) return false;
      ends[k] = at;
    }
    const uidEnd = ends[0]!;
    const tenantEnd = ends[1]!;
    const seqEnd = ends[2]!;
    const receivedEnd = ends[3]!;
    const occurredEnd = ends[4]!;
    if (uidEnd === this.i || !allBytes(rows, this.i, uidEnd, isUidByte)) return false;
    if (!plainSeq(rows, tenantEnd + 1, seqEnd) || !this.knownTenant(uidEnd + 1, tenantEnd)) return false;
    // The body's members, compacted into scratch (they never grow), found by their keys.
    if (this.scratch.length < end - occurredEnd) this.scratch = Buffer.allocUnsafe(Math.max(end - occurredEnd, 2 * this.scratch.length));
    const { scratch, json, from, to } = this;
    from.fill(-1);
    json.i = occurredEnd + 1;
    json.o = 0;
    if (rows[json.i++] !== OPEN_BRACE) return false;
    for (let first = true; ; first = false) {
      while (rows[json.i] === SPACE) json.i++;
      if (first && rows[json.i] === CLOSE_BRACE) break;
      if (rows[json.i] !== QUOTE) return false;
      let keyEnd = json.i + 1;
      while (keyEnd < end && rows[keyEnd] !== QUOTE) if (rows[keyEnd++] === BACKSLASH) return false;
      if (keyEnd >= end) return false;
      const slot = memberSlot(rows, json.i + 1, keyEnd);
      json.i = keyEnd + 1;
      while (rows[json.i] === SPACE) json.i++;
      if (rows[json.i++] !== COLON) return false;
      while (rows[json.i] === SPACE) json.i++;
      const valueFrom = json.o;
      if (json.i >= end) return false;
      json.value(rows, scratch);
      if (json.rewrite || json.i > end) {
        json.rewrite = false;
        return false;
      }
      if (slot >= 0) {
        from[slot] = valueFrom;
        to[slot] = json.o;
      }
      while (rows[json.i] === SPACE) json.i++;
      if (rows[json.i] === COMMA) {
        json.i++;
        continue;
      }
      if (rows[json.i] === CLOSE_BRACE) break;
      return false;
    }
    if (json.i + 1 !== end) return false;
    const bodyOccurred = from[OCCURRED_AT]! >= 0;
    if (bodyOccurred && !isoString(scratch, from[OCCURRED_AT]!, to[OCCURRED_AT]!)) return false;
    // At most: the envelope, both timestamps, the values and their names.
    this.room(128 + (tenantEnd - this.i) + json.o + 16 * MEMBERS.length);
    const { out } = this;
    let o = copyBytes(UID_NAME, 0, UID_NAME.length, out, this.o);
    o = copyBytes(rows, this.i, uidEnd, out, o);
    o = copyBytes(TENANT_NAME, 0, TENANT_NAME.length, out, o);
    o = copyBytes(rows, uidEnd + 1, tenantEnd, out, o);
    o = copyBytes(SEQ_NAME, 0, SEQ_NAME.length, out, o);
    o = copyBytes(rows, tenantEnd + 1, seqEnd, out, o);
    for (let slot = 0; slot < MEMBERS.length; slot++) {
      if (from[slot]! >= 0 || slot === OCCURRED_AT) o = copyBytes(NAMES[slot]!, 0, NAMES[slot]!.length, out, o);
      if (from[slot]! >= 0) {
        o = copyBytes(scratch, from[slot]!, to[slot]!, out, o);
      } else if (slot === OCCURRED_AT) {
        o = isoFromPostgres(rows, receivedEnd + 1, occurredEnd, out, o);
        if (o < 0) return false;
      }
      if (slot === OCCURRED_AT) {
        o = copyBytes(RECEIVED_AT, 0, RECEIVED_AT.length, out, o);
        o = isoFromPostgres(rows, seqEnd + 1, receivedEnd, out, o);
        if (o < 0) return false;
      }
    }
    out[o++] = CLOSE_BRACE;
    out[o++] = NEWLINE;
    this.o = o;
    return true;
  }

  /** Whether rows[from, to) is the tenant as JSON.stringify writes it (checked once per tenant). */
  private knownTenant(from: number, to: number): boolean {
    const known = this.tenant;
    if (sameBytes(this.rows, from, to, known)) return true;
    const text = this.rows.toString('utf8', from, to);
    try {
      if (JSON.stringify(JSON.parse(text)) !== text) return false;
    } catch {
      return false;
    }
    this.tenant = this.rows.subarray(from, to);
    return true;
  }
}

/** Copies source[from, to) to out at o, returning the position after it: a loop, cheaper than Buffer#copy for the short runs here. */
function copyBytes(source: Buffer, from: number, to: number, out: Buffer, o: number): number {
  if (to - from > 64) return o + source.copy(out, o, from, to);
  for (let j = from; j < to; j++) out[o++] = source[j]!;
  return o;
}

/** The slot of the member named rows[from, to), or -1. */
function memberSlot(rows: Buffer, from: number, to: number): number {
  for (let slot = 0; slot < MEMBER_BYTES.length; slot++) {
    const name = MEMBER_BYTES[slot]!;
    if (sameBytes(rows, from, to, name)) return slot;
  }
  return -1;
}

/** Whether every byte of bytes[from, to) passes `test`. */
function allBytes(bytes: Uint8Array, from: number, to: number, test: (byte: number) => boolean): boolean {
  for (let k = from; k < to; k++) if (!test(bytes[k]!)) return false;
  return true;
}

/** Whether bytes[from, to) are those of `other`. */
function sameBytes(bytes: Uint8Array, from: number, to: number, other: Uint8Array): boolean {
  if (other.length !== to - from) return false;
  for (let k = 0; k < other.length; k++) if (bytes[from + k] !== other[k]) return false;
  return true;
}

/** Whether bytes[from, to) is seq as int8out writes it and a JavaScript number writes it back. */
function plainSeq(bytes: Uint8Array, from: number, to: number): boolean {
  const length = to - from;
  return length >= 1 && length <= 15 && (length === 1 || bytes[from] !== DIGIT_0) && allBytes(bytes, from, to, isDigit);
}

/** ISO_SHAPE: "dddd-dd-ddTdd:dd:dd.dddZ" with the quotes, d a digit. */
const ISO_SHAPE = Buffer.from('"0000-00-00T00:00:00.000Z"');
/** Whether bytes[from, to) is a JSON string of toISOString's form for a real date and time. */
function isoString(bytes: Uint8Array, from: number, to: number): boolean {
  if (to - from !== ISO_SHAPE.length) return false;
  for (let k = 0; k < ISO_SHAPE.length; k++) {
    const shape = ISO_SHAPE[k]!;
    if (shape === DIGIT_0 ? !isDigit(bytes[from + k]!) : bytes[from + k] !== shape) return false;
  }
  return realTime(bytes, from + 1);
}

/** PG_SHAPE: PostgreSQL's ISO-style timestamp, YYYY-MM-DD HH:MM:SS, then maybe a fraction. */
const PG_SHAPE = Buffer.from('0000-00-00 00:00:00');
/**
 * Writes the timestamp bytes[from, to), as PostgreSQL writes it in ISO style, at out[o] as a JSON
 * string of toISOString's form; the position after it, or -1 if it is not one of a real date and
 * time (Date would move 2026-02-30 to March).
 */
function isoFromPostgres(bytes: Uint8Array, from: number, to: number, out: Uint8Array, o: number): number {
  const length = to - from;
  if (length < 19 || (length > 19 && (bytes[from + 19] !== 0x2e || length === 20 || length > 26))) return -1;
  for (let k = 0; k < length; k++) {
    const shape = k < 19 ? PG_SHAPE[k]! : DIGIT_0;
    if (k === 19 ? false : shape === DIGIT_0 ? !isDigit(bytes[from + k]!) : bytes[from + k] !== shape) return -1;
  }
  if (!realTime(bytes, from)) return -1;
  out[o++] = QUOTE;
  for (let k = 0; k < 19; k++) out[o++] = k === 10 ? 0x54 : bytes[from + k]!; // T
  out[o++] = 0x2e;
  for (let k = 20; k < 23; k++) out[o++] = k < length ? bytes[from + k]! : DIGIT_0;
  out[o++] = 0x5a; // Z
  out[o++] = QUOTE;
  return o;
}

/** Whether the digits of YYYY-MM-DD?HH:MM:SS at `at` name a real date and time. */
function realTime(bytes: Uint8Array, at: number): boolean {
  const year = two(bytes, at) * 100 + two(bytes, at + 2);
  const month = two(bytes, at + 5);
  const day = two(bytes, at + 8);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return month >= 1 && month <= 12 && day >= 1 && day <= days && two(bytes, at + 11) <= 23 && two(bytes, at + 14) <= 59 && two(bytes, at + 17) <= 59;
}

function two(bytes: Uint8Array, at: number): number {
  return (bytes[at]! - DIGIT_0) * 10 + bytes[at + 1]! - DIGIT_0;
}

/** A timestamp as PostgreSQL writes it in ISO style, in toISOString's form; an error if it is not one of a real date and time. */
function isoOrThrow(text: string): string {
  const bytes = Buffer.from(text);
  const out = Buffer.alloc(32);
  const end = isoFromPostgres(bytes, 0, bytes.length, out, 0);
  if (end < 0) throw new Error(`event row: "${text}" is not a timestamp in ISO style`);
  return out.toString('latin1', 1, end - 1);
}
