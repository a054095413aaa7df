/**
 * An application's own database for the capture tests (docs/capture.md): a fresh database on the
 * test PostgreSQL with two tenant-scoped tables, `accounts` and `documents`, owned by the superuser
 * (who installs capture and runs the relay) and written by an unprivileged role, as an app would.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { connect, type Sql } from '../../src/store/db.ts';
import { withDatabase } from '../global-setup.ts';

export interface AppDatabase {
  name: string;
  /** Superuser URL: installs capture, runs the relay. */
  url: string;
  /** The owner's connection. */
  sql: Sql;
  /** Connected as the application's role (`capture_app_writer`), which may only write the tables. */
  appSql: Sql;
  /** The application role's URL. */
  appUrl: string;
  drop(): Promise<void>;
}

export const APP_SCHEMA = `
  create table accounts (id bigserial primary key, org_id text not null, name text not null, balance numeric not null default 0,
    password_hash text, settings jsonb not null default '{}');
  create table documents (org_id text not null, id int not null, title text not null, body text, primary key (org_id, id));
`;

export async function createAppDatabase(adminUrl: string = inject('adminDatabaseUrl')): Promise<AppDatabase> {
  const name = `tp_app_${randomBytes(6).toString('hex')}`;
  const admin = connect(adminUrl, { max: 1 });
  await admin.unsafe(`create database ${name}`);
  await admin.unsafe(`do $$ begin create role capture_app_writer login password 'writer'; exception when duplicate_object then null; end $$`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  const sql = connect(url, { max: 4 });
  await sql.unsafe(APP_SCHEMA);
  await sql.unsafe(
    'grant select, insert, update, delete on accounts, documents to capture_app_writer; grant usage on sequence accounts_id_seq to capture_app_writer',
  );
  const u = new URL(url);
  u.username = 'capture_app_writer';
  u.password = 'writer';
  const appUrl = u.toString();
  const appSql = connect(appUrl, { max: 8 });
  return {
    name,
    url,
    sql,
    appSql,
    appUrl,
    drop: async () => {
      await appSql.end({ timeout: 5 });
      await sql.end({ timeout: 5 });
      const a = connect(adminUrl, { max: 1 });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}
