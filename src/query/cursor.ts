/**
 * Keyset cursors: the (occurred_at, seq) position of the last row served, the sort direction, and a
 * fingerprint of the filter, so a cursor reused with other filters is refused instead of silently
 * returning a wrong page. Opaque to clients (base64url JSON); not secret: it only names a position.
 * A time bound given relative to the request (`since=-1h`) is resolved on the first page and carried
 * in the cursor, so every page of one query reads one window.
 */
import { createHash } from 'node:crypto';
import { TrailproofError } from '../errors.ts';
import { parseRfc3339 } from '../event/timestamp.ts';
import type { EventFilter } from './filters.ts';

export interface Position {
  occurredAt: string;
  seq: number;
}

/** The resolved relative bounds a cursor carries. */
export type Window = Pick<EventFilter, 'since' | 'until'>;

export function encodeCursor(position: Position, sort: 'asc' | 'desc', filter: EventFilter, tenant: string): string {
  const window = windowOf(filter);
  const c = { o: position.occurredAt, s: position.seq, d: sort, f: fingerprint(filter, tenant), ...(window ? { w: window } : {}) };
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

/** The position a cursor names, and the relative bounds (if any) as the first page resolved them. */
export function decodeCursor(cursor: string, sort: 'asc' | 'desc', filter: EventFilter, tenant: string): Position & { window?: Window } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('cursor is not one this server issued');
  }
  const c = parsed as { o?: unknown; s?: unknown; d?: unknown; f?: unknown; w?: unknown };
  if (!isInstant(c.o) || !Number.isSafeInteger(c.s) || (c.s as number) < 0) {
    throw invalid('cursor is not one this server issued');
  }
  if (c.d !== sort || c.f !== fingerprint(filter, tenant)) throw invalid('cursor belongs to a query with other filters or sort order');
  const window = windowOf(filter) ? (c.w as Window | undefined) : undefined;
  if (window && !isWindow(window)) throw invalid('cursor is not one this server issued');
  return { occurredAt: c.o, seq: c.s as number, ...(window ? { window } : {}) };
}

function windowOf(filter: EventFilter): Window | undefined {
  if (!filter.relative) return undefined;
  const window: Window = {};
  if (filter.relative.since !== undefined && filter.since !== undefined) window.since = filter.since;
  if (filter.relative.until !== undefined && filter.until !== undefined) window.until = filter.until;
  return window;
}

function isWindow(w: unknown): w is Window {
  if (typeof w !== 'object' || w === null) return false;
  return Object.entries(w).every(([k, v]) => (k === 'since' || k === 'until') && isInstant(v));
}

/** A time as this server writes it into cursors: RFC 3339, in the range every query can bind. */
function isInstant(v: unknown): v is string {
  return typeof v === 'string' && parseRfc3339(v) !== undefined;
}

/** Of the filter as given: a relative bound counts by its text (`-1h`), not by the time it resolved to. */
function fingerprint(filter: EventFilter, tenant: string): string {
  const given: EventFilter = { ...filter };
  if (filter.relative?.since !== undefined) delete given.since;
  if (filter.relative?.until !== undefined) delete given.until;
  const entries = Object.entries(given).sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256')
    .update(JSON.stringify([tenant, entries]))
    .digest('base64url')
    .slice(0, 16);
}

function invalid(message: string): TrailproofError {
  return new TrailproofError('CURSOR_INVALID', message, { details: [{ pointer: '/cursor', code: 'invalid_cursor', message }] });
}
