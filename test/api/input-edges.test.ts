/**
 * Issue 16, point 4: inputs at the edges of what the parsers take are refused with a 4xx that
 * points at the field, never answered 500, never read as something else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let read: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  read = await t.createKey('read', 'acme');
  const ingest = await t.createKey('ingest', 'acme');
  await t.request('POST', '/v1/events', {
    key: ingest,
    body: { events: [1, 2, 3].map((i) => ({ action: 'doc.read', actor: { type: 'user', id: `u${i}` } })) },
  });
});
afterAll(() => t.close());

const cursorOf = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A raw JSON body (to send what JSON.stringify cannot write: 1e400, lone surrogates escaped). */
const post = (method: 'POST' | 'PUT', url: string, payload: string) =>
  t.app.inject({ method, url, payload, headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' } });

function expectRefused(res: { statusCode: number; json(): any; body: string }, pointer: string, code?: string): void {
  expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
  expect(res.statusCode, res.body).toBeLessThan(500);
  const details = res.json().error.details as { pointer: string; code: string }[];
  expect(details, res.body).toContainEqual(expect.objectContaining({ pointer, ...(code ? { code } : {}) }));
}

describe('timestamps at the edges of RFC 3339', () => {
  it.each([
    ['year 0000', '0000-01-01T00:00:00Z'],
    ['an offset that moves year 0001 into year 0', '0001-01-01T00:00:00+23:59'],
    ['an offset that moves year 9999 into 10000', '9999-12-31T23:59:59-23:59'],
    ['February 30', '2026-02-30T00:00:00Z'],
    ['a date without a time', '2026-02-30'],
  ])('since: %s is refused on every route that filters by time', async (_, since) => {
    for (const route of ['/v1/events', '/v1/events/histogram', '/v1/stats?group_by=action', '/v1/exports?format=jsonl']) {
      const res = await t.request('GET', `${route}${route.includes('?') ? '&' : '?'}since=${encodeURIComponent(since)}`, { key: read });
      expectRefused(res, '/since', 'invalid_timestamp');
    }
  });

  it('a relative time reaching before year 0001 is refused', async () => {
    expectRefused(await t.request('GET', '/v1/events?since=-999999w', { key: read }), '/since', 'invalid_timestamp');
  });

  it('a legal hold with a time PostgreSQL cannot hold is refused', async () => {
    const res = await t.request('POST', '/v1/legal-holds', { body: { tenant: 'acme', reason: 'r', filter: { since: '0000-01-01T00:00:00Z' } } });
    expectRefused(res, '/filter/since');
  });
});

describe('crafted cursors', () => {
  it.each([
    ['a year beyond 9999', { o: '+010000-01-01T00:00:00.000Z', s: 1, d: 'desc' }],
    ['year 0000', { o: '0000-06-01T00:00:00.000Z', s: 1, d: 'desc' }],
    ['a date Date.parse reads loosely', { o: 'Jan 1 2026', s: 1, d: 'desc' }],
    ['a huge seq', '{"o":"2026-01-01T00:00:00.000Z","s":1e400,"d":"desc"}'],
  ])('%s: CURSOR_INVALID', async (_, cursor) => {
    const res = await t.request('GET', `/v1/events?cursor=${typeof cursor === 'string' ? Buffer.from(cursor).toString('base64url') : cursorOf(cursor)}`, {
      key: read,
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('CURSOR_INVALID');
  });

  it('a window beyond year 9999 in a relative-time cursor: CURSOR_INVALID', async () => {
    const first = await t.request('GET', '/v1/events?since=-1h&limit=1', { key: read });
    const issued = JSON.parse(Buffer.from(first.json().next_cursor, 'base64url').toString());
    const forged = cursorOf({ ...issued, w: { since: '+010000-01-01T00:00:00.000Z' } });
    const res = await t.request('GET', `/v1/events?since=-1h&limit=1&cursor=${forged}`, { key: read });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('CURSOR_INVALID');
  });
});

describe('numbers that are not finite', () => {
  it.each(['limit=1e400', 'wait=1e400', 'wait=Infinity', 'limit=-1e400'])('the feed refuses %s', async (param) => {
    expectRefused(await t.request('GET', `/v1/events/feed?${param}`, { key: read }), `/${param.split('=')[0]}`);
  });

  it('a body number of 1e400 is refused, not stored as a clamp or 500', async () => {
    expectRefused(await post('PUT', '/v1/tenants/acme/retention', '{"days":1e400}'), '/days');
  });
});

describe('text PostgreSQL cannot store', () => {
  it.each(['/t/a%00b/checkpoint', '/v1/tenants/a%00b/retention', '/v1/schemas?tenant=a%00b', '/v1/ledger/status?tenant=a%00b'])(
    'NUL in a tenant id: %s',
    async (url) => {
      const res = await t.request('GET', url);
      expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, res.body).toBeLessThan(500);
      expect(res.json().error.details?.[0]?.pointer ?? '', res.body).toMatch(/tenant/);
    },
  );

  it('a lone surrogate in a tenant name or a key name is refused, not stored as U+FFFD', async () => {
    expectRefused(await post('POST', '/v1/tenants', '{"id":"surrogate","name":"bad \\ud800 name"}'), '/name', 'invalid_string');
    expectRefused(await post('POST', '/v1/keys', '{"name":"bad \\udc00","scope":"read","tenant":"acme"}'), '/name', 'invalid_string');
    const stored = await t.db.sql`select 1 from tenants where id = 'surrogate'`;
    expect(stored).toHaveLength(0);
  });

  it('a NUL in a body text is refused', async () => {
    expectRefused(await post('POST', '/v1/legal-holds', '{"tenant":"acme","reason":"a\\u0000b"}'), '/reason', 'control_character');
  });

  it('a batch with one bad event still takes the others (ingest checks its own body per event)', async () => {
    const ingest = await t.createKey('ingest', 'acme');
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${ingest}`, 'content-type': 'application/json' },
      payload: '{"events":[{"action":"a.b","actor":{"type":"user","id":"x\\ud800"}},{"action":"a.b","actor":{"type":"user","id":"ok"}}]}',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().accepted).toHaveLength(1);
    expect(res.json().rejected[0]).toMatchObject({ index: 0 });
  });
});

describe('unknown parameters: one rule on every API route', () => {
  it.each([
    '/v1/events/feed?bogus=1',
    '/v1/ledger/status?bogus=1',
    '/v1/ledger/key?tenant=acme&bogus=1',
    '/v1/ledger/consistency?tenant=acme&from=0&to=1&bogus=1',
    '/t/acme/checkpoint?bogus=1',
    '/v1/events?bogus=1',
    '/v1/keys?bogus=1',
  ])('%s', async (url) => {
    expectRefused(await t.request('GET', url, { key: url.startsWith('/v1/keys') ? t.adminKey : read }), '/bogus', 'unknown_field');
  });

  it('an unknown body field is refused, not dropped (a hold without its filter would hold everything)', async () => {
    const res = await t.request('POST', '/v1/legal-holds', { body: { tenant: 'acme', reason: 'r', since: '2026-01-01T00:00:00Z' } });
    expectRefused(res, '/since', 'unknown_field');
  });
});
