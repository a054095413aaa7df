/**
 * The records of an export as UTF-8 chunks, for the API route and the CLI alike: the matching
 * events read page by page (event-source.ts) and written by the format's `record`.
 */
import type { EventQuery } from '../query/filters.ts';
import type { Sql } from '../store/db.ts';
import { pagesMatching } from './event-source.ts';
import { formatPages, type EventFormat } from './format.ts';

export async function* exportRecords(
  sql: Sql,
  tenant: string,
  query: Omit<EventQuery, 'limit' | 'cursor'>,
  format: EventFormat,
  counted: (events: number) => void = () => {},
): AsyncGenerator<Buffer> {
  yield* formatPages(format, countPages(pagesMatching(sql, tenant, query), counted));
}

async function* countPages<T>(pages: AsyncIterable<T[]>, counted: (events: number) => void): AsyncGenerator<T[]> {
  for await (const page of pages) {
    counted(page.length);
    yield page;
  }
}
