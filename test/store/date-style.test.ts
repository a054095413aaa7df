/**
 * postgres.js reads timestamps as text and parses them with Date; a server or database whose
 * default DateStyle is not ISO (`SQL, DMY`, `German`, set by a DBA) writes text Date misreads.
 * connect() asks for ISO on every connection, whatever the default.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/store/db.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  const [row] = await db.ownerSql<{ name: string }[]>`select current_database() as name`;
  await db.ownerSql.unsafe(`alter database ${row!.name} set datestyle = 'SQL, DMY'`);
});
afterAll(() => db.drop());

describe('connections to a database whose DateStyle is not ISO', () => {
  const query = (sql: postgres.Sql) => sql<{ t: Date }[]>`select '2026-11-30 02:03:04.5+00'::timestamptz as t`;

  it('read timestamps right through connect()', async () => {
    const sql = connect(db.url, { max: 1 });
    try {
      const [row] = await query(sql as unknown as postgres.Sql);
      expect(row!.t.toISOString()).toBe('2026-11-30T02:03:04.500Z');
    } finally {
      await sql.end();
    }
  });

  it('would be misread by a connection that does not ask for ISO (what the setting prevents)', async () => {
    const plain = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await query(plain);
      expect(Number.isNaN(row!.t.getTime()) || row!.t.toISOString() !== '2026-11-30T02:03:04.500Z').toBe(true);
    } finally {
      await plain.end();
    }
  });
});
