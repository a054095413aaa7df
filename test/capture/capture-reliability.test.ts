/**
 * Acceptance 1 of database capture (docs/capture.md): an application database under load (several
 * writers, some transactions rolled back), with the relay (a `trailproof capture relay` process)
 * SIGKILLed and the application's PostgreSQL restarted mid-run. Every committed change must be in
 * the trail exactly once, in commit order per row; no rolled-back change may be.
 */
import { execFile as execFileCb } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { installCapture } from '../../src/capture/install.ts';
import type { EventBody } from '../../src/event/types.ts';
import { openEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/embedded-postgres.ts';
import { createAppDatabase, type AppDatabase } from '../helpers/app-database.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { killStartedProcesses, runCli, startCli } from '../helpers/server-process.ts';

const execFile = promisify(execFileCb);
let dir: string;
let pg: EmbeddedPostgres;
let trail: TestApp;
let appDb: AppDatabase;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tp-capture-'));
  // The application's own PostgreSQL: a cluster of its own, so the test can restart it.
  pg = await openEmbeddedPostgres({ dataDir: dir, user: { role: 'cli', command: 'capture reliability test' } });
  [trail, appDb] = await Promise.all([createTestApp(), createAppDatabase(pg.url)]);
  await trail.createTenant('acme');
  await trail.createTenant('globex');
  await installCapture(appDb.sql, { tables: ['accounts'], tenantColumn: 'org_id' });
  await appDb.sql`insert into accounts (org_id, name, balance) select case when n % 2 = 0 then 'acme' else 'globex' end, 'a' || n, 0 from generate_series(1, 12) n`;
}, 180_000);

afterAll(async () => {
  await killStartedProcesses();
  await appDb?.drop().catch(() => {});
  await trail?.close();
  await pg?.release();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/** `pg_ctl restart` of the application's cluster, as the user that owns it; every connection is cut. */
async function restartAppPostgres(): Promise<void> {
  const pgDir = path.join(dir, 'pg');
  const { uid, gid } = await fs.stat(pgDir);
  const { pg_ctl } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { pg_ctl: string };
  await execFile(pg_ctl, ['restart', '-w', '-m', 'fast', '-D', pgDir, '-l', path.join(pgDir, 'server.log')], {
    uid,
    gid,
    cwd: os.tmpdir(),
    env: { ...process.env, LC_ALL: 'C' },
  });
}

it('relays every committed change once, in commit order per row, across a relay kill and a restart', async () => {
  const relayEnv = { DATABASE_URL: trail.db.url };
  let counter = 0;
  const acknowledged = new Map<number, string>();
  const rolledBack = new Set<number>();
  const inDoubt = new Set<number>();
  let stop = false;
  const writer = async (name: string) => {
    while (!stop) {
      const value = ++counter;
      const account = 1 + (value % 12);
      const rollback = value % 5 === 0;
      try {
        await appDb.appSql.begin(async (tx) => {
          await tx`select set_config('trailproof.context', ${JSON.stringify({ actor: { type: 'user', id: name } })}, true)`;
          await tx`update accounts set balance = ${value} where id = ${account}`;
          if (rollback) throw new Error('rollback');
        });
        acknowledged.set(value, name);
      } catch (err) {
        if (rollback && (err as Error).message === 'rollback') rolledBack.add(value);
        else {
          inDoubt.add(value);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  };
  const writers = ['w1', 'w2', 'w3', 'w4'].map(writer);
  const relayProcess = () => {
    const relay = startCli(['capture', 'relay', '--database-url', appDb.url], relayEnv, 110_000);
    relay.done.catch(() => {});
    return relay;
  };
  const first = relayProcess();
  await new Promise((r) => setTimeout(r, 2500));
  first.child.kill('SIGKILL');
  const second = relayProcess();
  await new Promise((r) => setTimeout(r, 1500));
  await restartAppPostgres();
  await new Promise((r) => setTimeout(r, 2000));
  stop = true;
  await Promise.all(writers);
  second.child.kill('SIGKILL');
  const drained = await runCli(['capture', 'relay', '--once', '--database-url', appDb.url], relayEnv);
  expect(drained.code, drained.stderr).toBe(0);

  expect(acknowledged.size).toBeGreaterThan(50);
  expect(rolledBack.size).toBeGreaterThan(5);
  const events = (
    await trail.db.sql<{ body: EventBody }[]>`
    select body from events where tenant_id in ('acme', 'globex') and action = 'db.accounts.update' order by seq`
  ).map((r) => r.body);
  const seen = new Map<number, number>();
  const byRow = new Map<string, EventBody[]>();
  for (const e of events) {
    const after = e.changes![0]!.after as number;
    seen.set(after, (seen.get(after) ?? 0) + 1);
    byRow.set(e.targets[0]!.id, [...(byRow.get(e.targets[0]!.id) ?? []), e]);
  }
  for (const [value, name] of acknowledged) {
    expect(seen.get(value), `committed value ${value}`).toBe(1);
    expect(events.find((e) => e.changes![0]!.after === value)!.actor.id).toBe(name);
  }
  for (const value of rolledBack) expect(seen.has(value), `rolled-back value ${value}`).toBe(false);
  for (const [value, count] of seen) {
    expect(acknowledged.has(value) || inDoubt.has(value), `value ${value}`).toBe(true);
    expect(count).toBe(1);
  }
  // Commit order per row: each change starts from the value the previous one left.
  const final = await appDb.sql<{ id: number; balance: string }[]>`select id, balance from accounts`;
  for (const { id, balance } of final) {
    const chain = byRow.get(String(id)) ?? [];
    chain.forEach((e, i) => {
      if (i > 0) expect(e.changes![0]!.before).toBe(chain[i - 1]!.changes![0]!.after);
    });
    if (chain.length > 0) expect(String(chain.at(-1)!.changes![0]!.after)).toBe(balance);
  }
}, 120_000);
