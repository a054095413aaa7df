/**
 * Issue 18 acceptance 2: a lifecycle run (`trailproof lifecycle run`, a real process) SIGKILLed at
 * random points, then run again, loses nothing and purges nothing unarchived. Each round adds a
 * tenant with an expired batch (a purge range ends at the first unexpired leaf, and each run's own
 * records are such leaves) and kills a run of every tenant at a point drawn at random: a random
 * moment, once archiving
 * has begun (event keys written), once the segment is in the archive, once the purge record is in
 * the ledger, or once removal has begun. After every kill, each payload gone from the database is
 * covered by a purge record and lies in a recorded segment that verifies; at the end every expired
 * event is gone from the database and opens from the archive exactly as it was committed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendReceivedAgo } from '../helpers/aged-events.ts';
import { createTestApp, TEST_LEDGER_KEY, type TestApp } from '../helpers/app.ts';
import { killStartedProcesses, runCli, startCli } from '../helpers/server-process.ts';

const ROUNDS = 6;
const BATCH = 2_000;
const SECRET = 'lifecycle-sigkill-test-secret-0123456789';
const POINTS = ['moment', 'archiving', 'archived', 'recorded', 'removing'] as const;
type Point = (typeof POINTS)[number];

let t: TestApp;
let archiveDir: string;
let env: Record<string, string>;
/** Every expired event's committed body, by tenant and leaf index. */
const committed = new Map<string, Map<number, unknown>>();
const tenantOf = (round: number) => `crashy-${round}`;

beforeAll(async () => {
  archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-lifecycle-sigkill-'));
  const shared = { TRAILPROOF_ARCHIVE_URL: `file://${archiveDir}`, TRAILPROOF_SECRET_KEY: SECRET, TRAILPROOF_DEFAULT_RETENTION_DAYS: '10' };
  t = await createTestApp(shared);
  env = { ...shared, DATABASE_URL: t.db.url, TRAILPROOF_LEDGER_KEY: TEST_LEDGER_KEY, LOG_LEVEL: 'warn' };
}, 120_000);

afterAll(async () => {
  await killStartedProcesses();
  await t.close();
  fs.rmSync(archiveDir, { recursive: true, force: true });
});

describe('a lifecycle run killed with SIGKILL', () => {
  it('loses nothing and purges nothing unarchived, at any point, and the next run finishes the work', async () => {
    const outcomes: string[] = [];
    const order = [...POINTS].sort(() => Math.random() - 0.5);
    for (let round = 0; round < ROUNDS; round++) {
      const tenant = tenantOf(round);
      await t.createTenant(tenant);
      await appendExpired(tenant);
      const point = order[round] ?? POINTS[Math.floor(Math.random() * POINTS.length)]!;
      const before = await state(tenant);
      const run = startCli(['lifecycle', 'run'], env, 120_000);
      const killed = await killAt(point, tenant, before, run);
      const result = await run.done;
      outcomes.push(`${tenant} ${point}: ${killed ? 'killed' : `finished (${result.code})`}`);
      for (const done of committed.keys()) await expectNothingUnarchivedPurged(done);
    }
    // The kills hit runs mid-work, not only finished ones.
    expect(outcomes.filter((o) => o.endsWith('killed')).length, outcomes.join('\n')).toBeGreaterThanOrEqual(3);

    const last = await runCli(['lifecycle', 'run', '--json'], env, 120_000);
    expect(last.code, last.stderr).toBe(0);
    for (const tenant of committed.keys()) {
      await expectNothingUnarchivedPurged(tenant);
      const [left] = await t.db.ownerSql<{ count: number }[]>`
        select count(*)::int as count from events where tenant_id = ${tenant} and action = 'document.read'`;
      expect(left!.count, outcomes.join('\n')).toBe(0);
      await expectArchiveHoldsEverything(tenant);
    }
  }, 600_000);
});

async function appendExpired(tenant: string): Promise<void> {
  const events = Array.from({ length: BATCH }, (_, i) => ({
    action: 'document.read',
    actor: { type: 'user', id: `user-${i % 50}` },
    targets: [{ type: 'document', id: `doc-${i}` }],
    metadata: { i },
  }));
  for (let i = 0; i < events.length; i += 1_000) await appendReceivedAgo(t.db.sql, tenant, 20, events.slice(i, i + 1_000));
  const rows = await t.db.ownerSql<{ seq: number; body: unknown }[]>`select seq, body from events where tenant_id = ${tenant}`;
  expect(rows.length).toBe(BATCH);
  committed.set(tenant, new Map(rows.map((r) => [r.seq, r.body])));
}

