/**
 * CSV (RFC 4180): a fixed header of the fields investigators sort and filter on, nested parts
 * (targets, changes, metadata) as JSON in their cell. Cells that a spreadsheet would run as a
 * formula (starting with = + - @ TAB CR, OWASP "CSV injection") get a leading apostrophe, which
 * Excel, LibreOffice and Google Sheets show as text.
 */
import type { StoredEvent } from '../event/types.ts';
import type { Fragment } from '../query/event-repository.ts';
import type { Sql } from '../store/db.ts';
import { isoMillis, type AssembledRecords } from './assembled-pages.ts';
import { CELL_END, ROW_END, tidyCsvRows, type CellKind } from './csv-rows.ts';
import { csvRecords, eventRow } from './event-lines.ts';
import type { EventFormat } from './format.ts';
import { nativeTidy } from './native-tidy.ts';

export const CSV_COLUMNS = [
  'uid',
  'seq',
  'occurred_at',
  'received_at',
  'action',
  'outcome',
  'actor_type',
  'actor_id',
  'actor_name',
  'targets',
  'ip',
  'user_agent',
  'location',
  'request_id',
  'reason',
  'changes',
  'metadata',
  'id',
  'source',
] as const;

type Column = (typeof CSV_COLUMNS)[number];

// Also a value that already starts with apostrophes before such a character, so the prefix is
// always removable: reading back, drop one leading apostrophe when /^'+[=+\-@\t\r]/ matches.
const FORMULA_START = /^'*[=+\-@\t\r]/;

const record = (event: StoredEvent) => `${CSV_COLUMNS.map((c) => csvCell(cellValue(event, c))).join(',')}\r\n`;

/**
 * Two ways PostgreSQL can write CSV pages. `cells`: it writes each cell (tidied in Node by
 * csv-rows.ts). `bodies`: it writes each event's body whole (event-lines.ts), about a third less of
 * its work per event, and the native addon takes the cells from it; without the addon every body
 * would be parsed in Node, slower than `cells`. Both give `record`'s bytes exactly.
 */
export const CSV_ASSEMBLED: { cells: AssembledRecords; bodies: AssembledRecords } = {
  bodies: { record: eventRow, finish: (rows) => csvRecords(rows, record) },
  cells: {
    record: (sql) => {
      const cells = CSV_COLUMNS.map((c) => ASSEMBLED_CELLS[c].sql(sql));
      const row = cells.slice(1).reduce((acc, cell) => sql`${acc}, ${CELL_END}::text, ${cell}`, cells[0]!);
      return sql`concat(${row}, ${ROW_END}::text)`;
    },
    // The actor and the context, each looked up once for their cells.
    lateral: (sql) => sql`cross join lateral (select e.body -> 'actor' as actor, e.body -> 'context' as context) x`,
    finish: (rows) => tidyCsvRows(rows, CELL_KINDS, csvCell),
  },
};

export const csv: EventFormat = {
  name: 'csv',
  mediaType: 'text/csv; charset=utf-8',
  extension: 'csv',
  preamble: `${CSV_COLUMNS.join(',')}\r\n`,
  record,
  assembled: nativeTidy ? CSV_ASSEMBLED.bodies : CSV_ASSEMBLED.cells,
};

/**
 * Each column as PostgreSQL writes it for src/export/csv-rows.ts: the value `cellValue` gives, NULL
 * (an empty cell) where it gives ''. Members the validator keeps free of control characters come as
 * they are (`plain`), free text as JSON (`text`), so that no cell can hold the cell or row ends.
 */
const text = (member: string) => ({ kind: 'text' as const, sql: (sql: Sql) => sql`(e.body -> ${member}::text)::text` });
const plain = (member: string) => ({ kind: 'plain' as const, sql: (sql: Sql) => sql`e.body ->> ${member}::text` });
const actor = (member: string) => ({ kind: 'plain' as const, sql: (sql: Sql) => sql`x.actor ->> ${member}::text` });
const context = (member: string, kind: 'plain' | 'text') => ({
  kind,
  sql: kind === 'plain' ? (sql: Sql) => sql`x.context ->> ${member}::text` : (sql: Sql) => sql`(x.context -> ${member}::text)::text`,
});
const json = (member: string, empty: string) => ({
  kind: 'json' as const,
  sql: (sql: Sql) => sql`nullif((e.body -> ${member}::text)::text, ${empty}::text)`,
});
const ASSEMBLED_CELLS: Record<Column, { kind: CellKind; sql: (sql: Sql) => Fragment }> = {
  uid: { kind: 'raw', sql: (sql) => sql`e.uid::text` },
  seq: { kind: 'raw', sql: (sql) => sql`e.seq::text` },
  occurred_at: { kind: 'raw', sql: (sql) => sql`coalesce(e.body ->> 'occurred_at', ${isoMillis(sql, sql`e.occurred_at`)})` },
  received_at: { kind: 'raw', sql: (sql) => isoMillis(sql, sql`e.received_at`) },
  // Stored beside the body from the same values, and restricted to [a-z0-9_.] by the validator:
  // the columns need neither a jsonb lookup nor escaping.
  action: { kind: 'raw', sql: (sql) => sql`e.action` },
  outcome: { kind: 'raw', sql: (sql) => sql`e.outcome` },
  actor_type: { kind: 'raw', sql: (sql) => sql`e.actor_type` },
  actor_id: actor('id'),
  actor_name: actor('name'),
  targets: json('targets', '[]'),
  ip: context('ip', 'plain'), // an IP address
  user_agent: context('user_agent', 'text'),
  location: context('location', 'plain'),
  request_id: context('request_id', 'plain'),
  reason: text('reason'),
  changes: json('changes', '[]'),
  metadata: json('metadata', '{}'),
  id: plain('id'),
  source: plain('source'),
};
const CELL_KINDS = CSV_COLUMNS.map((c) => ASSEMBLED_CELLS[c].kind);

function cellValue(e: StoredEvent, column: Column): string {
  switch (column) {
    case 'uid':
      return e.uid;
    case 'seq':
      return String(e.seq);
    case 'occurred_at':
      return e.occurred_at;
    case 'received_at':
      return e.received_at;
    case 'action':
      return e.action;
    case 'outcome':
      return e.outcome;
    case 'actor_type':
      return e.actor.type;
    case 'actor_id':
      return e.actor.id;
    case 'actor_name':
      return e.actor.name ?? '';
    case 'targets':
      return e.targets.length ? JSON.stringify(e.targets) : '';
    case 'ip':
      return e.context.ip ?? '';
    case 'user_agent':
      return e.context.user_agent ?? '';
    case 'location':
      return e.context.location ?? '';
    case 'request_id':
      return e.context.request_id ?? '';
    case 'reason':
      return e.reason ?? '';
    case 'changes':
      return e.changes?.length ? JSON.stringify(e.changes) : '';
    case 'metadata':
      return e.metadata && Object.keys(e.metadata).length ? JSON.stringify(e.metadata) : '';
    case 'id':
      return e.id ?? '';
    case 'source':
      return e.source ?? '';
  }
}

/** One RFC 4180 field: formula-neutralised, quoted when it holds a comma, quote or line break. */
export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
