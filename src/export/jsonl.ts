/** JSON Lines (jsonlines.org): one event per line, exactly as the read API returns it. */
import type { EventFormat } from './format.ts';

export const jsonl: EventFormat = {
  name: 'jsonl',
  mediaType: 'application/x-ndjson',
  extension: 'jsonl',
  // JSON.stringify escapes control characters, so a record is always one line.
  record: (event) => `${JSON.stringify(event)}\n`,
};
