/** A fresh database per test file, cloned from the migrated template (see test/global-setup.ts). */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { APP_ROLE, connect, type Sql } from '../../src/store/db.ts';
import { withDatabase } from '../global-setup.ts';

export interface TestDatabase {
  url: string;
  /** The superuser URL of the same server (for tamper tests and CREATE DATABASE). */
  adminUrl: string;
  /** Connected as the service role, like the running service. */
  sql: Sql;
  /** Connected as the database owner (superuser): can bypass triggers, for tamper tests. */
  ownerSql: Sql;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('adminDatabaseUrl');
  const name = `tp_test_${randomBytes(6).toString('hex')}`;
  const admin = connect(adminUrl, { max: 1 });
  await admin.unsafe(`create database ${name} template ${inject('templateDatabase')}`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  const sql = connect(url, { max: 10, role: APP_ROLE });
  const ownerSql = connect(url, { max: 2 });
  return {
    url,
    adminUrl,
    sql,
    ownerSql,
    drop: async () => {
      await sql.end({ timeout: 5 });
      await ownerSql.end({ timeout: 5 });
      const a = connect(adminUrl, { max: 1 });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}
