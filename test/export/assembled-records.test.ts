/**
 * Exports assembled by PostgreSQL (src/export/assembled-pages.ts) against the same records formatted
 * in Node from stored events: byte for byte, on random events and on the values where the two could
 * part (numbers jsonb writes out in full, array-index keys, every escaped character), over page
 * boundaries, in both orders and through the target filter's join.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventArb } from '../../src/event/test-arbitraries.ts';
import { assembledPages } from '../../src/export/assembled-pages.ts';
import { pagesMatching } from '../../src/export/event-source.ts';
import { exportRecords } from '../../src/export/export-records.ts';
import { formatPages, type EventFormat } from '../../src/export/format.ts';
import { EVENT_FORMATS } from '../../src/export/formats.ts';
import { csv, CSV_ASSEMBLED } from '../../src/export/csv.ts';
import { eventLines, eventRow } from '../../src/export/event-lines.ts';
import { jsonl } from '../../src/export/jsonl.ts';
import { parseEventQuery } from '../../src/query/filters.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
// Every format PostgreSQL assembles, CSV both ways (the one not in use here too: csv.ts).
const ASSEMBLED: [string, EventFormat][] = [
  ...[...EVENT_FORMATS.values()].filter((f) => f.assembled && f !== csv).map((f) => [f.name, f] as [string, EventFormat]),
  ['csv (cells)', { ...csv, assembled: CSV_ASSEMBLED.cells }],
  ['csv (bodies)', { ...csv, assembled: CSV_ASSEMBLED.bodies }],
];

const CONTROL = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i))
  .join('')
  .slice(1);
const awkward = [
  {
    action: 'numbers.edge',
    actor: { type: 'user', id: 'n', name: '-1 starts like a formula' },
    metadata: {
      big: 1e21,
      huger: 1.7976931348623157e308,
      tiny: 1e-7,
      least: 5e-324,
      neg: -0.000001,
      frac: 0.1,
      third: 1 / 3,
      int: 9007199254740991,
      zero: 0,
      negzero: -0,
    },
  },
  {
    action: 'keys.index',
    actor: { type: 'user', id: 'k' },
    metadata: { a: 1, 10: 'ten', 0: 'zero', 4294967295: 'not an index', 4294967294: 'index', '01': 'not an index' },
  },
  {
    action: 'keys.nested',
    actor: { type: 'user', id: 'k2' },
    changes: [{ field: 'f', before: { 2: [1e100, { 1: null }] }, after: [{ '': true, ' ': false }] }],
  },
  {
    action: 'text.escapes',
    actor: { type: 'user', id: 'e', name: '=SUM(A1:A2)' },
    reason: `quote " backslash \\ controls ${CONTROL} del \u007f ls \u2028 ps \u2029 emoji 😀 comma, newline\n`,
    context: { location: 'São Paulo, BR', user_agent: 'a "quoted", agent' },
    metadata: { 'key "q"': 'v\\', '-k': '+1', "'=x": "'@y", ctl: CONTROL },
  },
  { action: 'text.formula', actor: { type: 'user', id: '@me', name: '+1' }, context: { ip: '10.0.0.1', request_id: '-r', location: '=loc' }, reason: '\tTab' },
  { action: 'text.formula', actor: { type: 'user', id: 'cr' }, reason: "''=apostrophes\r" },
  { action: 'text.formula', actor: { type: 'user', id: 'cr2' }, reason: '\rCR' },
  { action: 'text.plain', actor: { type: 'user', id: 'say "hi", ok', name: "'=already" }, context: { request_id: "'plain", location: 'a"b' } },
  { id: 'client-1', action: 'minimal', actor: { type: 'service', id: 's' } },
];

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  // Client ids made unique: fast-check draws the same short ones again.
  const random = fc.sample(eventArb, { numRuns: 240, seed: 20261129 }).map((e, i) => ({ ...(e.input as object), id: `r${i}`, tenant: 'acme' }));
  const events = [...awkward.map((e) => ({ ...e, tenant: 'acme', targets: [{ type: 'doc', id: 'd1', name: 'D, one' }] })), ...random];
  for (let i = 0; i < events.length; i += 100) {
    const res = await t.request('POST', '/v1/events', { body: { events: events.slice(i, i + 100) } });
    expect(res.statusCode, res.body).toBe(200);
    expect(JSON.parse(res.body).rejected ?? []).toEqual([]);
  }
});
afterAll(async () => {
  await t.close();
});

async function text(chunks: AsyncIterable<string | Buffer>): Promise<string> {
  let out = '';
  for await (const c of chunks) out += c.toString();
  return out;
}

const inNode = (format: EventFormat, params: Record<string, string>) =>
  text(formatPages(format, pagesMatching(t.services.sql, 'acme', parseEventQuery(params))));

describe.each(ASSEMBLED)('%s assembled by PostgreSQL', (_name, format) => {
  it.each([[{ sort: 'asc' }], [{ sort: 'desc' }], [{ sort: 'asc', action: 'text.*' }], [{ sort: 'asc', target_type: 'doc', target_id: 'd1' }]])(
    'equals the records formatted in Node, byte for byte: %j',
    async (params) => {
      const expected = await inNode(format, params);
      expect(expected.length).toBeGreaterThan(1000);
      expect(await text(exportRecords(t.services.sql, 'acme', parseEventQuery(params), format))).toBe(expected);
    },
  );

  it('pages of any size give the same records, each event once', async () => {
    for (const [pageSize, sort] of [
      [1, 'asc'],
      [7, 'desc'],
      [50, 'asc'],
    ] as const) {
      const query = parseEventQuery({ sort });
      let out = format.preamble ?? '';
      let events = 0;
      for await (const page of assembledPages(t.services.sql, 'acme', query, format.assembled!, pageSize)) {
        expect(page.events).toBeLessThanOrEqual(pageSize);
        events += page.events;
        out += page.records.toString();
      }
      expect(out).toBe(await inNode(format, { sort }));
      expect(events).toBe(awkward.length + 240);
    }
  });

  it('a reader that stops early stops the pages ahead of it, and the pool stays usable', async () => {
    const pages = assembledPages(t.services.sql, 'acme', parseEventQuery({ sort: 'asc' }), format.assembled!, 5);
    const first = await pages.next();
    expect(first.done).toBe(false);
    await pages.return(undefined);
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the pages in flight settle
    const [row] = await t.services.sql<{ n: number }[]>`select count(*)::int as n from events where tenant_id = 'acme'`;
    expect(row?.n).toBeGreaterThanOrEqual(248);
  });

  it('an export matching nothing is the preamble alone', async () => {
    expect(await text(exportRecords(t.services.sql, 'acme', parseEventQuery({ actor: 'nobody' }), format))).toBe(format.preamble ?? '');
  });
});

describe('event lines', () => {
  it('are the same with and without the native addon, from bodies with and without occurred_at', async () => {
    const { sql } = t.services;
    const expected = await inNode(jsonl, { sort: 'asc' });
    for (const body of [sql`e.body`, sql`e.body - 'occurred_at'`]) {
      // The rows of event-lines.ts, the body as stored or without occurred_at (the column's then).
      const [row] = await sql`
        select string_agg(${eventRow(sql, 'acme')}, '' order by e.occurred_at, e.seq) as rows
        from (select e.uid, e.seq, e.tenant_id, e.occurred_at, e.received_at, ${body} as body from events e where e.tenant_id = 'acme') e`.raw();
      const rows = (row as unknown as [Buffer])[0];
      expect(eventLines(Buffer.from(rows), null).toString()).toBe(expected);
      expect(eventLines(Buffer.from(rows)).toString()).toBe(expected);
    }
  });
});
