/**
 * A lifecycle run reports where it is while it works (tenant, phase, range, indices done), and a
 * service that stops ends its runs at the next batch or transaction, as failed; the next run
 * finishes the removal the stopped one began, and nothing expired stays.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Lifecycle, type RunProgress } from '../../src/lifecycle/lifecycle-run.ts';
import { appendReceivedAgo } from '../helpers/aged-events.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
const event = (n: number) => ({ action: 'document.read', actor: { type: 'user', id: `user-${n}` }, targets: [{ type: 'document', id: `doc-${n}` }] });

beforeAll(async () => {
  t = await createTestApp();
  for (const id of ['prog-a', 'prog-b']) {
    await t.createTenant(id);
    await appendReceivedAgo(
      t.db.sql,
      id,
      20,
      Array.from({ length: 6 }, (_, i) => event(i)),
    );
    expect((await t.request('PUT', `/v1/tenants/${id}/retention`, { body: { days: 10 } })).statusCode).toBe(200);
  }
});
afterAll(() => t.close());

/** A lifecycle of this app's database, archiving, removing one index per transaction and reporting every step. */
const lifecycle = () =>
  new Lifecycle({
    sql: t.services.sql,
    audit: t.services.audit,
    archiver: t.services.archive,
    defaultDays: 365,
    intervalMs: 0,
    initialDelayMs: 0,
    chunk: 1,
    progressEveryMs: 0,
  });

const stored = async (tenant: string) =>
  (await t.db.sql<{ n: number }[]>`select count(*)::int as n from events where tenant_id = ${tenant} and body is not null and action = 'document.read'`)[0]!.n;

it('reports the archive and the removal of each range as it goes, and records them', async () => {
  const steps: RunProgress[] = [];
  const run = await lifecycle().run('prog-a', 'cli', (at) => steps.push(at));
  expect(run.failed).toEqual([]);
  expect(run.tenants[0]).toMatchObject({ tenant: 'prog-a', removed: 6 });
  const range = run.tenants[0]!.records[0]!.range;
  expect(steps.filter((s) => s.phase === 'archive').at(-1)).toEqual({ tenant: 'prog-a', phase: 'archive', range, done: 6, tenants_done: 0, tenants_total: 1 });
  expect(steps.filter((s) => s.phase === 'removal').map((s) => s.done)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(await stored('prog-a')).toBe(0);
  const [row] = await t.db.sql`select trigger, status, progress, result is not null as has_result from lifecycle_runs where id = ${run.id}`;
  expect(row).toEqual({ trigger: 'cli', status: 'succeeded', progress: null, has_result: true });
});

it('stops at the next transaction when the service stops, and the next run finishes the removal', async () => {
  const stopping = lifecycle();
  let stopped: Promise<void> | undefined;
  const run = await stopping.run('prog-b', 'cli', (at) => {
    if (at.phase === 'removal' && at.done === 2) stopped = stopping.stop();
  });
  await stopped;
  expect(run.failed).toEqual([{ tenant: 'prog-b', error: expect.stringContaining('the service stopped') }]);
  const [row] = await t.db.sql`select status from lifecycle_runs where id = ${run.id}`;
  expect(row!.status).toBe('failed');
  // Stopped between transactions: some payloads gone, some not yet.
  const left = await stored('prog-b');
  expect(left).toBeGreaterThan(0);
  expect(left).toBeLessThan(6);

  const next = await lifecycle().run('prog-b');
  expect(next.failed).toEqual([]);
  expect(next.tenants[0]).toMatchObject({ removed: left, records: [] });
  expect(await stored('prog-b')).toBe(0);
});
