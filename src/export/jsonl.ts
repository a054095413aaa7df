/** JSON Lines (jsonlines.org): one event per line, exactly as the read API returns it. */
import type { Sql } from '../store/db.ts';
import { isoMillis } from './assembled-pages.ts';
import type { EventFormat } from './format.ts';
import { compactJsonLines } from './json-compact.ts';

export const jsonl: EventFormat = {
  name: 'jsonl',
  mediaType: 'application/x-ndjson',
  extension: 'jsonl',
  // JSON.stringify escapes control characters, so a record is always one line.
  record: (event) => `${JSON.stringify(event)}\n`,
  assembled: {
    // The read API's shape (toStoredEvent in src/query/event-repository.ts), key for key; a member
    // the body lacks is left out, as JSON.stringify leaves out an undefined one. The body's
    // occurred_at is the column's value in the API's form (the validator writes both). Action and
    // outcome come from their columns, stored from the body and restricted by the validator to
    // [a-z0-9_.]: no jsonb lookup, nothing to escape.
    // The tenant is the same on every row: written once, by JSON.stringify (which escapes as
    // PostgreSQL's to_json does), as a parameter.
    record: (sql: Sql, tenant: string) => sql`concat('{"uid":"', e.uid, '","tenant":', ${JSON.stringify(tenant)}::text, ',"seq":', e.seq,
      ',"id":' || (e.body->'id')::text, ',"action":"' || e.action || '"',
      ',"occurred_at":' || coalesce((e.body->'occurred_at')::text, '"' || ${isoMillis(sql, sql`e.occurred_at`)} || '"'),
      ',"received_at":"', ${isoMillis(sql, sql`e.received_at`)}, '"',
      ',"actor":' || (e.body->'actor')::text, ',"targets":' || (e.body->'targets')::text,
      ',"outcome":"' || e.outcome || '"', ',"reason":' || (e.body->'reason')::text,
      ',"context":' || (e.body->'context')::text, ',"changes":' || (e.body->'changes')::text,
      ',"metadata":' || (e.body->'metadata')::text, ${'}\n'}::text)`,
    finish: compactJsonLines,
    // A record is one line: JSON writes a line break inside a string as \n.
    split: (page) => {
      const lines = page.toString('utf8').split('\n');
      lines.pop(); // after the last record's newline
      return lines.map((line) => `${line}\n`);
    },
  },
};
