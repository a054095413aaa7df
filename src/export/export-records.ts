/**
 * The records of an export, a chunk per page, for the API route and the CLI alike: assembled by
 * PostgreSQL when the format can be (src/export/assembled-pages.ts), else formatted here from
 * stored events. Both give the same bytes (test/export/assembled-records.test.ts holds them to it).
 */
import type { EventQuery } from '../query/filters.ts';
import type { Sql } from '../store/db.ts';
import { assembledPages } from './assembled-pages.ts';
import { pagesMatching } from './event-source.ts';
import { formatPages, type EventFormat } from './format.ts';

export async function* exportRecords(
  sql: Sql,
  tenant: string,
  query: Omit<EventQuery, 'limit' | 'cursor'>,
  format: EventFormat,
  counted: (events: number) => void = () => {},
): AsyncGenerator<string | Buffer> {
  if (!format.assembled) {
    yield* formatPages(format, countPages(pagesMatching(sql, tenant, query), counted));
    return;
  }
  if (format.preamble) yield format.preamble;
  for await (const page of assembledPages(sql, tenant, query, format.assembled)) {
    counted(page.events);
    yield page.records;
  }
}

async function* countPages<T>(pages: AsyncIterable<T[]>, counted: (events: number) => void): AsyncGenerator<T[]> {
  for await (const page of pages) {
    counted(page.length);
    yield page;
  }
}