interface State {
  keys: number;
  segments: string[];
  records: number;
  removals: number;
}

async function state(tenant: string): Promise<State> {
  const [row] = await t.db.ownerSql<{ keys: number; records: number; removals: number }[]>`
    select (select count(*)::int from archive_event_keys where tenant_id = ${tenant}) as keys,
           (select count(*)::int from events where tenant_id = ${tenant} and action = 'retention.purged') as records,
           (select count(*)::int from payload_removals where tenant_id = ${tenant}) as removals`;
  const dir = path.join(archiveDir, tenant);
  const segments = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.tpseg.jsonl.gz')) : [];
  return { ...row!, segments };
}

/** Waits for `point` (polling the database and the archive directory), then SIGKILLs the run; false when it ended first. */
async function killAt(point: Point, tenant: string, before: State, run: ReturnType<typeof startCli>): Promise<boolean> {
  let ended = false;
  void run.done.then(() => (ended = true));
  const deadline = Date.now() + (point === 'moment' ? 500 + Math.random() * 4_000 : 120_000);
  for (;;) {
    if (ended) return false;
    if (Date.now() >= deadline) break;
    if (point !== 'moment') {
      const now = await state(tenant);
      const reached =
        (point === 'archiving' && now.keys > before.keys) ||
        (point === 'archived' && now.segments.length > before.segments.length) ||
        (point === 'recorded' && now.records > before.records) ||
        (point === 'removing' && now.removals > before.removals);
      if (reached) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (ended) return false;
  run.child.kill('SIGKILL');
  return true;
}

/** Every payload gone from the database is covered by a purge record and lies in a recorded segment that verifies. */
async function expectNothingUnarchivedPurged(tenant: string): Promise<void> {
  const bodies = committed.get(tenant)!;
  const gone = await t.db.ownerSql<{ seq: number }[]>`
    select l.seq from ledger_leaves l
    where l.tenant_id = ${tenant}
      and not exists (select 1 from events e where e.tenant_id = l.tenant_id and e.occurred_at = l.occurred_at and e.seq = l.seq)
    order by l.seq`;
  const records = (
    await t.db.ownerSql<{ metadata: { range_start: number; range_end: number } }[]>`
      select body->'metadata' as metadata from events where tenant_id = ${tenant} and action = 'retention.purged' order by seq`
  ).map((r) => r.metadata);
  // The records chain: each starts where the previous ended, so no range is purged twice.
  for (const [i, r] of records.entries()) expect(r.range_start).toBe(i === 0 ? 0 : records[i - 1]!.range_end);
  const segments = await t.services.archive.list(tenant);
  for (const [i, s] of segments.entries()) if (i > 0) expect(s.from).toBeGreaterThanOrEqual(segments[i - 1]!.to);
  for (const { seq } of gone) {
    expect(bodies.has(seq), `${tenant} leaf ${seq} lost its payload but was never expired`).toBe(true);
    expect(
      records.some((r) => r.range_start <= seq && seq < r.range_end),
      `${tenant} leaf ${seq} has no purge record`,
    ).toBe(true);
    expect(
      segments.some((s) => s.from <= seq && seq < s.to),
      `${tenant} leaf ${seq} was purged unarchived`,
    ).toBe(true);
  }
  for (const segment of segments) expect(await t.services.archive.verify(segment)).toMatchObject({ ok: true, problems: [] });
}

/** Every expired event opens from the archive as it was committed. */
async function expectArchiveHoldsEverything(tenant: string): Promise<void> {
  const bodies = committed.get(tenant)!;
  let seen = 0;
  for await (const line of t.services.archive.exportRange(tenant, 0, Number.MAX_SAFE_INTEGER)) {
    const body = bodies.get(line.envelope.index);
    if (body === undefined) continue;
    expect(line.event).toEqual(body);
    seen += 1;
  }
  expect(seen).toBe(bodies.size);
}
