/**
 * refusedByDatabase (src/store/db.ts) decides whether an append may be done again: only after the
 * database refused a statement (its transaction certainly not committed), never after the
 * connection was lost or the backend terminated (a COMMIT may have gone through unanswered).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, refusedByDatabase, type Sql } from '../../src/store/db.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let db: TestDatabase;
let victim: Sql;
beforeAll(async () => {
  db = await createTestDatabase();
  victim = connect(db.url, { max: 1 });
});
afterAll(async () => {
  await victim.end({ timeout: 1 });
  await db.drop();
});

const failure = (work: Promise<unknown>) => work.then(() => { throw new Error('expected a failure'); }, (err: unknown) => err);

describe('refusedByDatabase', () => {
  it('is true for a statement the database refused, in and out of a transaction', async () => {
    expect(refusedByDatabase(await failure(db.ownerSql`select 1/0`))).toBe(true);
    expect(refusedByDatabase(await failure(db.ownerSql.begin((tx) => tx`select 'not a boolean'::text::boolean`)))).toBe(true);
  });

  it('is false when the backend is terminated under a transaction, and for errors not from the database', async () => {
    const reserved = await victim.reserve();
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
