/** The trail cannot be changed through the database: not by the service role, not by the owner. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  const res = await t.request('POST', '/v1/events', {
    body: { tenant: 'acme', action: 'user.login', actor: { type: 'user', id: 'alice' }, targets: [{ type: 'doc', id: 'd1' }] },
  });
  expect(res.statusCode).toBe(201);
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
