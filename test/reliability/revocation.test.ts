/**
 * Revocation reaches every process within a second: two `trailproof serve` processes on one
 * database; a key revoked through one (or in SQL, as `trailproof keys revoke` does) is refused by
 * the other, which had it cached, within a second, and so is every viewer token the key minted.
 * Also after the listening connections were killed and came back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killStartedProcesses, randomAdminKey, request, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

let db: TestDatabase;
let a: ServerProcess;
let b: ServerProcess;
let admin: string;

beforeAll(async () => {
  db = await createTestDatabase();
  admin = randomAdminKey();
  const env = { DATABASE_URL: db.url, TRAILPROOF_ADMIN_KEY: admin, TRAILPROOF_VIEWER_SECRET: `revocation-test-secret-${'v'.repeat(20)}` };
  [a, b] = await Promise.all([startServerProcess({ env }), startServerProcess({ env })]);
  expect((await request(`${a.url}/v1/tenants`, admin, 'POST', { id: 'acme' })).status).toBe(201);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await killStartedProcesses();
  await db?.drop();
});

async function createKey(scope: 'read' | 'admin'): Promise<{ id: string; secret: string }> {
  const res = await request(`${a.url}/v1/keys`, admin, 'POST', { name: `${scope} key`, scope, tenant: 'acme' });
  expect(res.status).toBe(201);
  return res.body;
}

/** Milliseconds until every credential is refused by `server` (polling), or Infinity after `limitMs`. */
async function refusedWithin(server: ServerProcess, credentials: string[], limitMs = 6000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const statuses = await Promise.all(credentials.map(async (c) => (await request(`${server.url}/v1/events?limit=1`, c)).status));
    const elapsed = performance.now() - started;
    if (statuses.every((s) => s === 401)) return elapsed;
    if (elapsed > limitMs) return Number.POSITIVE_INFINITY;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('revoking a key', () => {
  it('through one process: the other refuses the key and its viewer tokens within a second', async () => {
    const backend = await createKey('admin');
    const reader = await createKey('read');
    const minted = await request(`${a.url}/v1/viewer-tokens`, backend.secret, 'POST', {});
    expect(minted.status).toBe(201);
    const token = minted.body.token as string;
    // Both processes have the key and the token's minting key cached.
    for (const server of [a, b]) {
      for (const credential of [reader.secret, token]) expect((await request(`${server.url}/v1/events?limit=1`, credential)).status).toBe(200);
    }
    expect((await request(`${a.url}/v1/keys/${backend.id}`, admin, 'DELETE')).status).toBe(204);
    expect((await request(`${a.url}/v1/keys/${reader.id}`, admin, 'DELETE')).status).toBe(204);
    expect(await refusedWithin(b, [reader.secret, token])).toBeLessThan(1000);
    const refused = await request(`${b.url}/v1/events?limit=1`, token);
    expect(refused.body.error.code).toBe('VIEWER_TOKEN_REVOKED');
  });

  it('in SQL, as the CLI does: every process refuses it within a second', async () => {
    const reader = await createKey('read');
    for (const server of [a, b]) expect((await request(`${server.url}/v1/events?limit=1`, reader.secret)).status).toBe(200);
    await db.sql`update api_keys set revoked_at = now() where id = ${reader.id}`;
    const [onA, onB] = await Promise.all([refusedWithin(a, [reader.secret]), refusedWithin(b, [reader.secret])]);
    expect(onA).toBeLessThan(1000);
    expect(onB).toBeLessThan(1000);
  });

  it('after the listening connections were killed: heard again once they are back', async () => {
    const killed = await db.ownerSql<{ pid: number }[]>`
      select pid from pg_stat_activity where datname = current_database() and query ilike 'listen%' and pg_terminate_backend(pid)`;
    expect(killed.length).toBe(2);
    // Reconnected (postgres.js retries at once, then backs off).
    await expect
      .poll(async () => (await db.ownerSql`select 1 from pg_stat_activity where datname = current_database() and query ilike 'listen%'`).length, {
        timeout: 10_000,
        interval: 100,
      })
      .toBe(2);
    const reader = await createKey('read');
    for (const server of [a, b]) expect((await request(`${server.url}/v1/events?limit=1`, reader.secret)).status).toBe(200);
    await db.sql`update api_keys set revoked_at = now() where id = ${reader.id}`;
    expect(await refusedWithin(b, [reader.secret])).toBeLessThan(1000);
  });
});
