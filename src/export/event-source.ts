/**
 * The events of one query, page after page by keyset, as an async iterable of pages: what every
 * export reads, in constant memory however many events match. Pages, not single events, travel
 * down the pipeline: per-item stream machinery cost more than formatting an event.
 */
import type { StoredEvent } from '../event/types.ts';
import { findEvents } from '../query/event-repository.ts';
import type { EventQuery } from '../query/filters.ts';
import type { Sql } from '../store/db.ts';

export const EXPORT_PAGE = 2000;

export async function* pagesMatching(
  sql: Sql,
  tenant: string,
  query: Omit<EventQuery, 'limit' | 'cursor'>,
  pageSize = EXPORT_PAGE,
): AsyncGenerator<StoredEvent[]> {
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
    if (page.data.length > 0) yield page.data;
    if (!cursor) return;
  }
}
