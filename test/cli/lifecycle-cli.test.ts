/**
 * `trailproof tenants retention` and `trailproof lifecycle run` as real processes on the database
 * of an in-process service: a policy is shown, checked, set and recorded in the tenant's trail
 * with the CLI as its actor; a run purges what expired, only for the tenant named, and records it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendReceivedAgo } from '../helpers/aged-events.ts';
import { createTestApp, TEST_LEDGER_KEY, type TestApp } from '../helpers/app.ts';
import { runCli } from '../helpers/server-process.ts';

let t: TestApp;
let env: Record<string, string>;
const event = (n: number) => ({ action: 'document.read', actor: { type: 'user', id: `user-${n}` }, targets: [{ type: 'document', id: `doc-${n}` }] });

beforeAll(async () => {
  t = await createTestApp();
  for (const id of ['cli-a', 'cli-b']) {
    await t.createTenant(id);
    await appendReceivedAgo(t.db.sql, id, 20, [event(1), event(2), event(3)]);
  }
  env = { DATABASE_URL: t.db.url, TRAILPROOF_LEDGER_KEY: TEST_LEDGER_KEY, TRAILPROOF_ARCHIVE_URL: t.config.archiveUrl! };
});
afterAll(() => t.close());

const documents = async (tenant: string) =>
  (await t.db.sql<{ seq: number }[]>`select seq from events where tenant_id = ${tenant} and action = 'document.read' order by seq`).map((r) => r.seq);

describe('trailproof tenants retention', () => {
  it('shows the default, sets a policy and records the change with the CLI as its actor', async () => {
    const shown = await runCli(['tenants', 'retention', 'cli-a'], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toBe('cli-a: events kept 365 days after receipt; the service default\n');
    const set = await runCli(['tenants', 'retention', 'cli-a', '--days', '10', '--hot-days', '5', '--json'], env);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ tenant: 'cli-a', days: 10, hot_days: 5, source: 'tenant', default_days: 365 });
    const [record] = await t.db.sql<{ body: { actor: { id: string }; metadata: unknown } }[]>`
      select body from events where tenant_id = 'cli-a' and action = 'retention.updated'`;
    expect(record!.body.actor.id).toBe(`cli:${os.userInfo().username}`);
    expect(record!.body.metadata).toEqual({ days: 10, hot_days: 5, source: 'tenant' });
    expect((await t.request('GET', '/v1/tenants/cli-a/retention')).json()).toMatchObject({ days: 10, hot_days: 5, source: 'tenant' });
  });

  it.each([
    [['--days', '0'], '/days'],
    [['--days', 'ten'], '/days'],
    [['--days', '3651'], '/days'],
    [['--days', '10', '--hot-days', '11'], '/hot_days'],
    [['--hot-days', '3'], '/days'],
  ])('refuses %j, naming %s, and changes nothing', async (args, pointer) => {
    const res = await runCli(['tenants', 'retention', 'cli-a', ...args], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('(REQUEST_INVALID)');
    expect(res.stderr).toContain(`${pointer}:`);
    expect((await t.request('GET', '/v1/tenants/cli-a/retention')).json()).toMatchObject({ days: 10, hot_days: 5 });
  });

  it('refuses an unknown tenant', async () => {
    const res = await runCli(['tenants', 'retention', 'nope', '--days', '3'], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('TENANT_NOT_FOUND');
  });
});

describe('trailproof lifecycle run', () => {
  it('purges what expired in the tenant named, and only there; a second run finds nothing', async () => {
    expect((await runCli(['tenants', 'retention', 'cli-b', '--days', '10'], env)).code).toBe(0);
    const before = await documents('cli-b');
    const run = await runCli(['lifecycle', 'run', '--tenant', 'cli-a', '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as {
      tenants: { tenant: string; removed: number; records: { range: number[]; count: number }[] }[];
      failed: unknown[];
    };
    // cli-a keeps 5 days in the database (archived), so its 20-day-old events go.
    expect(result.failed).toEqual([]);
    expect(result.tenants).toEqual([expect.objectContaining({ tenant: 'cli-a', removed: 3, records: [expect.objectContaining({ range: [0, 3], count: 3 })] })]);
    expect(await documents('cli-a')).toEqual([]);
    expect(await documents('cli-b')).toEqual(before);
    const [purge] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from events where tenant_id = 'cli-a' and action = 'retention.purged'`;
    expect(purge!.n).toBe(1);

    const all = await runCli(['lifecycle', 'run'], env);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^lifecycle run .*: OK\n/);
    expect(all.stdout).toContain('  cli-a: 10 days (5 hot), purged 0 payloads\n');
    expect(all.stdout).toMatch(/ {2}cli-b: 10 days, purged 3 payloads; record \d+ \[0, 3\)\n/);
    expect(await documents('cli-b')).toEqual([]);
    // A trail with nothing expired is left as it is: not even its policy is recorded.
    const [system] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from events where tenant_id = '_system' and action like 'retention.%'`;
    expect(system!.n).toBe(0);
  });

  it('refuses an unknown tenant, and a service without its ledger key', async () => {
    const unknown = await runCli(['lifecycle', 'run', '--tenant', 'nope'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('TENANT_NOT_FOUND');
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-lifecycle-cli-'));
    const keyless = await runCli(['lifecycle', 'run'], { ...env, TRAILPROOF_LEDGER_KEY: '', TRAILPROOF_DATA_DIR: dataDir });
    fs.rmSync(dataDir, { recursive: true, force: true });
    expect(keyless.code).toBe(1);
    expect(keyless.stderr).toContain('CONFIG_INVALID');
  });
});
