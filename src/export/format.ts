/**
 * An export format: how one stored event becomes one record of text. Every format is a plain object
 * in its own file (jsonl.ts, csv.ts, cef.ts, …), listed in formats.ts, and its `record` is the one
 * formatter of that format: exports, streams and the CLI all call it. `formatPages` turns pages of
 * events into UTF-8, page by page, so exports and the CLI write records as pages arrive and
 * never hold more than one page of events in memory. One contract suite (formats.contract.test.ts) runs
 * against every format.
 */
import type { StoredEvent } from '../event/types.ts';

export interface EventFormat {
  /** The `format=` / `--format` value. */
  readonly name: string;
  /** Content-Type of an export in this format. */
  readonly mediaType: string;
  /** File extension, without the dot. */
  readonly extension: string;
  /** Text before the first record (the CSV header row); default none. */
  readonly preamble?: string;
  /**
   * One event as one record, terminated (`\n`, or CRLF for CSV). Records never contain a bare line
   * break of their own except where the format quotes it (CSV), so line-based receivers split them.
   */
  record(event: StoredEvent): string;
}

/** Bytes set aside at a time for records; a record longer than that gets a chunk of its own size. */
const CHUNK_BYTES = 1 << 18;

/**
 * The format's records of pages of events as UTF-8 chunks, each page's last record ending a chunk;
 * the preamble comes first even with no events. Each record is written into a buffer as soon as it
 * is made, instead of a page's records being joined into one string and encoded after: the record's
 * string is garbage at once, and no page-sized string is ever built, flattened or copied.
 */
export async function* formatPages(format: EventFormat, pages: AsyncIterable<StoredEvent[]> | Iterable<StoredEvent[]>): AsyncGenerator<Buffer> {
  let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let at = format.preamble ? buffer.write(format.preamble) : 0;
  for await (const page of pages) {
    for (const event of page) {
      const record = format.record(event);
      // UTF-8 takes at most three bytes per UTF-16 code unit (a surrogate pair: four for two).
      if (at + record.length * 3 > buffer.length) {
        if (at > 0) yield buffer.subarray(0, at);
        buffer = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, record.length * 3));
        at = 0;
      }
      at += buffer.write(record, at);
    }
    if (at > 0) {
      yield buffer.subarray(0, at);
      // What was yielded is never written again: the next records go after it.
      buffer = buffer.subarray(at);
      at = 0;
    }
  }
  if (at > 0) yield buffer.subarray(0, at);
}
