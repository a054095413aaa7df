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
  // The next page is read while the consumer formats and writes this one: database and CPU overlap.
  const read = (cursor?: string) => findEvents(sql, tenant, { ...query, limit: pageSize, ...(cursor ? { cursor } : {}) });
  let next = read();
  for (;;) {
    const page = await next;
    const cursor = page.next_cursor ?? undefined;
    if (cursor) {
      next = read(cursor);
      next.catch(() => {}); // surfaces at the next await, if the consumer gets that far
    }
    yield* page.data;
    if (!cursor) return;
  }
}
