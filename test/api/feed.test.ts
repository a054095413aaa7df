/** GET /v1/events/feed: commit order, no gaps, no duplicates, long poll, isolation, no self-feeding. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let readA: string;
let readB: string;

const event = (n: number) => ({ action: 'doc.read', actor: { type: 'user', id: `u${n}` }, targets: [{ type: 'doc', id: `d${n}` }] });

async function ingest(tenant: string, count: number, offset = 0): Promise<string[]> {
  const res = await t.request('POST', '/v1/events', { body: { events: Array.from({ length: count }, (_, i) => ({ tenant, ...event(offset + i) })) } });
  expect(res.statusCode).toBe(200);
  return (res.json() as { accepted: { uid: string }[] }).accepted.map((a) => a.uid);
}

async function feed(
  key: string,
  params: string,
): Promise<{ status: number; body: { events: { uid: string; seq: number; action: string }[]; next_cursor: string; error?: { code: string } } }> {
  const res = await t.request('GET', `/v1/events/feed?${params}`, { key });
  return { status: res.statusCode, body: res.json() };
}

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('feed-a');
  await t.createTenant('feed-b');
  readA = await t.createKey('read', 'feed-a');
  readB = await t.createKey('read', 'feed-b');
});
afterAll(() => t.close());

describe('GET /v1/events/feed', () => {
  it('returns events in index order and then nothing new, with a stable cursor', async () => {
    const uids = await ingest('feed-a', 30);
    const first = await feed(readA, 'limit=20&wait=0');
    expect(first.status).toBe(200);
    expect(first.body.events.map((e) => e.seq)).toEqual([...Array(20).keys()]);
    const second = await feed(readA, `limit=20&wait=0&after=${first.body.next_cursor}`);
    const seen = [...first.body.events, ...second.body.events].filter((e) => e.action === 'doc.read').map((e) => e.uid);
    expect(seen).toEqual(uids);
  });

  it('long-polls until the tenant commits, then returns the new event at once', async () => {
    let cursor = (await feed(readA, 'limit=1000&wait=0')).body.next_cursor;
    // Drain the meta-audit records of the reads above.
    for (let page = await feed(readA, `wait=0&after=${cursor}`); page.body.events.length; page = await feed(readA, `wait=0&after=${cursor}`))
      cursor = page.body.next_cursor;
    const started = Date.now();
    const waiting = feed(readA, `wait=10&after=${cursor}`);
    await new Promise((r) => setTimeout(r, 300));
    const [uid] = await ingest('feed-a', 1, 1000);
    const page = await waiting;
    expect(page.body.events.map((e) => e.uid)).toContain(uid);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('visits every event exactly once while writers are appending', async () => {
    let cursor = (await feed(readB, 'limit=1000&wait=0')).body.next_cursor;
    const written: string[] = [];
    const writers = Promise.all(
      Array.from({ length: 5 }, async (_, w) => {
        for (let i = 0; i < 10; i++) written.push(...(await ingest('feed-b', 7, w * 1000 + i * 10)));
      }),
    );
    const seen: { uid: string; seq: number; action: string }[] = [];
    let writing = true;
    void writers.then(() => {
      writing = false;
    });
    while (writing) {
      const page = await feed(readB, `limit=50&wait=1&after=${cursor}`);
      seen.push(...page.body.events);
      cursor = page.body.next_cursor;
    }
    for (
      let page = await feed(readB, `limit=1000&wait=0&after=${cursor}`);
      page.body.events.length;
      page = await feed(readB, `limit=1000&wait=0&after=${cursor}`)
    ) {
      seen.push(...page.body.events);
      cursor = page.body.next_cursor;
    }
    const reads = seen.filter((e) => e.action === 'doc.read');
    expect(reads.map((e) => e.uid).sort()).toEqual([...written].sort());
    expect(new Set(seen.map((e) => e.uid)).size).toBe(seen.length);
    const seqs = seen.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('does not feed itself: a poll that returns only feed-read records records nothing more', async () => {
    let cursor = (await feed(readA, 'limit=1000&wait=0')).body.next_cursor;
    // This read returned events, so it is recorded; the next poll sees only that record…
    const next = await feed(readA, `limit=1000&wait=0&after=${cursor}`);
    expect(next.body.events.every((e) => e.action === 'audit_log.viewed')).toBe(true);
    cursor = next.body.next_cursor;
    // …and the poll after that finds nothing new.
    const quiet = await feed(readA, `limit=1000&wait=0&after=${cursor}`);
    expect(quiet.body.events).toEqual([]);
  });

  it('keeps tenants apart', async () => {
    expect((await feed(readB, 'tenant=feed-a&wait=0')).status).toBe(403);
    const ingestKey = await t.createKey('ingest', 'feed-a');
    expect((await feed(ingestKey, 'wait=0')).status).toBe(403);
    const cursorOfA = (await feed(readA, 'wait=0')).body.next_cursor;
    const crossed = await feed(t.adminKey, `tenant=feed-b&wait=0&after=${cursorOfA}`);
    expect(crossed.status).toBe(400);
    expect(crossed.body.error?.code).toBe('CURSOR_INVALID');
    expect((await feed(readA, 'wait=0&after=not-a-cursor')).body.error?.code).toBe('CURSOR_INVALID');
  });
});
