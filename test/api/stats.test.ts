/** `GET /v1/stats`: counts and distinct actors per group, from the rollups the follower keeps. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommittedFollower } from '../../src/query/committed-follower.ts';
import { rollupHandler } from '../../src/stats/rollups.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let readA: string;
let ingestA: string;
const day = (n: number, hour = 10) => new Date(Date.parse('2025-01-01T00:00:00Z') + n * 86_400_000 + hour * 3_600_000 + 17_000).toISOString();
const ev = (action: string, actor: string, at: string, extra: Record<string, unknown> = {}) => ({
  action,
  occurred_at: at,
  actor: { type: 'user', id: actor },
  targets: [],
  ...extra,
});
const doc = (id: string) => ({ targets: [{ type: 'document', id }] });
const failed = (ip: string) => ({ outcome: 'failure', context: { ip } });

async function ingest(key: string, events: unknown[]): Promise<void> {
  const res = await t.request('POST', '/v1/events', { key, body: { events } });
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`);
}

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  await t.createTenant('globex');
  readA = await t.createKey('read', 'acme');
  ingestA = await t.createKey('ingest', 'acme');
  await ingest(ingestA, [
    ev('document.read', 'alice', day(0), doc('x')),
    ev('document.read', 'alice', day(0, 11), doc('x')),
    ev('document.read', 'bob', day(0, 12), doc('x')),
    ev('document.read', 'bob', day(400), doc('x')),
    ev('document.read', 'carol', day(400), doc('y')),
    ev('document.updated', 'carol', day(700), {
      targets: [
        { type: 'document', id: 'x' },
        { type: 'document', id: 'y' },
      ],
    }),
    ev('user.login_failed', 'mallory', day(3, 1), failed('10.0.0.1')),
    ev('user.login_failed', 'mallory', day(3, 2), failed('10.0.0.2')),
    ev('user.login_failed', 'mallory', day(4, 2), failed('10.0.0.2')),
    ev('user.login_failed', 'bob', day(4, 3), failed('192.168.1.9')),
    ev('user.login', 'bob', day(4, 4), { context: { ip: '192.168.1.9' } }),
  ]);
  await ingest(await t.createKey('ingest', 'globex'), [
    ev('document.read', 'eve', day(0), doc('x')),
    ev('user.login_failed', 'eve', day(3), failed('10.0.0.1')),
  ]);
});
afterAll(() => t.close());

const stats = async (query: string, key = readA) => {
  const res = await t.request('GET', `/v1/stats?${query}`, { key });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};
/** The same question forced onto the events table: a since inside an hour, before every event. */
const fromEvents = (query: string) => stats(`${query}&since=2000-01-01T00:00:01Z`);

