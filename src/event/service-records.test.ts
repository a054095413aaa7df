/** The reserved namespaces, as the validator tests them and as SQL finds them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/database.ts';
import { isServiceAction, isServiceClientId, SERVICE_ACTION_PATTERNS, SERVICE_NAMESPACES } from './service-records.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const actions = [
  ...SERVICE_NAMESPACES.flatMap((ns) => [ns, `${ns}.created`, `${ns}.a.b`]),
  'audit_logs.viewed',
  'auditxlog.viewed',
  'audit_log_x.viewed',
  'account.api_key.created',
  'tenants.created',
  'apixkey.created',
  'user.login',
  'streams',
];

describe('service namespaces', () => {
  it('are reserved by their first segment only', () => {
    expect(actions.filter(isServiceAction).sort()).toEqual(SERVICE_NAMESPACES.flatMap((ns) => [ns, `${ns}.created`, `${ns}.a.b`]).sort());
  });

  it('are found by SQL LIKE patterns exactly where the validator finds them (`_` is no wildcard), a bare namespace aside', async () => {
    const rows = await db.sql<{ action: string; reserved: boolean }[]>`
      select a as action, a like any(${SERVICE_ACTION_PATTERNS as string[]}::text[]) as reserved from unnest(${actions}::text[]) a`;
    // A service record's action always has a verb after its namespace.
    for (const { action, reserved } of rows) expect(reserved, action).toBe(isServiceAction(action) && action.includes('.'));
  });

  it('reserve the read-record: client ids', () => {
    expect(isServiceClientId('read-record:12')).toBe(true);
    expect(isServiceClientId('read-records:12')).toBe(false);
    expect(isServiceClientId('my-read-record:12')).toBe(false);
  });
});
