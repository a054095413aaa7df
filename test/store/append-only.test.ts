/**
 * The trail cannot be changed through the database: not by the service role, not by the owner.
 * Every monthly partition of events and event_targets refuses UPDATE, DELETE and TRUNCATE too:
 * partitions that existed before migration 0020, the current month's, and one created later the
 * way the service creates them (ensure_event_partitions, called as the service role).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connect } from '../../src/store/db.ts';
import { loadMigrations, migrate } from '../../src/store/migrate.ts';
import { withDatabase } from '../global-setup.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
const FUTURE = '2031-05-10T12:00:00Z';
const futurePartitions = ['events_y2031m05', 'event_targets_y2031m05'];
let currentPartitions: string[];

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  const res = await t.request('POST', '/v1/events', {
    body: { tenant: 'acme', action: 'user.login', actor: { type: 'user', id: 'alice' }, targets: [{ type: 'doc', id: 'd1' }] },
  });
  expect(res.statusCode).toBe(201);
  const month = new Date().toISOString().slice(0, 7).replace('-', 'm');
  currentPartitions = [`events_y${month}`, `event_targets_y${month}`];
  // A later month's partitions, created as the service creates them, and a row in each.
  await t.db.sql`select ensure_event_partitions(${[FUTURE]}::timestamptz[])`;
  await t.db.ownerSql`insert into events (tenant_id, seq, uid, occurred_at, received_at, action, actor_type, actor_id, outcome, body, salt)
    values ('later', 0, gen_random_uuid(), ${FUTURE}, now(), 'user.login', 'user', 'bob', 'success', '{}', '\\x00')`;
  await t.db.ownerSql`insert into event_targets (tenant_id, target_type, target_id, occurred_at, seq) values ('later', 'doc', 'd2', ${FUTURE}, 0)`;
});
afterAll(() => t.close());

const statements = [
  "update events set action = 'user.logout'",
  'delete from events',
  'truncate events',
  "update event_targets set target_id = 'x'",
  'delete from event_targets',
  'update ledger_leaves set leaf_hash = leaf_hash',
  'delete from ledger_leaves',
  'truncate ledger_leaves',
  'delete from ledger_nodes',
  'update ledger_heads set size = 0',
  "delete from ledger_heads where tenant_id = 'acme'",
  "update ledger_checkpoints set note = ''",
  'delete from ledger_checkpoints',
  'truncate ledger_checkpoints cascade',
  "update ledger_cosignatures set signature = ''",
  'delete from ledger_cosignatures',
];

describe('append-only tables', () => {
  it('the service works as trailproof_app', async () => {
    const [row] = await t.db.sql<{ current_user: string }[]>`select current_user`;
    expect(row!.current_user).toBe('trailproof_app');
  });

  it.each(statements)('the service role is refused: %s', async (statement) => {
    await expect(t.db.sql.unsafe(statement)).rejects.toMatchObject({ code: '42501' });
  });

  it.each(statements)('even the owner is refused by the triggers: %s', async (statement) => {
    await expect(t.db.ownerSql.unsafe(statement)).rejects.toThrow(/append-only|may only grow|refused/);
  });

  it('leaves every row in place after the attempts', async () => {
    const [n] = await t.db.ownerSql<{ events: number; leaves: number; size: number }[]>`
      select (select count(*)::int from events where tenant_id = 'acme') as events,
             (select count(*)::int from ledger_leaves where tenant_id = 'acme') as leaves,
             (select size::int from ledger_heads where tenant_id = 'acme') as size`;
    expect(n).toEqual({ events: 1, leaves: 1, size: 1 });
  });
});

const partitionStatements = (table: string) => [`update ${table} set tenant_id = tenant_id`, `delete from ${table}`, `truncate ${table}`];

describe('partitions of the trail', () => {
  it('the current and the later month have their partitions', async () => {
    const rows = await t.db.ownerSql<{ name: string }[]>`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent in ('events'::regclass, 'event_targets'::regclass)`;
    expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining([...currentPartitions, ...futurePartitions]));
  });

  it('refuse UPDATE, DELETE and TRUNCATE by the superuser with the triggers on', async () => {
    for (const table of [...currentPartitions, ...futurePartitions]) {
      for (const statement of partitionStatements(table)) {
        await expect(t.db.ownerSql.unsafe(statement), statement).rejects.toThrow(/append-only/);
      }
    }
  });

  it('refuse them to the service role', async () => {
    for (const table of [...currentPartitions, ...futurePartitions]) {
      for (const statement of partitionStatements(table)) {
        await expect(t.db.sql.unsafe(statement), statement).rejects.toMatchObject({ code: '42501' });
      }
    }
  });

  it('keep every row', async () => {
    const [n] = await t.db.ownerSql<{ events: number; targets: number }[]>`
      select (select count(*)::int from events where tenant_id = 'later') as events,
             (select count(*)::int from event_targets where tenant_id = 'later') as targets`;
    expect(n).toEqual({ events: 1, targets: 1 });
  });
});

describe('a database migrated before partitions guarded themselves', () => {
  it('gets its existing partitions guarded by the migration', async () => {
    const adminUrl = inject('adminDatabaseUrl');
    const name = `tp_test_${randomBytes(6).toString('hex')}`;
    const admin = connect(adminUrl, { max: 1 });
    await admin.unsafe(`create database ${name}`);
    const db = connect(withDatabase(adminUrl, name), { max: 1 });
    try {
      // The migrations before 0020, applied and recorded as `migrate` does, then a partition.
      await db`create table schema_migrations (version int primary key, name text not null, checksum text not null, applied_at timestamptz not null default now())`;
      for (const m of (await loadMigrations()).filter((m) => m.version < 20)) {
        await db.begin(async (tx) => {
          await tx.unsafe(m.sql);
          await tx`insert into schema_migrations (version, name, checksum) values (${m.version}, ${m.name}, ${m.checksum})`;
        });
      }
      await db`select ensure_event_partitions(${['2027-03-01T00:00:00Z']}::timestamptz[])`;
      await expect(db.unsafe('truncate events_y2027m03')).resolves.toBeDefined();
      await migrate(db);
      for (const table of ['events_y2027m03', 'event_targets_y2027m03']) {
        for (const statement of partitionStatements(table)) await expect(db.unsafe(statement), statement).rejects.toThrow(/append-only/);
      }
    } finally {
      await db.end();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