describe('GET /v1/stats', () => {
  it('answers who accessed a target by day, with distinct actors, from the events after the cursor before any pass', async () => {
    const res = await stats('group_by=day&target_type=document&target_id=x');
    expect(res.source).toBe('rollups');
    expect(res.groups).toEqual([
      { key: '2025-01-01', events: 3, actors: 2 },
      { key: '2026-02-05', events: 1, actors: 1 },
      { key: '2026-12-02', events: 1, actors: 1 },
    ]);
    expect(res.total).toEqual({ events: 5, actors: 3 });
  });

  it('answers the same from the rollups once the follower has passed, and agrees with the events table', async () => {
    await t.services.rollups.catchUp();
    const [rolled] = await t.db.sql<{ count: number }[]>`select count(*)::int as count from stat_target_rollups where tenant_id = 'acme'`;
    expect(rolled!.count).toBeGreaterThan(0);
    for (const q of [
      'group_by=day&target_type=document&target_id=x',
      'group_by=actor&action=user.login_failed&outcome=failure',
      'group_by=ip&action=user.*',
      'group_by=target&action=document.*',
      'group_by=hour&actor=mallory',
      'group_by=action&action=user.*',
      'group_by=action&outcome=failure',
    ]) {
      const rolled = await stats(`${q}&until=2027-01-01T00:00:00Z`);
      const events = await fromEvents(`${q}&until=2027-01-01T00:00:00Z`);
      expect(rolled.source, q).toBe('rollups');
      expect(events.source, q).toBe('events');
      expect(rolled.groups, q).toEqual(events.groups);
      expect(rolled.total, q).toEqual(events.total);
    }
  });

  it('answers top actors by failed logins this week in one call', async () => {
    const res = await stats(`group_by=actor&action=user.login_failed&since=${day(2, 0).slice(0, 13)}:00:00Z&until=${day(9, 0).slice(0, 13)}:00:00Z`);
    expect(res.groups).toEqual([
      { key: 'mallory', events: 3, actors: 1 },
      { key: 'bob', events: 1, actors: 1 },
    ]);
    expect((await stats('group_by=actor&action=user.login_failed&limit=1')).groups).toHaveLength(1);
  });

  it('counts every event exactly once: events after the cursor are added once, followers racing apply each range once', async () => {
    await ingest(ingestA, [ev('document.read', 'dave', day(700, 3), doc('x')), ev('document.read', 'dave', day(700, 4), doc('x'))]);
    const before = await stats('group_by=day&target_type=document&target_id=x');
    expect(before.total).toEqual({ events: 7, actors: 4 });
    const racers = [0, 1, 2].map(() => new CommittedFollower({ sql: t.db.sql, handler: rollupHandler, batchSize: 1 }));
    await Promise.all(racers.map((r) => r.catchUp()));
    await t.services.rollups.catchUp();
    const [cursor] = await t.db.sql<{ next_seq: number }[]>`select next_seq from follower_cursors where follower = 'rollups' and tenant_id = 'acme'`;
    const [head] = await t.db.sql<{ size: number }[]>`select size from ledger_heads where tenant_id = 'acme'`;
    expect(cursor!.next_seq).toBe(head!.size);
    expect(await stats('group_by=day&target_type=document&target_id=x')).toEqual(before);
  });

  it('a follower woken by commits starts a pass at most once per minIntervalMs, and applies the last commit without a poll', async () => {
    const minIntervalMs = 1500;
    const ranges: { tenant: string; at: number }[] = [];
    const follower = new CommittedFollower({
      sql: t.db.sql,
      handler: { name: 'paced-test', apply: async (_tx, tenant) => void ranges.push({ tenant, at: performance.now() }) },
      committer: t.services.committer,
      minIntervalMs,
      pollMs: 600_000,
    });
    const cursor = async () =>
      (await t.db.sql<{ next_seq: number }[]>`select next_seq from follower_cursors where follower = 'paced-test' and tenant_id = 'acme'`)[0]?.next_seq;
    const head = async () => (await t.db.sql<{ size: number }[]>`select size from ledger_heads where tenant_id = 'acme'`)[0]!.size;
    try {
      await follower.catchUp();
      ranges.length = 0;
      follower.start();
      const started = performance.now();
      for (let i = 0; i < 5; i++) await ingest(ingestA, [ev('document.read', 'frank', day(701, i), doc('paced'))]);
      const size = await head();
      while ((await cursor()) !== size) {
        expect(performance.now() - started, 'the commits were applied').toBeLessThan(4 * minIntervalMs + 5000);
        await new Promise((r) => setTimeout(r, 50));
      }
      // start() ran a pass that found nothing new: the commits wait for the next. A range is applied a
      // little after its pass starts, so the gaps are near minIntervalMs, never a commit's.
      const passes = [started, ...ranges.filter((r) => r.tenant === 'acme').map((r) => r.at)];
      expect(passes.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < passes.length; i++) expect(passes[i]! - passes[i - 1]!).toBeGreaterThan(minIntervalMs / 2);
    } finally {
      await follower.stop();
    }
  });

  it('a follower stopped while a wake-up is held back applies new commits once started again', async () => {
    const follower = new CommittedFollower({
      sql: t.db.sql,
      handler: { name: 'restarted-test', apply: async () => {} },
      committer: t.services.committer,
      minIntervalMs: 1000,
      pollMs: 600_000,
    });
    const cursor = async () =>
      (await t.db.sql<{ next_seq: number }[]>`select next_seq from follower_cursors where follower = 'restarted-test' and tenant_id = 'acme'`)[0]?.next_seq;
    const head = async () => (await t.db.sql<{ size: number }[]>`select size from ledger_heads where tenant_id = 'acme'`)[0]!.size;
    try {
      await follower.catchUp();
      follower.start();
      // A commit right after the start's pass is held back for minIntervalMs; stop and start meanwhile.
      await ingest(ingestA, [ev('document.read', 'frank', day(702, 0), doc('restarted'))]);
      await follower.stop();
      follower.start();
      await ingest(ingestA, [ev('document.read', 'frank', day(702, 1), doc('restarted'))]);
      const size = await head();
      const started = performance.now();
      while ((await cursor()) !== size) {
        expect(performance.now() - started, 'the commits were applied').toBeLessThan(5000);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await follower.stop();
    }
  });

  it('adds an actor of the events after the cursor to a day once, whether or not the rollups hold it for that day', async () => {
    await t.services.rollups.catchUp();
    const q = 'group_by=day&target_type=document&target_id=x&since=2026-12-01T00:00:00Z&until=2027-01-01T00:00:00Z';
    const before = await stats(q);
    // carol is in the day's rollups already, erin is new to the target.
    await ingest(ingestA, [ev('document.read', 'carol', day(700, 5), doc('x')), ev('document.read', 'erin', day(700, 6), doc('x'))]);
    const live = await stats(q);
    expect(live.groups).toEqual([{ key: '2026-12-02', events: before.groups[0].events + 2, actors: before.groups[0].actors + 1 }]);
    expect(live.total).toEqual({ events: before.total.events + 2, actors: before.total.actors + 1 });
    const events = await stats(q.replace('since=2026-12-01T00:00:00Z', 'since=2026-12-01T00:00:01Z'));
    expect(events.source).toBe('events');
    expect(live.groups).toEqual(events.groups);
    await t.services.rollups.catchUp();
    expect(await stats(q)).toEqual(live);
  });

  it('reads filters the rollups do not keep from the events table', async () => {
    for (const q of [
      'group_by=actor&kind=activity',
      'group_by=day&target_type=document&target_id=x&has_changes=true',
      'group_by=action&exclude_action=user.*',
    ]) {
      const res = await stats(q);
      expect(res.source, q).toBe('events');
    }
    const changed = await stats('group_by=day&target_type=document&target_id=x&has_changes=true');
    expect(changed.total.events).toBe(0);
  });

  it('keeps each tenant to its own counts', async () => {
    expect((await t.request('GET', '/v1/stats?group_by=actor&tenant=globex', { key: readA })).statusCode).toBe(403);
    const globex = await stats('group_by=actor&tenant=globex&action=user.*', t.adminKey);
    expect(globex.groups).toEqual([{ key: 'eve', events: 1, actors: 1 }]);
    const acme = await stats('group_by=actor&action=user.login_failed');
    expect(acme.groups.map((g: { key: string }) => g.key)).not.toContain('eve');
    const readB = await t.createKey('read', 'globex');
    const asB = await stats('group_by=target&action=document.*', readB);
    expect(asB.groups).toEqual([{ key: 'document:x', target_type: 'document', target_id: 'x', events: 1, actors: 1 }]);
  });

  it('records the read in the tenant trail', async () => {
    const before = await stats('group_by=actor&action=audit_log.viewed');
    await stats('group_by=day');
    const after = await stats('group_by=actor&action=audit_log.viewed');
    expect(after.total.events).toBe(before.total.events + 2);
  });

  it('refuses a missing or unknown grouping, paging parameters and bad filters, pointing at each', async () => {
    const bad = async (query: string, pointer: string) => {
      const res = await t.request('GET', `/v1/stats?${query}`, { key: readA });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe('QUERY_INVALID');
      expect(res.json().error.details.map((d: { pointer: string }) => d.pointer)).toContain(pointer);
    };
    await bad('action=user.login', '/group_by');
    await bad('group_by=week', '/group_by');
    await bad('group_by=actor&sort=asc', '/sort');
    await bad('group_by=actor&cursor=x', '/cursor');
    await bad('group_by=actor&limit=1001', '/limit');
    await bad('group_by=actor&since=yesterday', '/since');
    await bad('group_by=actor&colour=red', '/colour');
    expect((await t.request('GET', '/v1/stats?group_by=actor', { key: null })).statusCode).toBe(401);
  });
});

describe('GET /v1/stats from the rollups and the events after their cursor', () => {
  const tenant = 'initech';
  let read: string;
  let write: string;
  /** Applies the rollups of the tenant's events up to ledger position `to`, as one follower pass would. */
  const rollUpTo = async (to: number) => {
    await t.db.sql`insert into follower_cursors (follower, tenant_id) values (${rollupHandler.name}, ${tenant}) on conflict do nothing`;
    await t.db.sql.begin(async (tx) => {
      const [c] = await tx<
        { next_seq: number }[]
      >`select next_seq from follower_cursors where follower = ${rollupHandler.name} and tenant_id = ${tenant} for update`;
      await rollupHandler.apply(tx, tenant, c!.next_seq, to);
      await tx`update follower_cursors set next_seq = ${to} where follower = ${rollupHandler.name} and tenant_id = ${tenant}`;
    });
  };
  const size = async () => (await t.db.sql<{ size: number }[]>`select size from ledger_heads where tenant_id = ${tenant}`)[0]!.size;
  /** Events over five months (several partitions), some naming two targets or one target twice, at microsecond instants. */
  const history = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => {
      const k = (i * 7919 + seed * 104_729) % 9973;
      const at = new Date(Date.parse('2025-01-01T00:00:00Z') + (k % 150) * 86_400_000 + (k % 24) * 3_600_000 + (k % 3600) * 1000);
      const targets = [
        { type: 'document', id: `d${k % 3}` },
        ...(k % 5 === 0 ? [{ type: 'document', id: `d${(k + 1) % 3}` }] : []),
        ...(k % 11 === 0 ? [{ type: 'document', id: `d${k % 3}` }] : []),
      ];
      return ev(
        ['document.read', 'document.updated', 'user.login_failed'][k % 3]!,
        `u${k % 7}`,
        `${at.toISOString().slice(0, 19)}.${String(k * 37)
          .padStart(6, '0')
          .slice(0, 6)}Z`,
        {
          targets,
          outcome: k % 4 === 0 ? 'failure' : 'success',
          context: { ip: `10.0.${k % 2}.${k % 5}` },
        },
      );
    });
  const window = (since: string) => `since=${since}&until=2025-07-01T00:00:00Z`;
  const questions = [
    'group_by=day&target_type=document&target_id=d1',
    'group_by=day&target_type=document&target_id=d0',
    'group_by=hour&target_type=document&target_id=d2',
    'group_by=target&action=document.*',
    'group_by=actor&target_type=document',
    'group_by=actor&action=user.login_failed&outcome=failure',
    'group_by=ip&action=user.*',
    'group_by=action',
    'group_by=day',
  ];
  /** Every question answered from the rollups (and the tail after their cursor) equals the plain recount from the events table. */
  const agrees = async () => {
    for (const q of questions) {
      const rolled = await stats(`${q}&${window('2024-12-31T00:00:00Z')}`, read);
      const recount = await stats(`${q}&${window('2024-12-31T00:00:01Z')}`, read);
      expect(rolled.source, q).toBe('rollups');
      expect(recount.source, q).toBe('events');
      expect(rolled.groups, q).toEqual(recount.groups);
      expect(rolled.total, q).toEqual(recount.total);
      expect(rolled.total.events, q).toBeGreaterThan(0);
    }
  };

  beforeAll(async () => {
    await t.createTenant(tenant);
    read = await t.createKey('read', tenant);
    write = await t.createKey('ingest', tenant);
    await ingest(write, history(200, 1));
  });

  it('agrees with a recount while the follower has not started: everything is tail', async () => {
    await agrees();
  });

  it('agrees with a recount while the follower lags halfway, with a late event dated months back in the tail', async () => {
    await rollUpTo(Math.floor((await size()) / 2));
    await ingest(write, [...history(40, 2), ev('document.read', 'u9', '2025-01-02T03:04:05.123456Z', doc('d1'))]);
    await agrees();
  });

  it('agrees with a recount once the follower has caught up, and again with a new tail after it', async () => {
    await rollUpTo(await size());
    await agrees();
    await ingest(write, history(30, 3));
    await agrees();
  });
});

describe('the rollup follower', () => {
  it('applies nothing of a range whose transaction fails, and applies it once on the next pass', async () => {
    await ingest(ingestA, [ev('document.read', 'zoe', day(701), doc('z'))]);
    const failing = new CommittedFollower({
      sql: t.db.sql,
      handler: {
        name: rollupHandler.name,
        async apply(tx, tenant, from, to) {
          await rollupHandler.apply(tx, tenant, from, to);
          throw new Error('crash after writing the rollups');
        },
      },
    });
    await expect(failing.catchUp()).rejects.toThrow('crash after writing');
    const rolled = () =>
      t.db.sql<{ n: number }[]>`select coalesce(sum(events), 0)::int as n from stat_target_rollups where tenant_id = 'acme' and target_id = 'z'`;
    expect((await rolled())[0]!.n).toBe(0);
    await t.services.rollups.catchUp();
    expect((await rolled())[0]!.n).toBe(1);
  });
});
