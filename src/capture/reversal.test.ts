import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppDatabase, type AppDatabase } from '../../test/helpers/app-database.ts';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import type { Sql } from '../store/db.ts';
import { installCapture } from './install.ts';
import { CaptureRelay } from './relay.ts';
import type { ReversalPlan } from './reversal-plan.ts';
import { applyPlan } from './revert.ts';

let trail: TestApp;
let appDb: AppDatabase;
let relay: CaptureRelay;

beforeAll(async () => {
  [trail, appDb] = await Promise.all([createTestApp(), createAppDatabase()]);
  await trail.createTenant('acme');
  await trail.createTenant('globex');
  await installCapture(appDb.sql, { tables: ['accounts', 'documents'], tenantColumn: 'org_id', excludeColumns: ['accounts.password_hash'] });
  relay = new CaptureRelay({ app: appDb.sql, append: (items) => trail.services.committer.append(items), source: 'test' });
});

afterAll(async () => {
  await appDb?.drop();
  await trail?.close();
});

/** Runs `work` in one transaction of the app, as `actor`. */
function as<T>(actor: string, work: (tx: Sql) => Promise<T>): Promise<T> {
  return appDb.appSql.begin(async (tx) => {
    await tx`select set_config('trailproof.context', ${JSON.stringify({ actor: { type: 'user', id: actor } })}, true)`;
    return work(tx as unknown as Sql);
  }) as Promise<T>;
}

async function dump(): Promise<unknown[]> {
  return [
    ...(await appDb.sql`select * from accounts where org_id = 'acme' order by id`),
    ...(await appDb.sql`select * from documents where org_id = 'acme' order by id`),
  ];
}

