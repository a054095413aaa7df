/**
 * Alert rules and aggregates benchmark: a real server in its own process, load over HTTP on loopback.
 *   npx tsx bench/alerts.ts [--seconds 10] [--rounds 3] [--events 10000000] [--only ingest|stats]
 *     [--data-dir DIR --tenant demo-1]
 * 1. ingest: batch ingest (8 clients × 1,000-event batches) into a tenant with 20 active alert rules
 *    and into one with none, in alternating phases of one run so both see the same machine; after
 *    each phase, how long the alert follower takes to catch up (a sentinel rule's firing appears).
 * 2. stats: a tenant of `--events` demo events over two years, then `GET /v1/stats` p95 for
 *    "distinct actors per day on one target over two years". With `--data-dir` and `--tenant`, the
 *    server runs on that data dir and asks of that tenant instead (filled before by
 *    `trailproof demo --events N --tenants 1`, which appends through the ledger's batch append).
 *    Prints p50/p95 with the tenant's events and the data set's size on disk.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Pool } from 'undici';
import { demoEvents } from '../src/demo/generator.ts';
import { api, percentiles, round, startServer, writeResult } from './lib.ts';

const arg = (name: string) => (process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1] : undefined);
const seconds = Number(arg('seconds')) || 10;
const rounds = Number(arg('rounds')) || 3;
const historyEvents = Number(arg('events')) || 10_000_000;
const dataDir = arg('data-dir');
const filled = arg('tenant');
const only = dataDir ? 'stats' : arg('only');

const HOUR = 3600;
/** Twenty rules over the demo data's actions: every kind, every grouping. */
const RULES: Record<string, unknown>[] = [
  ...['actor', 'ip', 'none'].map((g) => ({
    kind: 'threshold',
    filter: { action: 'user.login_failed' },
    params: { count: 10, window_seconds: HOUR, group_by: g },
  })),
  ...['actor', 'target'].map((g) => ({ kind: 'threshold', filter: { action: 'document.*' }, params: { count: 50, window_seconds: HOUR, group_by: g } })),
  { kind: 'threshold', filter: { action: 'document.exported' }, params: { count: 100, window_seconds: HOUR, group_by: 'actor' } },
  { kind: 'threshold', filter: { action: 'member.role_changed' }, params: { count: 1, window_seconds: 60, group_by: 'actor' } },
  { kind: 'threshold', filter: { outcome: 'failure' }, params: { count: 20, window_seconds: 600, group_by: 'action' } },
  { kind: 'threshold', filter: { action: 'api.called', ip: '10.0.0.0/8' }, params: { count: 500, window_seconds: HOUR, group_by: 'ip' } },
  { kind: 'threshold', filter: { target_type: 'document', target_id: 'doc_payroll-2026' }, params: { count: 5, window_seconds: HOUR, group_by: 'actor' } },
  { kind: 'threshold', filter: { action: 'user.*,member.*' }, params: { count: 100, window_seconds: 86_400, group_by: 'actor' } },
  { kind: 'threshold', filter: {}, params: { count: 100_000, window_seconds: HOUR, group_by: 'none' } },
  ...['ip', 'user_agent', 'location', 'actor'].map((field) => ({ kind: 'first_seen', filter: { action: 'user.login' }, params: { field } })),
  ...['user.login', 'document.read', 'api.called', 'member.role_changed'].map((action) => ({
    kind: 'absence',
    filter: { action },
    params: { period_seconds: 86_400 },
  })),
];
const SENTINEL = 'bench.sentinel';

