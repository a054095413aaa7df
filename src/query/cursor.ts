/**
 * Keyset cursors: the (occurred_at, seq) position of the last row served, the sort direction, and a
 * fingerprint of the filter, so a cursor reused with other filters is refused instead of silently
 * returning a wrong page. Opaque to clients (base64url JSON); not secret: it only names a position.
 */
import { createHash } from 'node:crypto';
import { TrailproofError } from '../errors.ts';
import type { EventFilter } from './filters.ts';

export interface Position {
  occurredAt: string;
  seq: number;
}

export function encodeCursor(position: Position, sort: 'asc' | 'desc', filter: EventFilter, tenant: string): string {
  return Buffer.from(JSON.stringify({ o: position.occurredAt, s: position.seq, d: sort, f: fingerprint(filter, tenant) })).toString('base64url');
}

export function decodeCursor(cursor: string, sort: 'asc' | 'desc', filter: EventFilter, tenant: string): Position {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('cursor is not one this server issued');
  }
  const c = parsed as { o?: unknown; s?: unknown; d?: unknown; f?: unknown };
  if (typeof c.o !== 'string' || Number.isNaN(Date.parse(c.o)) || !Number.isSafeInteger(c.s) || (c.s as number) < 0) {
    throw invalid('cursor is not one this server issued');
  }
  if (c.d !== sort || c.f !== fingerprint(filter, tenant)) throw invalid('cursor belongs to a query with other filters or sort order');
  return { occurredAt: c.o, seq: c.s as number };
}

function fingerprint(filter: EventFilter, tenant: string): string {
  const entries = Object.entries(filter).sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256')
    .update(JSON.stringify([tenant, entries]))
    .digest('base64url')
    .slice(0, 16);
}

function invalid(message: string): TrailproofError {
  return new TrailproofError('CURSOR_INVALID', message, { details: [{ pointer: '/cursor', code: 'invalid_cursor', message }] });
}
