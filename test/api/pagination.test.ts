/**
 * Keyset pagination visits every matching event exactly once, in order, while new events keep
 * arriving (including events with the same occurred_at, ordered by seq).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let ingest: string;
let read: string;
const BASE = Date.parse('2026-06-01T00:00:00Z');

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  ingest = await t.createKey('ingest', 'acme');
  read = await t.createKey('read', 'acme');
  // 600 events over 300 distinct instants: every instant is shared by two events.
  const events = Array.from({ length: 600 }, (_, i) => ({
    id: `seed-${i}`,
    action: i % 3 === 0 ? 'document.read' : 'user.login',
    occurred_at: new Date(BASE + Math.floor(i / 2) * 60_000).toISOString(),
    actor: { type: 'user', id: `u${i % 7}` },
    targets: i % 5 === 0 ? [{ type: 'document', id: 'doc-1' }] : [],
  }));
  for (let i = 0; i < events.length; i += 200) {
    const res = await t.request('POST', '/v1/events', { key: ingest, body: { events: events.slice(i, i + 200) } });
    expect(res.json().accepted).toHaveLength(200);
  }
});
afterAll(() => t.close());

async function pageThrough(query: string, onPage: (n: number) => Promise<void>): Promise<{ id?: string; occurred_at: string; seq: number }[]> {
  const seen: { id?: string; occurred_at: string; seq: number }[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await t.request('GET', `/v1/events?${query}&limit=37${cursor ? `&cursor=${cursor}` : ''}`, { key: read });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    seen.push(...body.data);
    cursor = body.next_cursor;
    await onPage(pages++);
  } while (cursor);
  return seen;
}

describe('cursor pagination', () => {
  it.each([
    ['sort=asc&since=2026-06-01T00:00:00Z&until=2026-06-02T00:00:00Z', 600, 'asc'],
    ['sort=desc&since=2026-06-01T00:00:00Z&until=2026-06-02T00:00:00Z', 600, 'desc'],
    ['action=document.*&since=2026-06-01T00:00:00Z&until=2026-06-02T00:00:00Z', 200, 'desc'],
    ['target_type=document&target_id=doc-1&sort=asc&until=2026-06-02T00:00:00Z', 120, 'asc'],
  ] as const)('visits each event of %s exactly once while events arrive', async (query, expected, sort) => {
    let n = 0;
    const seen = await pageThrough(query, async () => {
      // New events inside and outside the window, and at an instant already paged past.
      await t.request('POST', '/v1/events', {
        key: ingest,
        body: {
          events: [
            {
              action: 'document.read',
              occurred_at: new Date(BASE + 5 * 86_400_000).toISOString(),
              actor: { type: 'user', id: 'late' },
              targets: [{ type: 'document', id: 'doc-1' }],
            },
            { action: 'user.login', actor: { type: 'user', id: `live-${n++}` } },
          ],
        },
      });
    });
    const seeded = seen.filter((e) => e.id?.startsWith('seed-'));
    expect(seeded).toHaveLength(expected);
    expect(new Set(seeded.map((e) => e.id)).size).toBe(expected);
    const keys = seen.map((e) => [Date.parse(e.occurred_at), e.seq] as const);
    for (let i = 1; i < keys.length; i++) {
      const [a, b] = [keys[i - 1]!, keys[i]!];
      const ordered = a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
      expect(sort === 'asc' ? ordered : !ordered).toBe(true);
    }
  });

  it('pages an action prefix spanning several actions in time order, each event once', async () => {
    const actions = ['multi.alpha', 'multi.beta', 'multi.gamma_long', 'multix.other'];
    const events = Array.from({ length: 150 }, (_, i) => ({
      id: `multi-${i}`,
      action: actions[(i * 7) % 4]!,
      actor: { type: 'user', id: 'm' },
      occurred_at: new Date(BASE + 20 * 86_400_000 + Math.floor(i / 3) * 1000).toISOString(),
    }));
    expect((await t.request('POST', '/v1/events', { key: ingest, body: { events } })).statusCode).toBe(200);
    const expected = events.filter((e) => e.action.startsWith('multi.')).map((e) => e.id);
    for (const sort of ['asc', 'desc'] as const) {
      const seen = await pageThrough(`action=multi.*&actor=m&sort=${sort}`, async () => {});
      const keys = seen.map((e) => [Date.parse(e.occurred_at), e.seq] as const);
      for (let i = 1; i < keys.length; i++) {
        const [a, b] = [keys[i - 1]!, keys[i]!];
        const ordered = a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
        expect(sort === 'asc' ? ordered : !ordered).toBe(true);
      }
      expect(seen.map((e) => e.id).sort()).toEqual([...expected].sort());
    }
  });

  it('refuses a cursor reused with other filters, and a forged one', async () => {
    const first = await t.request('GET', '/v1/events?limit=5&action=user.login', { key: read });
    const cursor = first.json().next_cursor as string;
    const other = await t.request('GET', `/v1/events?limit=5&action=document.read&cursor=${cursor}`, { key: read });
    expect(other.statusCode).toBe(400);
    expect(other.json().error).toMatchObject({ code: 'CURSOR_INVALID', details: [expect.objectContaining({ pointer: '/cursor' })] });
    const forged = await t.request('GET', '/v1/events?limit=5&cursor=bm90LWEtY3Vyc29y', { key: read });
    expect(forged.json().error.code).toBe('CURSOR_INVALID');
  });

  it('validates every query parameter with its pointer', async () => {
    const cases: [string, string, string][] = [
      ['limit=0', '/limit', 'out_of_range'],
      ['limit=1001', '/limit', 'out_of_range'],
      ['sort=sideways', '/sort', 'invalid_enum'],
      ['since=yesterday', '/since', 'invalid_timestamp'],
      ['ip=300.1.1.1', '/ip', 'invalid_ip'],
      ['action=User%20Login', '/action', 'pattern'],
      ['outcome=maybe', '/outcome', 'invalid_enum'],
      ['colour=red', '/colour', 'unknown_field'],
      ['since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z', '/until', 'invalid_range'],
    ];
    for (const [query, pointer, code] of cases) {
      const res = await t.request('GET', `/v1/events?${query}`, { key: read });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code, query).toBe('QUERY_INVALID');
      expect(res.json().error.details, query).toEqual(expect.arrayContaining([expect.objectContaining({ pointer, code })]));
    }
  });

  it('filters by actor, outcome, ip range and full text', async () => {
    await t.request('POST', '/v1/events', {
      key: ingest,
      body: {
        events: [
          {
            action: 'user.login_failed',
            outcome: 'failure',
            actor: { type: 'user', id: 'zed', name: 'Zed Zebra' },
            context: { ip: '203.0.113.9' },
            metadata: { note: 'quarterly payroll' },
          },
          { action: 'user.login', actor: { type: 'user', id: 'zed' }, context: { ip: '198.51.100.1' } },
        ],
      },
    });
    const byActor = (await t.request('GET', '/v1/events?actor=zed', { key: read })).json().data;
    expect(byActor).toHaveLength(2);
    const failed = (await t.request('GET', '/v1/events?actor=zed&outcome=failure', { key: read })).json().data;
    expect(failed.map((e: { action: string }) => e.action)).toEqual(['user.login_failed']);
    const range = (await t.request('GET', '/v1/events?ip=203.0.113.0/24', { key: read })).json().data;
    expect(range.map((e: { actor: { id: string } }) => e.actor.id)).toEqual(['zed']);
    const text = (await t.request('GET', '/v1/events?q=payroll', { key: read })).json().data;
    expect(text.map((e: { action: string }) => e.action)).toEqual(['user.login_failed']);
    const name = (await t.request('GET', '/v1/events?q=zebra', { key: read })).json().data;
    expect(name).toHaveLength(1);
  });

  it('never answers a read with its own audit record, which is committed by the time the answer comes', async () => {
    for (let i = 0; i < 10; i++) {
      const word = `needle${i}x${Date.now()}`;
      // The read's record holds its filter, so a search for a word found nowhere else would find it.
      expect((await t.request('GET', `/v1/events?q=${word}`, { key: read })).json().data).toEqual([]);
      const later = (await t.request('GET', `/v1/events?q=${word}`, { key: read })).json().data;
      expect(later.map((e: { action: string }) => e.action)).toEqual(['audit_log.viewed']);
    }
  });
});
