/** Servers starting together on one database, each with TRAILPROOF_ADMIN_KEY: one key, no failed start. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keyIdentity } from '../../src/auth/api-keys.ts';
import { bootstrapAdminKey } from '../../src/auth/bootstrap.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

it('installs the configured admin key once when several processes race to', async () => {
  const key = `tp_race-admin-${'k'.repeat(32)}`;
  const results = await Promise.allSettled(Array.from({ length: 6 }, () => bootstrapAdminKey(db.sql, key)));
  expect(results.map((r) => r.status)).toEqual(Array(6).fill('fulfilled'));
  const rows = await db.sql`select id, scope from api_keys where id = ${keyIdentity(key).id}`;
  expect(rows).toEqual([{ id: keyIdentity(key).id, scope: 'admin' }]);
});
