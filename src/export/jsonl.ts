/** JSON Lines (jsonlines.org): one event per line, exactly as the read API returns it. */
import type { EventFormat } from './format.ts';
import { jsonLine } from './line-breaks.ts';

export const jsonl: EventFormat = {
  name: 'jsonl',
  mediaType: 'application/x-ndjson',
  extension: 'jsonl',
  // One line by every reader's definition of a line break (line-breaks.ts).
  record: (event) => `${jsonLine(event)}\n`,
};
