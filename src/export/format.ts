/**
 * An export format: how one stored event becomes one record of text. Every format is a plain object
 * in its own file (jsonl.ts, csv.ts, cef.ts, …), listed in formats.ts, and its `record` is the one
 * formatter of that format: exports, streams and the CLI all call it. `formatPages` turns pages of
 * events into text, one chunk per page, so exports and the CLI write records as pages arrive and
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

/** The format's text of each page of events, one string per page; the preamble comes first even with no events. */
export async function* formatPages(format: EventFormat, pages: AsyncIterable<StoredEvent[]> | Iterable<StoredEvent[]>): AsyncGenerator<string> {
  let text = format.preamble ?? '';
  for await (const page of pages) {
    for (const event of page) text += format.record(event);
    yield text;
    text = '';
  }
  if (text !== '') yield text;
}
