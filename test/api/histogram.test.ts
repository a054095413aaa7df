/** `GET /v1/events/histogram`: counts per bucket of what the filters select, scoped to one tenant. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let readA: string;
const base = Date.parse('2026-01-10T00:00:00Z');
const at = (hours: number) => new Date(base + hours * 3600_000).toISOString();

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  await t.createTenant('globex');
  readA = await t.createKey('read', 'acme');
  const ingestA = await t.createKey('ingest', 'acme');
  const ingestB = await t.createKey('ingest', 'globex');
  const ev = (action: string, hours: number, target?: string) => ({
    action,
    occurred_at: at(hours),
    actor: { type: 'user', id: 'u' },
    targets: target ? [{ type: 'document', id: target }] : [],
  });
  await t.request('POST', '/v1/events', {
    key: ingestA,
    body: { events: [ev('user.login', 0.5), ev('user.login', 0.6), ev('user.logout', 1.5, 'd1'), ev('document.read', 3.9, 'd1'), ev('user.login', 4)] },
  });
  await t.request('POST', '/v1/events', { key: ingestB, body: { events: [ev('user.login', 0.5), ev('user.login', 1.5)] } });
});
afterAll(() => t.close());

const get = (query: string, key = readA) => t.request('GET', `/v1/events/histogram?since=${at(0)}&until=${at(4)}&${query}`, { key });

describe('GET /v1/events/histogram', () => {
  it("counts the tenant's events per equal bucket over [since, until)", async () => {
    const res = await get('buckets=4');
    expect(res.statusCode, res.body).toBe(200);
    // The event at hour 4 is outside [since, until); globex's are another tenant.
    expect(res.json()).toEqual({ since: at(0), until: at(4), bucket_ms: 3600_000, counts: [2, 1, 0, 1], total: 4 });
  });

  it('applies every filter, the target one included', async () => {
    expect((await get('buckets=4&action=user.*')).json().counts).toEqual([2, 1, 0, 0]);
    expect((await get('buckets=2&target_type=document&target_id=d1')).json().counts).toEqual([1, 1]);
    expect((await get('buckets=4&actor=nobody')).json().total).toBe(0);
  });

  it('says when the newest selected event happened when the window holds none, so a client can widen to it', async () => {
    const later = await t.request('GET', `/v1/events/histogram?since=${at(5)}&until=${at(6)}&actor=u`, { key: readA });
    expect(later.json()).toMatchObject({ total: 0, newest: at(4) });
    const earlier = await t.request('GET', `/v1/events/histogram?since=${at(-2)}&until=${at(-1)}&action=user.logout`, { key: readA });
    expect(earlier.json()).toMatchObject({ total: 0, newest: at(1.5) });
    const byTarget = await t.request('GET', `/v1/events/histogram?since=${at(5)}&until=${at(6)}&target_id=d1&target_type=document`, { key: readA });
    expect(byTarget.json()).toMatchObject({ total: 0, newest: at(3.9) });
    expect((await get('buckets=4&actor=nobody')).json()).toMatchObject({ total: 0, newest: null });
    // The tenant's own service records (the keys this file made) are its newest events; another tenant's never show through.
    expect(Date.parse((await t.request('GET', `/v1/events/histogram?since=${at(5)}&until=${at(6)}`, { key: readA })).json().newest)).toBeGreaterThan(base);
    const globex = await t.request('GET', `/v1/events/histogram?since=${at(5)}&until=${at(6)}&actor=u&tenant=globex`, { key: t.adminKey });
    expect(globex.json()).toMatchObject({ total: 0, newest: at(1.5) });
  });

  it('refuses bad bucket counts and unknown parameters', async () => {
    expect((await get('buckets=0')).json().error).toMatchObject({ code: 'QUERY_INVALID', details: [expect.objectContaining({ pointer: '/buckets' })] });
    expect((await get('buckets=501')).statusCode).toBe(400);
    expect((await get('bucket=5')).json().error.details[0].pointer).toBe('/bucket');
  });

  it('keeps a bound key to its tenant', async () => {
    expect((await get('buckets=4&tenant=globex')).statusCode).toBe(403);
    const unbound = await get('buckets=4&tenant=globex', t.adminKey);
    expect(unbound.json().counts).toEqual([1, 1, 0, 0]);
  });
});
