/**
 * A backend terminated under a transaction (an operator's pg_terminate_backend, a PostgreSQL
 * restart): the transaction fails with a catchable error, the process lives on, and the pool serves
 * the next query. Unpatched postgres.js 3.4.9 threw from a timer here (porsager/postgres#1208),
 * which vitest reports as an unhandled error and a service would not survive; see
 * scripts/patch-postgres.mjs, which `npm install` runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Sql } from '../../src/store/db.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let db: TestDatabase;
let pool: Sql;
beforeAll(async () => {
  db = await createTestDatabase();
  pool = connect(db.url, { max: 2 });
});
afterAll(async () => {
  await pool.end({ timeout: 1 });
  await db.drop();
});

describe('a backend terminated under a transaction', () => {
  it('fails that transaction with CONNECTION_CLOSED and leaves the process and the pool working', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.prependListener('uncaughtException', onUncaught);
    try {
      const transaction = pool.begin(async (tx) => {
        await tx`select pg_sleep(30)`;
      });
      const outcome = transaction.then(() => 'committed', (err: unknown) => err);
      let terminated = false;
      for (const started = Date.now(); !terminated && Date.now() - started < 5000; await new Promise((r) => setTimeout(r, 10))) {
        const [row] = await db.ownerSql<{ done: boolean }[]>`
          select pg_terminate_backend(pid) as done from pg_stat_activity where query like '%pg_sleep(30)%' and pid <> pg_backend_pid()`;
        terminated = row?.done === true;
      }
      expect(terminated).toBe(true);
      expect(await outcome).toMatchObject({ code: 'CONNECTION_CLOSED' });
      // The ROLLBACK postgres.js sends after the failure goes out from a timer: give it its turn.
      await new Promise((r) => setTimeout(r, 200));
      expect(uncaught).toEqual([]);
      expect(await pool`select 1 as one`).toEqual([{ one: 1 }]);
    } finally {
      process.removeListener('uncaughtException', onUncaught);
    }
  });
});