const server = await startServer({ env: { TRAILPROOF_ALERT_POLL_MS: '100' }, ...(dataDir ? { dataDir } : {}) });
const pool = new Pool(server.url, { connections: 16, pipelining: 1 });
try {
  const admin = (method: string, route: string, body?: unknown) => api(server, server.adminKey, method, route, body);
  const tenant = async (id: string) => {
    await admin('POST', '/v1/tenants', { id });
    return (await admin('POST', '/v1/keys', { name: id, scope: 'ingest', tenant: id })).secret as string;
  };
  const now = Date.now();
  const bodies = [...demoEvents(5000, { from: new Date(now - 86_400_000), to: new Date(now) })];
  const payloads = Array.from({ length: 5 }, (_, i) => JSON.stringify({ events: bodies.slice(i * 1000, (i + 1) * 1000) }));

  let ingestResult: unknown = null;
  if (only !== 'stats') {
    const quietKey = await tenant('quiet');
    const ruledKey = await tenant('ruled');
    for (const [i, rule] of RULES.entries()) await admin('POST', '/v1/alert-rules', { tenant: 'ruled', name: `rule ${i}`, ...rule });
    const sentinel = await admin('POST', '/v1/alert-rules', {
      tenant: 'ruled',
      name: 'sentinel',
      kind: 'threshold',
      filter: { action: SENTINEL },
      params: { count: 1, window_seconds: 60, group_by: 'actor' },
    });
    const totals = { quiet: { events: 0, seconds: 0 }, ruled: { events: 0, seconds: 0 } };
    const catchUpMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const which of ['quiet', 'ruled'] as const) {
        const phase = await load(which === 'quiet' ? quietKey : ruledKey, 8, seconds, (i) => payloads[i % payloads.length]!);
        totals[which].events += phase.requests * 1000;
        totals[which].seconds += phase.seconds;
        process.stdout.write(`round ${r + 1} ${which}: ${round((phase.requests * 1000) / phase.seconds, 0)} events/s\n`);
        if (which === 'ruled') catchUpMs.push(await caughtUp(ruledKey, sentinel.id, `round-${r}`));
      }
    }
    const quiet = round(totals.quiet.events / totals.quiet.seconds, 0);
    const ruled = round(totals.ruled.events / totals.ruled.seconds, 0);
    const lower = round((1 - ruled / quiet) * 100, 1);
    process.stdout.write(
      `ingest with ${RULES.length} rules: ${ruled} events/s; with none: ${quiet} events/s (${lower} % lower); alert follower caught up ${catchUpMs.map((m) => round(m / 1000, 1)).join(', ')} s after each phase\n`,
    );
    ingestResult = {
      rules: RULES.length,
      eventsPerSecond: { none: quiet, rules: ruled },
      percentLower: lower,
      catchUpSeconds: catchUpMs.map((m) => round(m / 1000, 1)),
      seconds,
      rounds,
    };
  }

  let statsResult: unknown = null;
  if (only !== 'ingest') {
    const history = filled ?? 'history';
    const key = filled ? '' : await tenant(history);
    const t0 = Date.now();
    const gen = demoEvents(historyEvents, { from: new Date(now - 2 * 365 * 86_400_000), to: new Date(now), seed: 7 });
    let sent = filled ? Number((await api(server, server.adminKey, 'GET', `/v1/ledger/status?tenant=${history}`)).size) : 0;
    const next = () => {
      const batch: unknown[] = [];
      for (let i = 0; i < 1000; i++) {
        const e = gen.next();
        if (e.done) break;
        batch.push(e.value);
      }
      return batch;
    };
    await Promise.all(
      Array.from({ length: filled ? 0 : 8 }, async () => {
        for (let batch = next(); batch.length > 0; batch = next()) {
          await post(key, JSON.stringify({ events: batch }));
          sent += batch.length;
        }
      }),
    );
    if (!filled) process.stdout.write(`filled ${sent} events in ${round((Date.now() - t0) / 1000, 0)} s\n`);
    const readKey = (await admin('POST', '/v1/keys', { name: 'history read', scope: 'read', tenant: history })).secret as string;
    // Two years to the coming UTC midnight: whole days, as a dashboard asks it.
    const until = Math.ceil(Date.now() / 86_400_000) * 86_400_000;
    const window = `since=${new Date(until - 730 * 86_400_000).toISOString()}&until=${new Date(until).toISOString()}`;
    const question = `/v1/stats?group_by=day&target_type=document&target_id=doc_payroll-2026&${window}`;
    // The rollups follower trails ingest: wait until the answer's cost settles (a warm, caught-up rollup).
    const time = async () => {
      const t = performance.now();
      await api(server, readKey, 'GET', question);
      return performance.now() - t;
    };
    for (let last = Infinity, settled = 0, tries = 0; settled < 3; tries++) {
      await new Promise((r) => setTimeout(r, 1000));
      const ms = await time();
      settled = ms < last * 1.2 && ms < 200 ? settled + 1 : 0;
      last = ms;
      if (tries % 10 === 9) process.stdout.write(`waiting for the answer to settle (the rollups to catch up): last ${round(ms, 0)} ms\n`);
    }
    const samples: number[] = [];
    for (let i = 0; i < 200; i++) samples.push(await time());
    const latency = percentiles(samples);
    const answer = await api(server, readKey, 'GET', question);
    const bytes = await diskUsage(server.dataDir);
    process.stdout.write(
      `stats "distinct actors per day on one target over two years" (${sent} events, ${round(bytes / 2 ** 30, 2)} GiB data dir, ${answer.groups.length} days, ${answer.total.events} events on the target): p50 ${latency.p50} ms p95 ${latency.p95} ms\n`,
    );
    statsResult = { events: sent, dataDirBytes: bytes, days: answer.groups.length, targetEvents: answer.total.events, latencyMs: latency };
  }
  await writeResult('alerts', { ingest: ingestResult, stats: statsResult });
} finally {
  await pool.close();
  await server.stop();
}

/** Bytes of the files under `dir` (the data set's size on disk). */
async function diskUsage(dir: string): Promise<number> {
  let bytes = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += (await fs.stat(path.join(entry.parentPath, entry.name)).catch(() => ({ size: 0 }))).size;
  }
  return bytes;
}

async function post(key: string, body: string): Promise<number> {
  const res = await pool.request({
    path: '/v1/events',
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  });
  await res.body.text();
  return res.statusCode;
}

async function load(key: string, clients: number, duration: number, payload: (i: number) => string) {
  let requests = 0;
  let n = 0;
  const started = performance.now();
  const deadline = started + duration * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) if ((await post(key, payload(n++))) < 300) requests++;
    }),
  );
  return { requests, seconds: (performance.now() - started) / 1000 };
}

/** Ms from a sentinel event's commit until its rule's firing is visible: the follower has applied everything before it. */
async function caughtUp(key: string, rule: string, actor: string): Promise<number> {
  const t0 = performance.now();
  await post(key, JSON.stringify({ action: SENTINEL, actor: { type: 'system', id: actor } }));
  for (;;) {
    const firings = (await api(server, server.adminKey, 'GET', `/v1/alert-rules/${rule}/firings?limit=10`)).data as { group: string }[];
    if (firings.some((f) => f.group === actor)) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
  }
}
