/**
 * Stream pages written by PostgreSQL (src/stream/feed-records.ts) against the stored events filtered
 * and formatted in Node (readFeed, matcher, format.record), as the worker's two paths: the same
 * records byte for byte and the same next position, for every filter shape, page size and start,
 * with a leaf whose payload is gone and events whose values jsonb and JavaScript write differently.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventArb } from '../../src/event/test-arbitraries.ts';
import { EVENT_FORMATS } from '../../src/export/formats.ts';
import { readFeed } from '../../src/query/feed.ts';
import { readFeedRecords } from '../../src/stream/feed-records.ts';
import { matcher } from '../../src/stream/stream-filter.ts';
import type { StreamFilter } from '../../src/stream/stream-store.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let leaves = 0;
const jsonl = EVENT_FORMATS.get('jsonl')!;
const ACTIONS = ['user.login', 'user.logout', 'user_x.login', 'users.created', 'doc.viewed', 'doc%.x'];

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  await t.createTenant('other');
  const random = fc.sample(eventArb, { numRuns: 150, seed: 20261129 }).map((e, i) => ({
    ...(e.input as object),
    id: `r${i}`,
    tenant: 'acme',
    action: ACTIONS[i % ACTIONS.length]!.replace('%', ''),
    outcome: i % 4 ? 'success' : 'failure',
  }));
  const awkward = [
    { action: 'user.login', actor: { type: 'user', id: 'n' }, metadata: { big: 1e21, least: 5e-324, negzero: -0, 10: 'ten', 0: 'zero' } },
    { action: 'user_x.login', actor: { type: 'user', id: 'e' }, reason: 'quote " backslash \\ newline\n ls \u2028 emoji 😀' },
  ].map((e) => ({ ...e, tenant: 'acme' }));
  for (const batch of [awkward, random.slice(0, 75), random.slice(75)]) {
    const res = await t.request('POST', '/v1/events', { body: { events: batch } });
    expect(res.statusCode, res.body).toBe(200);
    expect(JSON.parse(res.body).rejected ?? []).toEqual([]);
  }
  await t.request('POST', '/v1/events', { body: { events: [{ tenant: 'other', action: 'user.login', actor: { type: 'user', id: 'o' } }] } });
  leaves = 2 + random.length;
  // One payload gone (as a retention purge leaves it): its leaf stays, and both paths skip it.
  await t.db.ownerSql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await tx`delete from event_targets where tenant_id = 'acme' and seq = 5`;
    await tx`delete from events where tenant_id = 'acme' and seq = 5`;
  });
});
afterAll(async () => {
  await t.close();
});

async function inNode(filter: StreamFilter, from: number, limit: number) {
  const page = await readFeed(t.services.sql, 'acme', from, limit);
  return { records: page.events.filter(matcher(filter)).map((e) => jsonl.record(e)), next: page.next };
}

async function inDatabase(filter: StreamFilter, from: number, limit: number) {
  const page = await readFeedRecords(t.services.sql, 'acme', from, limit, jsonl.assembled!, filter);
  const records = jsonl.assembled!.split!(page.records);
  expect(records.length).toBe(page.events);
  return { records, next: page.next };
}

describe('feed pages written by PostgreSQL', () => {
  it.each<[StreamFilter]>([
    [{}],
    [{ actions: [] }],
    [{ outcome: 'failure' }],
    [{ actions: ['user.login'] }],
    // `_` and `%` are LIKE wildcards: a prefix must match them as themselves.
    [{ actions: ['user_*'] }],
    [{ actions: ['user.*', 'doc.viewed'], outcome: 'success' }],
    [{ actions: ['doc%*'] }],
    [{ actions: ['nothing.*'] }],
  ])('equal the events filtered and formatted in Node: %j', async (filter) => {
    const whole = await inNode(filter, 0, 10_000);
    // Every filter here selects some events but those that match nothing (a `%` is no wildcard).
    expect(whole.records.length > 0).toBe(!['nothing.*', 'doc%*'].includes(filter.actions?.[0] ?? ''));
    expect(await inDatabase(filter, 0, 10_000)).toEqual(whole);
    expect(whole.next).toBe(leaves);
    for (const [from, limit] of [
      [0, 1],
      [3, 7],
      [5, 1],
      [4, 50],
      [leaves - 2, 50],
      [leaves, 50],
    ] as const) {
      expect(await inDatabase(filter, from, limit), `from ${from}, limit ${limit}`).toEqual(await inNode(filter, from, limit));
    }
  });

  it('skip the leaf whose payload is gone but move past it', async () => {
    expect(await inDatabase({}, 5, 1)).toEqual({ records: [], next: 6 });
    const all = await inDatabase({}, 0, 10_000);
    expect(all.records).toHaveLength(leaves - 1);
    expect(all.records.every((r) => JSON.parse(r).tenant === 'acme')).toBe(true);
  });
});