async function plan(since: Date, until: Date, key = trail.adminKey): Promise<ReversalPlan> {
  const res = await trail.request('POST', '/v1/reversals', {
    key,
    body: { tenant: 'acme', actor: 'bob', since: since.toISOString(), until: until.toISOString() },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as ReversalPlan;
}

const pause = () => new Promise((r) => setTimeout(r, 20));

describe('reversal', () => {
  it('restores the pre-window state of the rows bob changed, and records the plan', async () => {
    const ids = await as('alice', async (tx) => {
      const rows = await tx`insert into accounts (org_id, name, balance, settings) values
        ('acme', 'Checking', 100, '{"tier": "gold"}'), ('acme', 'Savings', 500, '{}'), ('acme', 'Petty', 5, '{}') returning id`;
      await tx`insert into documents (org_id, id, title, body) values ('acme', 1, 'Plan', 'draft')`;
      return rows.map((r) => r.id as number);
    });
    await relay.drain();
    const before = await dump();
    await pause();
    const since = new Date();
    await as('bob', (tx) => tx`update accounts set balance = 150, name = 'Main' where id = ${ids[0]!}`);
    await as('bob', (tx) => tx`update accounts set balance = 175, settings = '{"tier": "silver"}' where id = ${ids[0]!}`);
    await as('bob', (tx) => tx`insert into accounts (org_id, name, balance) values ('acme', 'New', 1)`);
    await as('bob', (tx) => tx`delete from accounts where id = ${ids[1]!}`);
    await as('bob', (tx) => tx`update documents set title = 'Final', body = ${'y'.repeat(100)} where org_id = 'acme' and id = 1`);
    await relay.drain();
    const until = new Date(Date.now() + 1);
    expect(await dump()).not.toEqual(before);

    const p = await plan(since, until);
    expect(p.summary).toEqual({ steps: 8, clean: 8, conflicts: 0 });
    expect(p.steps[0]).toMatchObject({ op: 'update', table: 'documents' });
    expect(p.sql).toContain('begin;');
    const sqlRes = await trail.request('POST', '/v1/reversals?format=sql', {
      body: { tenant: 'acme', actor: 'bob', since: since.toISOString(), until: until.toISOString() },
    });
    expect(sqlRes.headers['content-type']).toContain('application/sql');
    expect(sqlRes.body).toContain('update "public"."accounts"');

    expect(await applyPlan(appDb.sql, p)).toEqual({ applied: 8, skipped: 0 });
    expect(await dump()).toEqual(before);
    // The reverting writes are captured like any other change, and the plan was recorded.
    await relay.drain();
    const reverts = await trail.request('GET', '/v1/events?tenant=acme&actor=trailproof-revert&limit=100');
    expect((reverts.json() as { data: unknown[] }).data.length).toBeGreaterThanOrEqual(4);
    const planned = await trail.request('GET', '/v1/events?tenant=acme&action=reversal.planned');
    expect((planned.json() as { data: { metadata: unknown }[] }).data[0]!.metadata).toMatchObject({ actor: 'bob', steps: 8 });
    // Applying the same plan again is refused: its rows no longer hold what it recorded.
    await expect(applyPlan(appDb.sql, p)).rejects.toMatchObject({ code: 'REVERSAL_STALE' });
  });

  it('marks a later change by someone else as a conflict, and --skip-conflicts leaves it in place', async () => {
    const [id] = await as('alice', async (tx) =>
      (await tx`insert into accounts (org_id, name, balance) values ('acme', 'Shared', 10) returning id`).map((r) => r.id as number),
    );
    await relay.drain();
    await pause();
    const since = new Date();
    await as('bob', (tx) => tx`update accounts set balance = 20, name = 'Bobs' where id = ${id!}`);
    await as('carol', (tx) => tx`update accounts set balance = 30 where id = ${id!}`);
    await relay.drain();
    const p = await plan(since, new Date(Date.now() + 1));
    const balance = p.steps.find((s) => s.op === 'update' && s.field === 'balance')!;
    const name = p.steps.find((s) => s.op === 'update' && s.field === 'name')!;
    expect(balance).toMatchObject({ status: 'conflict', conflicts: [{ actor: { id: 'carol' }, reason: 'later_change' }] });
    expect(name.status).toBe('clean');
    expect(p.sql).toContain('-- conflict (user carol');

    await expect(applyPlan(appDb.sql, p)).rejects.toMatchObject({ code: 'REVERSAL_HAS_CONFLICTS' });
    expect(await applyPlan(appDb.sql, p, { skipConflicts: true })).toEqual({ applied: 1, skipped: 1 });
    const [row] = await appDb.sql`select name, balance from accounts where id = ${id!}`;
    expect(row).toEqual({ name: 'Shared', balance: '30' });
  });

  it('refuses a plan whose rows changed after it was made (also before the relay ran)', async () => {
    const [id] = await as('alice', async (tx) =>
      (await tx`insert into accounts (org_id, name) values ('acme', 'Moving') returning id`).map((r) => r.id as number),
    );
    await pause();
    const since = new Date();
    await as('bob', (tx) => tx`update accounts set name = 'Bob was here' where id = ${id!}`);
    await relay.drain();
    const p = await plan(since, new Date(Date.now() + 1));
    await as('dave', (tx) => tx`update accounts set name = 'Dave too' where id = ${id!}`);
    await expect(applyPlan(appDb.sql, p)).rejects.toMatchObject({ code: 'REVERSAL_STALE', details: [{ pointer: '/rows/0', code: 'changed' }] });
    const [row] = await appDb.sql`select name from accounts where id = ${id!}`;
    expect(row!.name).toBe('Dave too');
  });

  it("validates the request and never plans from another tenant's trail", async () => {
    const globexKey = await trail.createKey('read', 'globex');
    const res = await trail.request('POST', '/v1/reversals', {
      key: globexKey,
      body: { tenant: 'acme', actor: 'bob', since: '2020-01-01T00:00:00Z', until: '2030-01-01T00:00:00Z' },
    });
    expect(res.statusCode).toBe(403);
    const own = await trail.request('POST', '/v1/reversals', {
      key: globexKey,
      body: { actor: 'bob', since: '2020-01-01T00:00:00Z', until: '2030-01-01T00:00:00Z' },
    });
    expect(own.statusCode).toBe(201);
    expect((own.json() as ReversalPlan).steps).toEqual([]);
    const bad = await trail.request('POST', '/v1/reversals', { body: { tenant: 'acme', actor: 'bob', since: 'yesterday', until: '2030-01-01T00:00:00Z' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'REQUEST_INVALID', details: [{ pointer: '/since' }] } });
    const backwards = await trail.request('POST', '/v1/reversals', {
      body: { tenant: 'acme', actor: 'bob', since: '2030-01-01T00:00:00Z', until: '2020-01-01T00:00:00Z' },
    });
    expect(backwards.json()).toMatchObject({ error: { details: [{ pointer: '/until', code: 'invalid_range' }] } });
    const none = await trail.request('POST', '/v1/reversals', { key: null, body: {} });
    expect(none.statusCode).toBe(401);
  });
});
