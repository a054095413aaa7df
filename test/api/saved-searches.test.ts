/**
 * /v1/saved-searches: CRUD within a tenant, validation pointing at the field, tenant isolation, the
 * console URL, and a saved search as the filter of a stream delivering to a real receiver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/event/types.ts';
import { SecretBox } from '../../src/stream/secret-box.ts';
import { startHttpReceiver, type HttpReceiver } from '../../src/stream/testing/http-receiver.ts';
import { StreamWorker } from '../../src/stream/worker.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let adminA: string;
let readA: string;
let adminB: string;
let receiver: HttpReceiver;

beforeAll(async () => {
  t = await createTestApp({ TRAILPROOF_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789' });
  receiver = await startHttpReceiver();
  await t.createTenant('acme');
  await t.createTenant('globex');
  adminA = await t.createKey('admin', 'acme');
  readA = await t.createKey('read', 'acme');
  adminB = await t.createKey('admin', 'globex');
});
afterAll(async () => {
  await receiver.close();
  await t.close();
});

const create = (body: Record<string, unknown>, key = adminA) => t.request('POST', '/v1/saved-searches', { key, body });

describe('/v1/saved-searches', () => {
  let id: string;

  it('saves a named filter, lists and opens it with a read key, with a console URL', async () => {
    const res = await create({ name: 'Failed logins', filter: { action: 'user.login_failed', outcome: 'failure', since: '2026-01-01T00:00:00Z' } });
    expect(res.statusCode, res.body).toBe(201);
    const saved = res.json();
    id = saved.id;
    expect(saved).toMatchObject({ tenant: 'acme', name: 'Failed logins', filter: { action: 'user.login_failed', outcome: 'failure' } });
    const url = new URL(saved.url, 'http://x');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ tenant: 'acme', action: 'user.login_failed', outcome: 'failure', range: 'custom' });
    expect((await t.request('GET', '/v1/saved-searches', { key: readA })).json().data.map((s: { id: string }) => s.id)).toEqual([id]);
    expect((await t.request('GET', `/v1/saved-searches/${id}`, { key: readA })).json().name).toBe('Failed logins');
    const patched = await t.request('PATCH', `/v1/saved-searches/${id}`, { key: adminA, body: { filter: { action: 'user.*', outcome: 'failure' } } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().filter).toEqual({ action: 'user.*', outcome: 'failure' });
    const changes = await t.request('GET', '/v1/events?action=saved_search.*&sort=asc', { key: readA });
    expect(changes.json().data.map((e: StoredEvent) => e.action)).toEqual(['saved_search.created', 'saved_search.updated']);
  });

  it('refuses bad names and filters, pointing at the field, and a name taken', async () => {
    const bad = async (body: Record<string, unknown>, code: string, pointer: string) => {
      const res = await create(body);
      expect(res.json().error, JSON.stringify(body)).toMatchObject({ code });
      expect(res.json().error.details?.map((d: { pointer: string }) => d.pointer) ?? [], JSON.stringify(body)).toContain(pointer);
    };
    await bad({ name: 'x', filter: { action: 'not an action' } }, 'REQUEST_INVALID', '/filter/action');
    await bad({ name: 'x', filter: { colour: 'red' } }, 'REQUEST_INVALID', '/filter/colour');
    await bad({ name: 'x', filter: { ip: '300.1.1.1' } }, 'REQUEST_INVALID', '/filter/ip');
    await bad({ name: '-x', filter: {} }, 'REQUEST_INVALID', '/name');
    await bad({ name: 'Failed logins', filter: {} }, 'SAVED_SEARCH_EXISTS', '/name');
    expect((await create({ name: 'y', filter: {} }, readA)).statusCode).toBe(403);
  });

  it("never shows or changes another tenant's saved search", async () => {
    expect((await t.request('GET', `/v1/saved-searches/${id}`, { key: adminB })).statusCode).toBe(404);
    expect((await t.request('PATCH', `/v1/saved-searches/${id}`, { key: adminB, body: { name: 'mine' } })).statusCode).toBe(404);
    expect((await t.request('DELETE', `/v1/saved-searches/${id}`, { key: adminB })).statusCode).toBe(404);
    expect((await t.request('GET', '/v1/saved-searches', { key: adminB })).json().data).toEqual([]);
    expect((await t.request('GET', '/v1/saved-searches?tenant=acme', { key: adminB })).statusCode).toBe(403);
    expect((await create({ tenant: 'acme', name: 'z', filter: {} }, adminB)).statusCode).toBe(403);
    const stream = await t.request('POST', '/v1/streams', {
      key: adminB,
      body: { name: 'theirs', kind: 'webhook', config: { url: `${receiver.url}/b` }, secret: 's', filter: { saved_search: id } },
    });
    expect(stream.json().error).toMatchObject({ code: 'REQUEST_INVALID', details: [expect.objectContaining({ pointer: '/filter/saved_search' })] });
  });

  it('is the filter of a stream (both read paths), and cannot be deleted while used', async () => {
    const worker = new StreamWorker({
      sql: t.db.sql,
      audit: t.services.audit,
      secrets: new SecretBox(t.config),
      committer: t.services.committer,
      config: { ...t.config.streams, timeoutMs: 1000, leaseMs: 5000 },
      pollMs: 50,
    });
    const docs = await create({ name: 'Reads of x', filter: { action: 'document.read', target_type: 'document', target_id: 'x' } });
    const saved = docs.json().id as string;
    for (const format of ['jsonl', 'csv']) {
      const res = await t.request('POST', '/v1/streams', {
        key: adminA,
        body: { name: `reads-${format}`, kind: 'webhook', format, config: { url: `${receiver.url}/${format}` }, secret: 's', filter: { saved_search: saved } },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    worker.start();
    try {
      const ev = (action: string, target: string, actor: string) => ({
        action,
        actor: { type: 'user', id: actor },
        targets: [{ type: 'document', id: target }],
      });
      await t.request('POST', '/v1/events', {
        key: adminA,
        body: {
          events: [ev('document.read', 'x', 'who1'), ev('document.read', 'y', 'who2'), ev('document.updated', 'x', 'who3'), ev('document.read', 'x', 'who4')],
        },
      });
      const actors = (path: string) =>
        receiver.accepted
          .filter((r) => r.path === path)
          .flatMap((r) => {
            const body = JSON.parse(r.body.toString());
            return body.events ? body.events.map((e: StoredEvent) => e.actor.id) : body.records.map((l: string) => /who\d/.exec(l)![0]);
          });
      await waitFor(() => actors('/jsonl').length >= 2 && actors('/csv').length >= 2);
      expect(actors('/jsonl')).toEqual(['who1', 'who4']);
      expect(actors('/csv')).toEqual(['who1', 'who4']);
      const del = await t.request('DELETE', `/v1/saved-searches/${saved}`, { key: adminA });
      expect(del.statusCode).toBe(409);
      expect(del.json().error.code).toBe('SAVED_SEARCH_IN_USE');
    } finally {
      await worker.stop();
    }
    expect((await t.request('DELETE', `/v1/saved-searches/${id}`, { key: adminA })).statusCode).toBe(204);
    expect((await t.request('GET', `/v1/saved-searches/${id}`, { key: adminA })).statusCode).toBe(404);
  });
});

async function waitFor(ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}
