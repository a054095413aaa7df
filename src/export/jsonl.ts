/** JSON Lines (jsonlines.org): one event per line, exactly as the read API returns it. */
import { eventLines, eventRow } from './event-lines.ts';
import type { EventFormat } from './format.ts';
import { escapeJsonBreakBytes, jsonLine } from './line-breaks.ts';

export const jsonl: EventFormat = {
  name: 'jsonl',
  mediaType: 'application/x-ndjson',
  extension: 'jsonl',
  // One line by every reader's definition of a line break (line-breaks.ts).
  record: (event) => `${jsonLine(event)}\n`,
  assembled: {
    // The read API's shape, written from rows PostgreSQL writes cheaply (the body whole): see event-lines.ts.
    record: eventRow,
    finish: (rows) => escapeJsonBreakBytes(eventLines(rows)),
    // A record is one line: JSON writes a line break inside a string as \n.
    split: (page) => {
      const lines = page.toString('utf8').split('\n');
      lines.pop(); // after the last record's newline
      return lines.map((line) => `${line}\n`);
    },
  },
};
