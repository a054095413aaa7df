/** JSON Lines (jsonlines.org): one event per line, exactly as the read API returns it. */
import { eventLines, eventRow } from './event-lines.ts';
import type { EventFormat } from './format.ts';

export const jsonl: EventFormat = {
  name: 'jsonl',
  mediaType: 'application/x-ndjson',
  extension: 'jsonl',
  // JSON.stringify escapes control characters, so a record is always one line.
  record: (event) => `${JSON.stringify(event)}\n`,
  assembled: {
    // The read API's shape, written from rows PostgreSQL writes cheaply (the body whole): see event-lines.ts.
    record: eventRow,
    finish: (rows) => eventLines(rows),
    // A record is one line: JSON writes a line break inside a string as \n.
    split: (page) => {
      const lines = page.toString('utf8').split('\n');
      lines.pop(); // after the last record's newline
      return lines.map((line) => `${line}\n`);
    },
  },
};
