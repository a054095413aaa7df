import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let ingestKey: string;
let readKey: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  ingestKey = await t.createKey('ingest', 'acme');
  readKey = await t.createKey('read', 'acme');
});
afterAll(() => t.close());

const event = (extra: Record<string, unknown> = {}) => ({ action: 'user.login', actor: { type: 'user', id: 'alice' }, ...extra });

describe('POST /v1/events', () => {
  it('stores a single event and returns its ledger position after commit', async () => {
    const res = await t.request('POST', '/v1/events', { key: ingestKey, body: event({ occurred_at: '2026-01-02T03:04:05+02:00' }) });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ duplicate: false, seq: expect.any(Number), uid: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const read = await t.request('GET', `/v1/events/${body.uid}`, { key: readKey });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({
      uid: body.uid,
      tenant: 'acme',
      seq: body.seq,
      action: 'user.login',
      occurred_at: '2026-01-02T01:04:05.000Z',
      outcome: 'success',
      targets: [],
    });
  });

  it('assigns contiguous indices per tenant', async () => {
    const res = await t.request('POST', '/v1/events', { key: ingestKey, body: { events: [event(), event(), event()] } });
    expect(res.statusCode).toBe(200);
    const seqs = (res.json().accepted as { seq: number }[]).map((a) => a.seq);
    expect(seqs[1]).toBe(seqs[0]! + 1);
    expect(seqs[2]).toBe(seqs[0]! + 2);
  });

  it('rejects an invalid single event with the code and pointer of the field', async () => {
    const res = await t.request('POST', '/v1/events', { key: ingestKey, body: { action: 'User Login', actor: { type: 'user' } } });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('EVENT_INVALID');
    expect(error.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ pointer: '/action', code: 'pattern' }),
        expect.objectContaining({ pointer: '/actor/id', code: 'required' }),
      ]),
    );
  });

  it('keeps the valid events of a batch and names each rejected one', async () => {
    const res = await t.request('POST', '/v1/events', {
      key: ingestKey,
      body: {
        events: [
          event({ id: 'b-1' }),
          event({ actor: { type: 'user', id: 'bad\nid' } }),
          event({ id: 'b-3', context: { ip: '999.1.1.1' } }),
          event({ id: 'b-4' }),
        ],
      },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.accepted.map((a: { index: number }) => a.index)).toEqual([0, 3]);
    expect(body.rejected).toEqual([
      { index: 1, errors: [expect.objectContaining({ pointer: '/events/1/actor/id', code: 'control_character' })] },
      { index: 2, errors: [expect.objectContaining({ pointer: '/events/2/context/ip', code: 'invalid_ip' })] },
    ]);
    const stored = await t.request('GET', '/v1/events?action=user.login&limit=1000', { key: readKey });
    const ids = (stored.json().data as { id?: string }[]).map((e) => e.id).filter(Boolean);
    expect(ids).toEqual(expect.arrayContaining(['b-1', 'b-4']));
    expect(ids).not.toContain('b-3');
  });

  it('answers a replay with the stored event, flagged duplicate, and a conflicting replay with 409', async () => {
    const first = await t.request('POST', '/v1/events', { key: ingestKey, body: event({ id: 'evt-42', occurred_at: '2026-03-01T00:00:00Z' }) });
    expect(first.statusCode).toBe(201);
    const again = await t.request('POST', '/v1/events', { key: ingestKey, body: event({ id: 'evt-42', occurred_at: '2026-03-01T00:00:00.000Z' }) });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ uid: first.json().uid, seq: first.json().seq, duplicate: true });
    const conflict = await t.request('POST', '/v1/events', {
      key: ingestKey,
      body: event({ id: 'evt-42', occurred_at: '2026-03-01T00:00:00Z', outcome: 'failure' }),
    });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error).toMatchObject({ code: 'EVENT_ID_CONFLICT', details: [expect.objectContaining({ pointer: '/id', code: 'id_conflict' })] });
    const count = await t.db.sql`select count(*)::int as n from ledger_leaves where tenant_id = 'acme' and client_id = 'evt-42'`;
    expect(count[0]!.n).toBe(1);
  });

  it('answers a retry of an event sent without occurred_at as a duplicate, not a conflict', async () => {
    const sent = event({ id: 'no-time-1' });
    const first = await t.request('POST', '/v1/events', { key: ingestKey, body: sent });
    expect(first.statusCode).toBe(201);
    await new Promise((r) => setTimeout(r, 5));
    const again = await t.request('POST', '/v1/events', { key: ingestKey, body: sent });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ uid: first.json().uid, seq: first.json().seq, received_at: first.json().received_at, duplicate: true });
    const changed = await t.request('POST', '/v1/events', { key: ingestKey, body: event({ id: 'no-time-1', action: 'user.logout' }) });
    expect(changed.statusCode).toBe(409);
    const [detail] = changed.json().error.details;
    expect(detail).toMatchObject({ pointer: '/id', code: 'id_conflict', message: expect.stringContaining('differs in: action') });
  });

  it('answers a retried batch without occurred_at with every event a duplicate', async () => {
    const batch = { events: [event({ id: 'retry-b-1' }), event({ id: 'retry-b-2', targets: [{ type: 'doc', id: 'd1' }] })] };
    const first = await t.request('POST', '/v1/events', { key: ingestKey, body: batch });
    expect(first.statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 5));
    const again = await t.request('POST', '/v1/events', { key: ingestKey, body: batch });
    expect(again.statusCode).toBe(200);
    expect(again.json().rejected).toEqual([]);
    expect(again.json().accepted).toEqual(first.json().accepted.map((a: object) => ({ ...a, duplicate: true })));
    const count = await t.db.sql`select count(*)::int as n from ledger_leaves where tenant_id = 'acme' and client_id like 'retry-b-%'`;
    expect(count[0]!.n).toBe(2);
  });

  it('deduplicates the same id inside one batch and across concurrent requests', async () => {
    const body = { events: [event({ id: 'dup-1' }), event({ id: 'dup-1' }), event({ id: 'dup-1', outcome: 'failure' })] };
    const res = await t.request('POST', '/v1/events', { key: ingestKey, body });
    expect(res.json().accepted.map((a: { duplicate: boolean }) => a.duplicate)).toEqual([false, true]);
    expect(res.json().rejected[0]).toMatchObject({ index: 2, errors: [expect.objectContaining({ code: 'id_conflict', pointer: '/events/2/id' })] });
    const racing = await Promise.all(
      Array.from({ length: 20 }, () => t.request('POST', '/v1/events', { key: ingestKey, body: event({ id: 'race-1', occurred_at: '2026-03-01T00:00:00Z' }) })),
    );
    expect(racing.filter((r) => r.statusCode === 201)).toHaveLength(1);
    expect(racing.filter((r) => r.statusCode === 200)).toHaveLength(19);
    expect(new Set(racing.map((r) => r.json().uid)).size).toBe(1);
  });

  it('requires an unbound key to name the tenant, and the tenant to exist', async () => {
    const missing = await t.request('POST', '/v1/events', { body: event() });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toMatchObject({ code: 'TENANT_REQUIRED', details: [expect.objectContaining({ pointer: '/tenant' })] });
    const unknown = await t.request('POST', '/v1/events', {
      body: {
        events: [
          { ...event(), tenant: 'nope' },
          { ...event(), tenant: 'acme' },
        ],
      },
    });
    expect(unknown.statusCode).toBe(200);
    expect(unknown.json().rejected).toEqual([{ index: 0, errors: [expect.objectContaining({ pointer: '/events/0/tenant', code: 'not_found' })] }]);
  });

  it('rejects malformed JSON, wrong envelopes and oversized batches with clear codes', async () => {
    const notJson = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
      payload: '{"action":',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.code).toBe('REQUEST_INVALID');
    const empty = await t.request('POST', '/v1/events', { key: ingestKey, body: { events: [] } });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.details[0]).toMatchObject({ pointer: '/events' });
    const tooMany = await t.request('POST', '/v1/events', { key: ingestKey, body: { events: Array.from({ length: 1001 }, () => event()) } });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error.details[0]).toMatchObject({ pointer: '/events', code: 'too_many_items' });
  });

  it('refuses requests without a valid key', async () => {
    const none = await t.request('POST', '/v1/events', { key: null, body: event() });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('AUTH_REQUIRED');
    const wrong = await t.request('POST', '/v1/events', { key: `tpk_AAAAAAAAAAAAAAAA_${'x'.repeat(43)}`, body: event() });
    expect(wrong.statusCode).toBe(401);
    const readOnly = await t.request('POST', '/v1/events', { key: readKey, body: event() });
    expect(readOnly.statusCode).toBe(403);
    expect(readOnly.json().error.code).toBe('AUTH_FORBIDDEN');
  });
});
