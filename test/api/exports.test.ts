/** GET /v1/exports: every format streams the matching events; CSV reads back equal to the source. */
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/event/types.ts';
import { CSV_COLUMNS } from '../../src/export/csv.ts';
import { EVENT_FORMATS } from '../../src/export/formats.ts';
import { ANY_LINE_BREAK } from '../../src/export/line-breaks.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let readA: string;
let source: StoredEvent[];

// Names and identifiers refuse control characters (docs/events.md); free text in changes and
// metadata may hold line breaks.
const HOSTILE = ['=cmd|" /C calc"!A0', 'quote " and comma ,', '@SUM(1+1)', 'ünïcødé 東京 🙂', '-2+3', "'=x"];
const MULTILINE = 'first line\nsecond, "quoted" line\r\n=third\u2028ls\u2029ps\u0085nel\vvt\fff';

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('exp-a');
  await t.createTenant('exp-b');
  readA = await t.createKey('read', 'exp-a');
  const events = Array.from({ length: 60 }, (_, i) => ({
    tenant: 'exp-a',
    id: `e-${i}`,
    action: i % 3 ? 'document.updated' : 'user.login_failed',
    occurred_at: new Date(Date.UTC(2026, 10, 20, 10, 0, i)).toISOString(),
    actor: { type: 'user', id: `user_${i % 4}`, name: HOSTILE[i % HOSTILE.length] },
    targets: [{ type: 'document', id: `doc_${i % 5}`, name: HOSTILE[(i + 1) % HOSTILE.length] }],
    outcome: i % 3 ? 'success' : 'failure',
    ...(i % 3 ? {} : { reason: HOSTILE[(i + 2) % HOSTILE.length] }),
    context: { ip: `198.51.100.${i}`, user_agent: HOSTILE[(i + 3) % HOSTILE.length] },
    changes: i % 3 ? [{ field: 'title', before: MULTILINE, after: HOSTILE[i % HOSTILE.length] }] : undefined,
    metadata: { n: i, note: HOSTILE[(i + 4) % HOSTILE.length], text: MULTILINE },
  }));
  const res = await t.request('POST', '/v1/events', { body: { events } });
  expect((res.json() as { rejected: unknown[] }).rejected).toEqual([]);
  await t.request('POST', '/v1/events', { body: { tenant: 'exp-b', action: 'user.login', actor: { type: 'user', id: 'other-tenant-user' }, targets: [] } });
  source = (await t.request('GET', '/v1/events?sort=asc&limit=1000&action=document.*', { key: readA }))
    .json()
    .data.concat((await t.request('GET', '/v1/events?sort=asc&limit=1000&action=user.*', { key: readA })).json().data)
    .sort((a: StoredEvent, b: StoredEvent) => a.occurred_at.localeCompare(b.occurred_at));
});
afterAll(() => t.close());

const exportOf = (query: string, key = readA) => t.request('GET', `/v1/exports?${query}`, { key });

describe('GET /v1/exports', () => {
  it('CSV read back by a CSV parser equals the source events', async () => {
    const res = await exportOf('format=csv&action=document.*');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="trailproof-exp-a-\d{4}-\d{2}-\d{2}\.csv"/);
    const rows = parseCsv(res.body, { columns: true }) as Record<string, string>[];
    const unneutralise = (v: string) => v.replace(/^'(?='*[=+\-@\t\r])/, '');
    const expected = source.filter((e) => e.action.startsWith('document.'));
    expect(rows).toHaveLength(expected.length);
    rows.forEach((row, i) => {
      const e = expected[i]!;
      expect(Object.keys(row)).toEqual([...CSV_COLUMNS]);
      expect(row.uid).toBe(e.uid);
      expect(Number(row.seq)).toBe(e.seq);
      expect(row.occurred_at).toBe(e.occurred_at);
      expect(unneutralise(row.actor_name!)).toBe(e.actor.name);
      expect(JSON.parse(unneutralise(row.targets!))).toEqual(e.targets);
      expect(JSON.parse(unneutralise(row.changes!))).toEqual(e.changes);
      expect(JSON.parse(unneutralise(row.metadata!))).toEqual(e.metadata);
      expect(unneutralise(row.user_agent!)).toBe(e.context.user_agent);
      expect(row.ip).toBe(e.context.ip);
      expect(row.id).toBe(e.id);
      // No cell a spreadsheet would evaluate.
      for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    });
  });

  it('JSON Lines equals the read API, oldest first, for every filter', async () => {
    const res = await exportOf('format=jsonl');
    const lines = res.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as StoredEvent);
    // Key creation and the reads above are in the trail too (actor: the key), besides the source.
    expect(lines.filter((e) => e.actor.type !== 'api_key')).toEqual(source);
    const failures = (await exportOf('format=jsonl&outcome=failure')).body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as StoredEvent);
    expect(failures.map((e) => e.uid)).toEqual(source.filter((e) => e.outcome === 'failure').map((e) => e.uid));
  });

  it.each([...EVENT_FORMATS.keys()])('streams %s with its media type, one record per event', async (format) => {
    const res = await exportOf(`format=${format}&target_type=document&target_id=doc_1`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(EVENT_FORMATS.get(format)!.mediaType);
    const uids = source.filter((e) => e.targets.some((x) => x.id === 'doc_1')).map((e) => e.uid);
    for (const uid of uids) expect(res.body).toContain(uid);
  });

  it.each(['jsonl', 'cef', 'ecs', 'hec', 'ocsf'])('%s is one line per event for a reader that splits at every Unicode line break', async (format) => {
    const res = await exportOf(`format=${format}&action=document.*`);
    expect(res.statusCode).toBe(200);
    const records = res.body.split(ANY_LINE_BREAK).filter((l) => l !== '');
    expect(records).toHaveLength(source.filter((e) => e.action.startsWith('document.')).length);
  });

  it('says which formats exist, and that limit and cursor do not apply', async () => {
    const unknown = await exportOf('format=xlsx');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.details[0]).toMatchObject({ pointer: '/format', code: 'invalid_enum' });
    expect((await exportOf('')).json().error.details[0]).toMatchObject({ pointer: '/format', code: 'required' });
    expect((await exportOf('format=csv&limit=5')).json().error.details[0]).toMatchObject({ pointer: '/limit' });
    expect((await exportOf('format=csv&actr=x')).json().error.details[0]).toMatchObject({ pointer: '/actr', code: 'unknown_field' });
  });

  it('keeps tenants apart and needs a read key', async () => {
    const readB = await t.createKey('read', 'exp-b');
    expect((await exportOf('format=csv&tenant=exp-a', readB)).statusCode).toBe(403);
    const own = await exportOf('format=jsonl', readB);
    expect(own.body).toContain('other-tenant-user');
    expect(own.body).not.toContain('exp-a');
    const ingest = await t.createKey('ingest', 'exp-a');
    expect((await exportOf('format=csv', ingest)).statusCode).toBe(403);
    expect((await t.request('GET', '/v1/exports?format=csv&tenant=exp-a', { key: null })).statusCode).toBe(401);
  });

  it('records each export in the tenant trail', async () => {
    await exportOf('format=cef&outcome=failure');
    const audit = (await t.request('GET', '/v1/events?action=audit_log.exported&limit=1000', { key: readA })).json().data as StoredEvent[];
    expect(audit.some((e) => e.metadata?.format === 'cef' && (e.metadata.filter as Record<string, string>).outcome === 'failure')).toBe(true);
  });
});
