/**
 * The transactional outbox: an app on its own PostgreSQL writes events inside its transactions and
 * is SIGKILLed mid-run; afterwards exactly the events of committed transactions are in Trailproof, once.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxRelay, PostgresOutbox, type Query } from '../../packages/client/src/index.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
let t: TestApp;
let appDb: TestDatabase;
let url: string;
let key: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('outbox-a');
  url = await t.app.listen({ port: 0, host: '127.0.0.1' });
  key = await t.createKey('ingest', 'outbox-a');
  appDb = await createTestDatabase();
  await appDb.ownerSql.unsafe('create table orders (n int primary key)');
});
afterAll(async () => {
  await appDb.drop();
  await t.close();
});

describe('PostgresOutbox', () => {
  it('after a SIGKILL mid-run, the events of committed transactions arrive exactly once and none of rolled-back ones', async () => {
    const client = path.join(ROOT, 'packages/client/dist/packages/client/src/index.js');
    // The app: every fifth transaction rolls back after writing its event; a relay runs beside it.
    const script = `
      import postgres from 'postgres';
      import { OutboxRelay, PostgresOutbox } from ${JSON.stringify(client)};
      const sql = postgres(${JSON.stringify(appDb.adminUrl.replace(/\/[^/]*$/, `/${new URL(appDb.url).pathname.slice(1)}`))}, { max: 4, onnotice() {} });
      const outbox = new PostgresOutbox((t, p) => sql.unsafe(t, p));
      await outbox.install();
      new OutboxRelay(outbox, { url: ${JSON.stringify(url)}, apiKey: ${JSON.stringify(key)}, batchSize: 100, pollMs: 20 }).start();
      process.stdout.write('ready\\n');
      for (let n = 0; ; n++) {
        await sql.begin(async (tx) => {
          await tx.unsafe('insert into orders (n) values ($1)', [n]);
          await outbox.write((t, p) => tx.unsafe(t, p), { action: 'order.placed', actor: { type: 'service', id: 'shop' }, metadata: { n } });
          if (n % 5 === 4) throw new Error('rollback');
        }).catch(() => {});
      }
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('ready') && resolve()));
    // Kill mid-run once some transactions committed, however slow the machine is.
    const deadline = Date.now() + 60_000;
    while ((await appDb.ownerSql`select count(*)::int as n from orders`)[0]!.n <= 20 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));

    const committed = (await appDb.ownerSql<{ n: number }[]>`select n from orders order by n`).map((r) => r.n);
    expect(committed.length).toBeGreaterThan(20);
    expect(committed.some((n) => n % 5 === 4)).toBe(false);
    // A new relay (the app restarted) delivers the rest.
    const query: Query = (text, params) => appDb.ownerSql.unsafe(text, params as never[]) as unknown as Promise<Record<string, unknown>[]>;
    const errors: unknown[] = [];
    await new OutboxRelay(new PostgresOutbox(query), { url, apiKey: key, onError: (e) => errors.push(e) }).drain();
    expect(errors).toEqual([]);
    const arrived = (
      await t.db.sql<{ n: number }[]>`select (body->'metadata'->>'n')::int as n from events where tenant_id = 'outbox-a' and action = 'order.placed' order by 1`
    ).map((r) => r.n);
    expect(arrived).toEqual(committed);
  });
});
