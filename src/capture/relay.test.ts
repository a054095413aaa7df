import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppDatabase, type AppDatabase } from '../../test/helpers/app-database.ts';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import type { StoredEvent } from '../event/types.ts';
import { captureStatus, installCapture, uninstallCapture } from './install.ts';
import { CaptureRelay } from './relay.ts';

let trail: TestApp;
let appDb: AppDatabase;
let relay: CaptureRelay;

beforeAll(async () => {
  [trail, appDb] = await Promise.all([createTestApp(), createAppDatabase()]);
  await trail.createTenant('acme');
  await trail.createTenant('globex');
  await installCapture(appDb.sql, {
    tables: ['public.accounts', 'documents'],
    tenantColumn: 'org_id',
    excludeColumns: ['accounts.password_hash'],
    maxValueBytes: 100,
  });
  relay = new CaptureRelay({ app: appDb.sql, append: (items) => trail.services.committer.append(items), source: 'test' });
});

afterAll(async () => {
  await appDb?.drop();
  await trail?.close();
});

async function events(tenant: string, query = ''): Promise<StoredEvent[]> {
  const res = await trail.request('GET', `/v1/events?tenant=${tenant}&limit=1000${query}`);
  expect(res.statusCode).toBe(200);
  return (res.json() as { data: StoredEvent[] }).data;
}

describe('capture', () => {
  it('records each committed change with its values, actor and context, once', async () => {
    const context = JSON.stringify({ actor: { type: 'user', id: 'bob', name: 'Bob' }, context: { ip: '203.0.113.9', request_id: 'req-1' } });
    const inserted = await appDb.appSql.begin(async (tx) => {
      await tx`select set_config('trailproof.context', ${context}, true)`;
      const rows = await tx`insert into accounts (org_id, name, balance, password_hash) values ('acme', 'Checking', 10, 'secret-hash') returning id`;
      await tx`update accounts set balance = 25, password_hash = 'other-hash' where id = ${rows[0]!.id}`;
      await tx`update accounts set password_hash = 'third-hash' where id = ${rows[0]!.id}`;
      return rows;
    });
    const id = inserted[0]!.id as number;
    await expect(
      appDb.appSql.begin(async (tx) => {
        await tx`update accounts set name = 'rolled back' where id = ${id}`;
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await appDb.appSql`delete from accounts where id = ${id}`;
    expect((await captureStatus(appDb.sql)).backlog).toBe(3);

    expect(await relay.drain()).toBe(3);
    expect((await captureStatus(appDb.sql)).backlog).toBe(0);
    const stored = (await events('acme', `&target_type=accounts&target_id=${id}`)).reverse();
    expect(stored.map((e) => e.action)).toEqual(['db.accounts.insert', 'db.accounts.update', 'db.accounts.delete']);
    const [insert, update, remove] = stored as [StoredEvent, StoredEvent, StoredEvent];
    expect(insert.actor).toEqual({ type: 'user', id: 'bob', name: 'Bob' });
    expect(insert.context).toEqual({ ip: '203.0.113.9', request_id: 'req-1' });
    expect(insert.source).toBe('trailproof');
    expect(insert.targets).toEqual([{ type: 'accounts', id: String(id) }]);
    expect(insert.changes).toContainEqual({ field: 'balance', after: 10 });
    expect(update.changes).toEqual([{ field: 'balance', before: 10, after: 25 }]);
    expect(JSON.stringify(stored)).not.toContain('hash');
    // Made without context: the database role is the actor.
    expect(remove.actor).toMatchObject({ type: 'system', id: 'capture_app_writer' });
    expect(remove.changes).toContainEqual({ field: 'name', before: 'Checking' });
    expect(JSON.stringify(stored)).not.toContain('rolled back');
  });

  it('appends a change again after a crash without a second event', async () => {
    await appDb.appSql`insert into documents (org_id, id, title) values ('globex', 1, 'Plan')`;
    // Appended, but the outbox transaction never commits (as if the relay died before its COMMIT).
    let appended = 0;
    const crashing = new CaptureRelay({
      app: appDb.sql,
      source: 'test',
      append: async (items) => {
        await trail.services.committer.append(items);
        appended += items.length;
        throw new Error('relay killed');
      },
    });
    await expect(crashing.relayBatch()).rejects.toThrow('relay killed');
    expect(appended).toBe(1);
    expect((await captureStatus(appDb.sql)).backlog).toBe(1);
    expect(await relay.drain()).toBe(1);
    const stored = await events('globex', '&target_type=documents');
    expect(stored).toHaveLength(1);
    expect(stored[0]!.targets[0]!.id).toBe('{"id":1,"org_id":"globex"}');
  });

  it('truncates large values with their hash', async () => {
    await appDb.appSql`insert into documents (org_id, id, title, body) values ('globex', 2, 'Big', ${'x'.repeat(500)})`;
    await relay.drain();
    const [doc] = await events('globex', `&target_id=${encodeURIComponent('{"id":2,"org_id":"globex"}')}`);
    expect(doc!.changes).toContainEqual({ field: 'body', after: { trailproof_truncated: true, bytes: 502, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  });

  it('parks changes of unknown tenants until the tenant exists, keeping their row order', async () => {
    await appDb.appSql`insert into documents (org_id, id, title) values ('initech', 1, 'One')`;
    await appDb.appSql`update documents set title = 'Two' where org_id = 'initech' and id = 1`;
    await relay.drain();
    expect(await captureStatus(appDb.sql)).toMatchObject({ backlog: 0, parked: 2 });
    await trail.createTenant('initech');
    await relay.drain();
    expect(await captureStatus(appDb.sql)).toMatchObject({ backlog: 0, parked: 0 });
    expect((await events('initech')).map((e) => e.action)).toEqual(['db.documents.update', 'db.documents.insert']);
  });

  it('refuses to uninstall while changes wait, unless forced', async () => {
    await appDb.appSql`insert into documents (org_id, id, title) values ('acme', 9, 'Waiting')`;
    await expect(uninstallCapture(appDb.sql)).rejects.toMatchObject({ code: 'CAPTURE_SETUP_INVALID' });
    await relay.drain();
    expect(await uninstallCapture(appDb.sql)).toEqual({ dropped: 2 });
    expect((await captureStatus(appDb.sql)).installed).toBe(false);
    await appDb.appSql`insert into documents (org_id, id, title) values ('acme', 10, 'Not captured')`;
  });
});
