/**
 * The events of one query, page after page by keyset, as an async iterable: what every export and
 * stream reads, in constant memory however many events match.
 */
import type { StoredEvent } from '../event/types.ts';
import { findEvents } from '../query/event-repository.ts';
import type { EventQuery } from '../query/filters.ts';
import type { Sql } from '../store/db.ts';

export const EXPORT_PAGE = 2000;

export async function* eventsMatching(sql: Sql, tenant: string, query: Omit<EventQuery, 'limit' | 'cursor'>, pageSize = EXPORT_PAGE): AsyncGenerator<StoredEvent> {
  let cursor: string | undefined;
  do {
    const page = await findEvents(sql, tenant, { ...query, limit: pageSize, ...(cursor ? { cursor } : {}) });
    yield* page.data;
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
}
