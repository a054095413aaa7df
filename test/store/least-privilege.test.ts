/**
 * The service role trailproof_app holds exactly the privileges docs/security.md lists, and every
 * statement beyond what the service's operations need is refused to it; revocations and self-audit
 * verdicts are refused to the owner too (triggers on).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSelfAudit } from '../../src/tlog/self-audit.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let revokedKeyId: string;
let liveKeyId: string;
let runId: number;
let verdict: boolean;

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  const created = await t.request('POST', '/v1/keys', { body: { name: 'to revoke', scope: 'ingest', tenant: 'acme' } });
  revokedKeyId = created.json().id;
  expect((await t.request('DELETE', `/v1/keys/${revokedKeyId}`)).statusCode).toBe(204);
  liveKeyId = (await t.request('POST', '/v1/keys', { body: { name: 'live', scope: 'read', tenant: 'acme' } })).json().id;
  const run = await runSelfAudit(t.db.sql, t.services.ledgerKeys);
  runId = run.id;
  verdict = run.ok;
});
afterAll(() => t.close());

describe('the service role', () => {
  it('holds exactly the privileges of the table in docs/security.md', async () => {
    const granted = await t.db.ownerSql<{ relation: string; privileges: string }[]>`
      with t as (
        select c.oid, c.relname, a.privilege_type as p from pg_class c cross join lateral aclexplode(c.relacl) a
        where a.grantee = 'trailproof_app'::regrole and c.relnamespace = 'public'::regnamespace
      ), col as (
        select c.oid, c.relname, a.privilege_type as p, string_agg(at.attname, ', ' order by at.attnum) as cols
        from pg_class c join pg_attribute at on at.attrelid = c.oid cross join lateral aclexplode(at.attacl) a
        where a.grantee = 'trailproof_app'::regrole and c.relnamespace = 'public'::regnamespace
        group by c.oid, c.relname, a.privilege_type
      ), f as (
        select p.oid, p.proname || '()' as relname, a.privilege_type as p from pg_proc p cross join lateral aclexplode(p.proacl) a
        where a.grantee = 'trailproof_app'::regrole and p.pronamespace = 'public'::regnamespace
      ), each as (
        select relname, p, p as text from t union all select relname, p, p || ' (' || cols || ')' from col union all select relname, p, p from f
      )
      select relname as relation,
        string_agg(text, ', ' order by array_position(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'USAGE', 'EXECUTE'], p)) as privileges
      from each group by relname order by relname`;
    const documented = privilegeTable();
    expect(Object.fromEntries(granted.map((g) => [g.relation, g.privileges]))).toEqual(documented);
  });

  const refused: [string, () => string][] = [
    ['clear a revocation', () => `update api_keys set revoked_at = null where id = '${revokedKeyId}'`],
    ['move a revocation', () => `update api_keys set revoked_at = now() - interval '1 day' where id = '${revokedKeyId}'`],
    ['change a key', () => `update api_keys set scope = 'admin' where id = '${liveKeyId}'`],
    ['write last_used_at', () => `update api_keys set last_used_at = now() where id = '${liveKeyId}'`],
    ['delete a key', () => `delete from api_keys where id = '${liveKeyId}'`],
    ['rewrite a verdict', () => `update ledger_audit_runs set ok = false where id = ${runId}`],
    ['rewrite a report', () => `update ledger_audit_runs set report = '{}' where id = ${runId}`],
    ['move a run', () => `update ledger_audit_runs set started_at = now() where id = ${runId}`],
    ['delete a run', () => `delete from ledger_audit_runs where id = ${runId}`],
    ['truncate the runs', () => 'truncate ledger_audit_runs'],
    ['move a head to another tenant', () => `update ledger_heads set tenant_id = '_system' where tenant_id = 'acme'`],
    ['rename a tenant', () => `update tenants set name = 'x' where id = 'acme'`],
    ['delete a tenant', () => `delete from tenants where id = 'acme'`],
    ['record a migration', () => `insert into schema_migrations (version, name, checksum) values (9999, 'x', 'x')`],
    ['truncate a ledger table', () => 'truncate ledger_leaves'],
    ['shred an archive key', () => `delete from archive_event_keys where tenant_id = 'acme'`],
    ['erase without an erasure record', () => `select trailproof_erase_payloads('acme', 0, '{}', null, '{}')`],
    ['rewrite the stats', () => `delete from stat_rollups where tenant_id = 'acme'`],
  ];

  it.each(refused)('may not %s', async (_what, statement) => {
    await expect(t.db.sql.unsafe(statement())).rejects.toMatchObject({ code: '42501' });
  });

  it('may not drop or change a record of a read before it is in the ledger', async () => {
    const [row] = await t.db.sql<{ id: number }[]>`insert into read_records (tenant_id, body) values ('acme', '{}') returning id`;
    for (const statement of [
      `delete from read_records where id = ${row!.id}`,
      `update read_records set created_at = now() where id = ${row!.id}`,
      `update read_records set body = '{"forged": true}' where id = ${row!.id}`,
      'truncate read_records',
    ]) {
      await expect(t.db.sql.unsafe(statement), statement).rejects.toMatchObject({ code: '42501' });
      await expect(t.db.ownerSql.unsafe(statement), statement).rejects.toThrow(/trailproof/);
    }
    // Not a record the service made: removed with the triggers off, so no pass tries to move it.
    await t.db.ownerSql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`delete from read_records where id = ${row!.id}`;
    });
  });

  it('moves records of reads into the ledger and then deletes them', async () => {
    const event = await t.request('POST', '/v1/events', { body: { tenant: 'acme', action: 'doc.read', actor: { type: 'user', id: 'a' } } });
    const uid = event.json().uid as string;
    expect((await t.request('GET', `/v1/events/${uid}`)).statusCode).toBe(200);
    await t.services.readRecords.flush();
    const [left] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from read_records`;
    expect(left!.n).toBe(0);
    const [moved] = await t.db.sql<{ n: number }[]>`
      select count(*)::int as n from events where tenant_id = 'acme' and action = 'audit_log.viewed' and body->'targets'->0->>'id' = ${uid}`;
    expect(moved!.n).toBe(1);
  });

  it('is the only role that may create partitions', async () => {
    const [row] = await t.db.ownerSql<{ anyone: boolean; app: boolean }[]>`
      select has_function_privilege('public', 'ensure_event_partitions(timestamptz[])', 'execute') as anyone,
             has_function_privilege('trailproof_app', 'ensure_event_partitions(timestamptz[])', 'execute') as app`;
    expect(row).toEqual({ anyone: false, app: true });
  });
});

describe('the owner, with the triggers on', () => {
  it.each([
    ['clear a revocation', () => `update api_keys set revoked_at = null where id = '${revokedKeyId}'`],
    ['move a revocation', () => `update api_keys set revoked_at = now() - interval '1 day' where id = '${revokedKeyId}'`],
    ['rewrite a verdict', () => `update ledger_audit_runs set ok = false where id = ${runId}`],
    ['delete a run', () => `delete from ledger_audit_runs where id = ${runId}`],
    ['truncate the runs', () => 'truncate ledger_audit_runs'],
  ] as [string, () => string][])('may not %s', async (_what, statement) => {
    await expect(t.db.ownerSql.unsafe(statement())).rejects.toThrow(/revoked at|verdict|append-only/);
  });

  it('sees the revocation and the verdict unchanged', async () => {
    const [key] = await t.db.ownerSql<{ revoked: boolean }[]>`select revoked_at is not null as revoked from api_keys where id = ${revokedKeyId}`;
    const [run] = await t.db.ownerSql<{ ok: boolean }[]>`select ok from ledger_audit_runs where id = ${runId}`;
    expect(key!.revoked).toBe(true);
    expect(run!.ok).toBe(verdict);
  });
});

/** The privilege table of docs/security.md: relation → privileges, as `\`name\` | privileges |` rows. */
function privilegeTable(): Record<string, string> {
  const doc = fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/security.md'), 'utf8');
  const section = doc.split('<!-- privileges -->')[1]?.split('<!-- /privileges -->')[0];
  if (!section) throw new Error('docs/security.md has no <!-- privileges --> table');
  const rows: Record<string, string> = {};
  for (const line of section.split('\n')) {
    const m = /^\| `([^`]+)` \| ([^|]+) \|/.exec(line);
    if (m) rows[m[1]!] = m[2]!.trim();
  }
  return rows;
}
