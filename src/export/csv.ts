/**
 * CSV (RFC 4180): a fixed header of the fields investigators sort and filter on, nested parts
 * (targets, changes, metadata) as JSON in their cell. Cells that a spreadsheet would run as a
 * formula (starting with = + - @ TAB CR, OWASP "CSV injection") get a leading apostrophe, which
 * Excel, LibreOffice and Google Sheets show as text.
 */
import type { StoredEvent } from '../event/types.ts';
import type { EventFormat } from './format.ts';

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

function record(event: StoredEvent): string {
  let row = csvCell(cellValue(event, CSV_COLUMNS[0]));
  for (let i = 1; i < CSV_COLUMNS.length; i++) row += `,${csvCell(cellValue(event, CSV_COLUMNS[i]!))}`;
  return `${row}\r\n`;
}

export const csv: EventFormat = {
  name: 'csv',
  mediaType: 'text/csv; charset=utf-8',
  extension: 'csv',
  preamble: `${CSV_COLUMNS.join(',')}\r\n`,
  record,
};

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

/** Either of the two: most cells have neither, and one test of them is cheaper than two. */
const NEEDS_CARE = /^'*[=+\-@\t\r]|[",\r\n]/;

/** One RFC 4180 field: formula-neutralised, quoted when it holds a comma, quote or line break. */
export function csvCell(value: string): string {
  if (!NEEDS_CARE.test(value)) return value;
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
