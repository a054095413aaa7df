/**
 * Export pages assembled by PostgreSQL. For a format that can say in SQL how an event becomes its
 * record (JSON Lines, CSV), one query per page returns the page's records as one text, raw bytes,
 * which the format then only works on as bytes (`finish`: csv-rows.ts, event-lines.ts): no row
 * objects, and no JSON.parse or JSON.stringify in Node but for the odd event.
 *
 * The database's per-event work (writing the jsonb out) is what limits an export, so three pages are
 * assembled at once, on three connections: a cheap query over the key index first finds where the
 * next pages end (every `pageSize`-th position, up to `PAGES_AHEAD` pages on), then each page is
 * the rows between two such positions. Pages are yielded in order. Positions are the same keyset
 * as every other reader (src/query/event-repository.ts).
 */
import type { Position } from '../query/cursor.ts';
import type { EventQuery } from '../query/filters.ts';
import { keysetSelection, type Fragment } from '../query/event-repository.ts';
import type { Sql } from '../store/db.ts';

/** How PostgreSQL writes a format's records. */
export interface AssembledRecords {
  /** SQL expression over `e` (events, all of `tenant`) of one event's record, terminator included. */
  record(sql: Sql, tenant: string): Fragment;
  /** Joined after `events e` for `record` to use: parts of the body looked up once per row. */
  lateral?(sql: Sql): Fragment;
  /** A page of such records, made byte for byte what the format's own `record` writes. */
  finish(page: Buffer): Buffer;
  /**
   * A finished page's records, one string each, terminator included; for formats whose record
   * boundaries are plain to see (one line each), which the stream worker can then take from the
   * database (src/stream/feed-records.ts).
   */
  split?(page: Buffer): string[];
}

export interface AssembledPage {
  records: Buffer;
  events: number;
}

/**
 * Events per page: a page costs a query plan over every partition and a round trip, which 5,000
 * events make small (2,000: 86k events/s in bench/export.ts, 5,000: 93-108k); about 2.5 MB of text.
 */
const ASSEMBLED_PAGE = 5000;
/**
 * Pages assembled at once (each on its own connection). Three rather than two even on two cores: the
 * database gets the cores the server leaves idle between pages (bench/export.ts, six alternating
 * pairs: CSV 88-109k against 82-108k events/s, JSON Lines 88-102k against 84-101k).
 */
const PARALLEL_PAGES = 3;
/** Pages held ahead of the reader, assembled or being assembled (about 2.5 MB each). */
const QUEUED_PAGES = 4;
/** Pages whose ends one boundary query finds. */
const PAGES_AHEAD = 16;

/** SQL of a timestamptz as Date.prototype.toISOString writes it (UTC, milliseconds). */
export function isoMillis(sql: Sql, column: Fragment): Fragment {
  return sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

export async function* assembledPages(
  sql: Sql,
  tenant: string,
  query: Omit<EventQuery, 'limit' | 'cursor'>,
  assembled: AssembledRecords,
  pageSize = ASSEMBLED_PAGE,
): AsyncGenerator<AssembledPage> {
  const record = assembled.record(sql, tenant);
  const lateral = assembled.lateral?.(sql) ?? sql``;

  /** The last position of each of the next pages after `from`, the last one maybe short. */
  const boundaries = async (from: Position | undefined): Promise<Position[]> => {
    const { from: source, where, order } = keysetSelection(sql, tenant, query, { after: from });
    const rows = await sql<{ o: Date; s: number }[]>`
      select o, s from (
        select o, s, row_number() over () as n, count(*) over () as total
        from (select e.occurred_at as o, e.seq as s from ${source} where ${where} ${order} limit ${pageSize * PAGES_AHEAD}) k
      ) b where n % ${pageSize} = 0 or n = total order by n`;
    return rows.map((r) => ({ occurredAt: r.o.toISOString(), seq: r.s }));
  };

  const page = async (from: Position | undefined, upTo: Position): Promise<AssembledPage> => {
    const { from: source, where, order } = keysetSelection(sql, tenant, query, { after: from, upTo });
    // Aggregating an ordered subquery keeps its order.
    const [row] = await sql`
      select string_agg(r, '') as records, count(*)::int4 as events
      from (select ${record} as r from ${source} ${lateral} where ${where} ${order}) p`.raw();
    const [records, events] = row as unknown as [Buffer | null, Buffer];
    return { records: records ?? Buffer.alloc(0), events: Number(events.toString('latin1')) };
  };

  // Pages are assembled ahead of the reader: at most PARALLEL_PAGES queries at once and at most
  // QUEUED_PAGES pages held (running or waiting to be read), so a slow reader pauses the database
  // instead of filling memory, and a short stall of the reader does not leave the database idle.
  let stopped = false;
  let start: Position | undefined;
  let ends: Position[] = [];
  let lastWindow = false;
  let finding: Promise<void> | undefined;
  let running = 0;
  const queue: Promise<AssembledPage>[] = [];
  const pump = (): void => {
    while (!stopped && running < PARALLEL_PAGES && queue.length < QUEUED_PAGES && ends.length > 0) {
      const end = ends.shift()!;
      const pending = page(start, end);
      start = end;
      running++;
      pending.then(
        () => {
          running--;
          pump();
        },
        () => {
          running--; // surfaces when the reader gets to it
        },
      );
      queue.push(pending);
    }
    if (!stopped && ends.length === 0 && !lastWindow && !finding) {
      // The next window's page ends, found while the pages before them are assembled.
      finding = boundaries(start).then((found) => {
        ends = found;
        lastWindow = found.length < PAGES_AHEAD;
        finding = undefined;
        pump();
      });
      finding.catch(() => {});
    }
  };
  try {
    pump();
    for (;;) {
      if (queue.length === 0) {
        if (finding) {
          await finding;
          continue;
        }
        if (ends.length === 0 && lastWindow) return;
        pump();
        continue;
      }
      const done = await queue.shift()!;
      pump();
      if (done.events > 0) yield { records: assembled.finish(done.records), events: done.events };
    }
  } finally {
    stopped = true;
  }
}
