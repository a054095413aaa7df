/**
 * An export format: how one stored event becomes one record of text. Every format is a plain object
 * in its own file (jsonl.ts, csv.ts, cef.ts, …), listed in formats.ts; `formatStream` turns any of
 * them into a Transform, so exports, the CLI and streams write records as events arrive and never
 * hold more than one page of events in memory. One contract suite (formats.contract.test.ts) runs
 * against every format.
 */
import { Transform } from 'node:stream';
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

/** Events in (object mode), the format's text out. */
export function formatStream(format: EventFormat): Transform {
  let started = false;
  return new Transform({
    writableObjectMode: true,
    transform(event: StoredEvent, _encoding, done) {
      const text = format.record(event);
      if (!started) {
        started = true;
        done(null, (format.preamble ?? '') + text);
      } else {
        done(null, text);
      }
    },
    flush(done) {
      // An empty export still gets its header row.
      done(null, started ? '' : (format.preamble ?? ''));
    },
  });
}
