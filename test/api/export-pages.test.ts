/**
 * Exports read pages their own way (src/export/event-source.ts: one JSON value per page written by
 * PostgreSQL) and must write exactly the bytes the read API's events give every format's `record`:
 * on events built to differ (unicode, line breaks, quotes, formula starts, nested metadata with
 * numbers JSON writes in several forms, absent members, service records, the trail of a purge and
 * of an erasure), in both orders, by prefix and by target, across page boundaries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/event/types.ts';
import { pagesMatching } from '../../src/export/event-source.ts';
import { exportRecords } from '../../src/export/export-records.ts';
import { formatPages } from '../../src/export/format.ts';
import { EVENT_FORMATS } from '../../src/export/formats.ts';
import { findEvents } from '../../src/query/event-repository.ts';
import { parseEventQuery } from '../../src/query/filters.ts';
import { appendReceivedAgo } from '../helpers/aged-events.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { runLifecycle } from '../helpers/lifecycle-run.ts';

const TENANT = 'pages-a';
const TEXT = ['ünïcødé — 東京 🙂', 'quote " comma , backslash \\', '=cmd|" /C calc"!A0', '+1', '-2+3', '@SUM(1)', "'=x", 'tab\u00a0nbsp', ' spaced '];
const MULTILINE = 'first\nsecond\r\n=third\u2028ls\u2029ps\u0085nel\vvt\fff';
const NUMBERS = [0, -0, 1, -17, 0.1, 1.5e-7, 1e21, 123456789012345, 2 ** 53 - 1, 3.141592653589793, 1e-7, 1000000.5];

let t: TestApp;
let admin: string;

const event = (i: number) => ({
  tenant: TENANT,
  ...(i % 4 ? { id: `e-${i}` } : {}),
  action: ['document.updated', 'document.read', 'user.login_failed', 'user.session.viewed'][i % 4],
  occurred_at: i === 0 ? '1970-01-01T00:00:00.000Z' : new Date(Date.UTC(2026, 10, 20, 10, 0, i % 7, (i * 37) % 1000)).toISOString(),
  actor: {
    type: 'user',
    id: i % 5 === 0 ? 'xavier' : `user_${i % 3}`,
    ...(i % 2 ? { name: TEXT[i % TEXT.length] } : {}),
    ...(i % 6 === 1 ? { metadata: { 10: 'ten', 2: 'two', b: [1, { z: null, a: true }] } } : {}),
  },
  targets:
    i % 5 === 4
      ? []
      : [
          {
            type: 'document',
            id: `doc_${i % 4}`,
            name: TEXT[(i + 1) % TEXT.length],
            ...(i % 3 ? {} : { metadata: { deep: { deeper: { n: NUMBERS[i % NUMBERS.length] } } } }),
          },
        ],
  outcome: i % 3 ? 'success' : 'failure',
  ...(i % 3 ? {} : { reason: TEXT[(i + 2) % TEXT.length] }),
  context: { ip: `198.51.100.${i}`, ...(i % 2 ? {} : { user_agent: TEXT[(i + 3) % TEXT.length], location: 'Zürich', request_id: `r-${i}` }) },
  ...(i % 3 === 1
    ? {
        changes: [
          { field: 'title', before: MULTILINE, after: TEXT[i % TEXT.length] },
          { field: 'n', before: NUMBERS[i % NUMBERS.length] },
        ],
      }
    : {}),
  ...(i % 4 === 2 ? {} : { metadata: { n: NUMBERS[i % NUMBERS.length], text: MULTILINE, list: NUMBERS, '': 'empty key', é: { '1': 1, a: [] } } }),
});

beforeAll(async () => {
  t = await createTestApp({ TRAILPROOF_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789' });
  await t.createTenant(TENANT);
  // Old events, first in the trail, purged by retention: the trail keeps the purge's record.
  await appendReceivedAgo(
    t.db.sql,
    TENANT,
    20,
    [event(101), event(102)].map(({ tenant: _, occurred_at: __, ...e }) => e),
  );
  admin = await t.createKey('admin', TENANT);
  expect((await t.request('PUT', `/v1/tenants/${TENANT}/retention`, { key: admin, body: { days: 10 } })).statusCode).toBe(200);
  expect((await runLifecycle(t, { key: admin })).tenants[0].removed).toBe(2);
  const res = await t.request('POST', '/v1/events', { body: { events: Array.from({ length: 47 }, (_, i) => event(i)) } });
  expect((res.json() as { rejected: unknown[] }).rejected).toEqual([]);
  // Erasing an actor removes their events and adds the erasure's records.
  const erased = await t.request('POST', '/v1/erasures', { key: admin, body: { subject: { actor_id: 'xavier' }, reason: 'request 42' } });
  expect(erased.statusCode, erased.body).toBe(201);
});
afterAll(() => t.close());

/** Every event the read API gives for `params`, page by page. */
async function readApiEvents(params: Record<string, string>): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await findEvents(t.db.sql, TENANT, parseEventQuery({ ...params, limit: '5', ...(cursor ? { cursor } : {}) }));
    events.push(...page.data);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return events;
}

const join = async (chunks: AsyncIterable<Buffer>) => {
  const bytes: Buffer[] = [];
  for await (const chunk of chunks) bytes.push(chunk);
  return Buffer.concat(bytes).toString('utf8');
};

describe('export pages', () => {
  const cases: Record<string, string>[] = [
    { sort: 'asc' },
    { sort: 'desc' },
    { sort: 'asc', action: 'document.*' },
    { sort: 'desc', target_type: 'document', target_id: 'doc_1' },
  ];

  it.each(cases)('write every format byte for byte as the read API’s events do (%o)', async (params) => {
    const expected = await readApiEvents(params);
    expect(expected.length).toBeGreaterThan(params.target_id ? 5 : 15);
    if (!params.action && !params.target_id) {
      expect(expected.map((e) => e.action)).toEqual(expect.arrayContaining(['retention.purged', 'erasure.completed']));
      expect(expected.some((e) => e.actor.id === 'xavier')).toBe(false);
    }
    const query = parseEventQuery(params);
    for (const format of EVENT_FORMATS.values()) {
      const want = await join(formatPages(format, [expected]));
      // Pages of 4 and 7 put boundaries everywhere, equal timestamps included.
      for (const pageSize of [4, 7]) {
        expect(await join(formatPages(format, pagesMatching(t.db.sql, TENANT, query, pageSize))), `${format.name}, pages of ${pageSize}`).toBe(want);
      }
      expect(await join(exportRecords(t.db.sql, TENANT, query, format)), format.name).toBe(want);
    }
  });

  it('reads nothing of another tenant, and no page when nothing matches', async () => {
    const query = parseEventQuery({ sort: 'asc' });
    const pages: StoredEvent[][] = [];
    for await (const page of pagesMatching(t.db.sql, 'no-such-tenant', query, 4)) pages.push(page);
    expect(pages).toEqual([]);
    for await (const page of pagesMatching(t.db.sql, TENANT, parseEventQuery({ sort: 'asc', action: 'nothing.*' }), 4)) pages.push(page);
    expect(pages).toEqual([]);
  });
});
