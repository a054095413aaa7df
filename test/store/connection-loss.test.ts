/**
 * A backend terminated under a transaction (an operator's pg_terminate_backend, a PostgreSQL
 * restart). The transaction fails with a catchable error, the process lives on, and the pool serves
 * the next query: unpatched postgres.js 3.4.9 threw from a timer here (porsager/postgres#1208),
 * which vitest reports as an unhandled error and a service would not survive; see
 * patches/postgres+3.4.9.patch, which `npm ci` applies and the npm package ships applied. And refusedByDatabase (src/store/db.ts),
 * which decides whether an append may be done again: only after the database refused a statement
 * (its transaction certainly not committed), never after such a loss (a COMMIT may have gone
 * through unanswered).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, refusedByDatabase, type Sql } from '../../src/store/db.ts';
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
      const outcome = transaction.then(
        () => 'committed',
        (err: unknown) => err,
      );
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

const failure = (work: Promise<unknown>) =>
  work.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err,
  );

describe('refusedByDatabase', () => {
  it('is true for a statement the database refused, in and out of a transaction', async () => {
    expect(refusedByDatabase(await failure(db.ownerSql`select 1/0`))).toBe(true);
    expect(refusedByDatabase(await failure(db.ownerSql.begin((tx) => tx`select 'not a boolean'::text::boolean`)))).toBe(true);
  });

  it('is false when the backend is terminated under a transaction, and for errors not from the database', async () => {
    const reserved = await pool.reserve();
    const [row] = await reserved<{ pid: number }[]>`select pg_backend_pid() as pid`;
    await reserved`begin`;
    const waiting = failure(reserved`select pg_sleep(30)`);
    await db.ownerSql`select pg_terminate_backend(${row!.pid})`;
    const err = await waiting;
    reserved.release();
    expect(err).toBeInstanceOf(Error);
    expect(refusedByDatabase(err)).toBe(false);
    expect(refusedByDatabase(new Error('ECONNRESET'))).toBe(false);
    expect(refusedByDatabase(undefined)).toBe(false);
  });
});
