/**
 * GET /metrics: only an admin key bound to no tenant reads it, and each metric moves when what it
 * measures happens (events committed, exports written, a stream falling behind and catching up,
 * checkpoints, the pool in use, a self-audit finding a tampered ledger). Also the metrics port of
 * a real `trailproof serve`: metrics without a key there, and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { listenForMetrics } from '../../src/http/metrics-routes.ts';
import { startHttpReceiver, type HttpReceiver } from '../../src/stream/testing/http-receiver.ts';
import { runSelfAudit } from '../../src/tlog/self-audit.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { freePort, killStartedProcesses, randomAdminKey, request, startServerProcess } from '../helpers/server-process.ts';

let t: TestApp;
let receiver: HttpReceiver;

beforeAll(async () => {
  t = await createTestApp({ TRAILPROOF_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789', TRAILPROOF_DB_POOL: '7' });
  await t.createTenant('ma');
  await t.createTenant('mb');
  receiver = await startHttpReceiver();
});

afterAll(async () => {
  await t.services.streamWorker.stop();
  await receiver.close();
  await t.close();
  await killStartedProcesses();
});

/** The exposition text, read as an admin. */
async function scrape(): Promise<string> {
  const res = await t.request('GET', '/metrics');
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.body;
}

/** The value of one series (`name{labels}`), or undefined when it is not reported. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = match[2] ? match[2].split(',') : [];
    if (wanted.every((w) => have.includes(w)) && have.length === wanted.length) return Number(match[3]);
  }
  return undefined;
}

async function ingest(tenant: string, count: number, ids?: string[]): Promise<void> {
  const occurred_at = '2026-01-01T00:00:00Z'; // fixed, so an id sent again is the same event
  const events = Array.from({ length: count }, (_, i) => ({
    tenant,
    action: 'doc.read',
    actor: { type: 'user', id: `u${i}` },
    occurred_at,
    ...(ids ? { id: ids[i] } : {}),
  }));
  const res = await t.request('POST', '/v1/events', { body: { events } });
  expect(res.statusCode, res.body).toBe(200);
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('GET /metrics: access', () => {
  it('needs an admin key bound to no tenant', async () => {
    expect((await t.request('GET', '/metrics', { key: null })).statusCode).toBe(401);
    expect((await t.request('GET', '/metrics', { key: 'tpk_not_a_real_key_at_all_0123456789' })).statusCode).toBe(401);
    const keys = { read: await t.createKey('read'), ingest: await t.createKey('ingest'), 'admin of one tenant': await t.createKey('admin', 'ma') };
    for (const [which, key] of Object.entries(keys)) {
      const res = await t.request('GET', '/metrics', { key });
      expect(res.statusCode, which).toBe(403);
      expect(res.json().error.code).toBe('AUTH_FORBIDDEN');
      expect(res.body).not.toContain('trailproof_');
    }
    expect(await scrape()).toContain('# TYPE trailproof_events_ingested_total counter');
  });

  it("reports Node's own metrics", async () => {
    const text = await scrape();
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });
});

describe('GET /metrics: what moves them', () => {
  it('counts committed events by result, commit latency and batch sizes', async () => {
    const before = await scrape();
    await ingest('ma', 5, ['a1', 'a2', 'a3', 'a4', 'a5']);
    await ingest('ma', 2, ['a1', 'a2']); // the same ids again: duplicates
    const after = await scrape();
    const grew = (name: string, labels: Record<string, string> = {}) => (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
    expect(grew('trailproof_events_ingested_total', { result: 'created' })).toBeGreaterThanOrEqual(5);
    expect(grew('trailproof_events_ingested_total', { result: 'duplicate' })).toBe(2);
    expect(grew('trailproof_group_commit_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(grew('trailproof_group_commit_transaction_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(grew('trailproof_group_commit_batch_events_sum')).toBeGreaterThanOrEqual(7);
    expect(grew('trailproof_group_commit_batch_events_bucket', { le: '4' })).toBeGreaterThanOrEqual(1); // the batch of 2
    expect(sample(after, 'trailproof_group_commit_queue_requests')).toBe(0);
    expect(sample(after, 'trailproof_group_commit_in_flight')).toBe(0);
  });

  it('counts the rows each export format writes', async () => {
    const before = sample(await scrape(), 'trailproof_export_rows_total', { format: 'csv' }) ?? 0;
    const res = await t.request('GET', '/v1/exports?tenant=ma&format=csv&action=doc.read');
    expect(res.statusCode).toBe(200);
    expect(sample(await scrape(), 'trailproof_export_rows_total', { format: 'csv' })).toBe(before + 5);
    const bundle = await t.request('GET', '/v1/exports?tenant=mb&format=bundle');
    expect(bundle.statusCode).toBe(200);
    const leaves = bundle.body.split('\n').filter((line) => line.startsWith('{"type":"leaf"')).length;
    expect(leaves).toBeGreaterThan(0);
    expect(sample(await scrape(), 'trailproof_export_rows_total', { format: 'bundle' })).toBe(leaves);
  });

  it("shows each tenant's checkpoint age and the leaves no checkpoint covers yet", async () => {
    await ingest('mb', 3);
    await t.services.checkpointer.issue('mb');
    let text = await scrape();
    expect(sample(text, 'trailproof_checkpoint_unsigned_leaves', { tenant: 'mb' })).toBe(0);
    const age = sample(text, 'trailproof_checkpoint_age_seconds', { tenant: 'mb' })!;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
    await ingest('mb', 4);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    text = await scrape();
    expect(sample(text, 'trailproof_checkpoint_unsigned_leaves', { tenant: 'mb' })).toBe(4);
    expect(sample(text, 'trailproof_checkpoint_age_seconds', { tenant: 'mb' })).toBeGreaterThan(1);
  });

  it('shows a stream falling behind, paused, and catching up; counts its deliveries', async () => {
    receiver.mode = 'fail';
    const created = await t.request('POST', '/v1/streams', {
      body: { tenant: 'ma', name: 'metrics hook', kind: 'webhook', config: { url: `${receiver.url}/hook` }, secret: 'whsec_metrics_0123456789abcdef' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const stream = created.json().id as string;
    const labels = { stream, tenant: 'ma' };
    await ingest('ma', 3);
    let text = await scrape();
    expect(sample(text, 'trailproof_stream_lag_events', labels)).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'trailproof_stream_lag_seconds', labels)).toBeGreaterThan(0);
    expect(sample(text, 'trailproof_stream_paused', labels)).toBe(0);

    const paused = await t.request('PATCH', `/v1/streams/${stream}`, { body: { status: 'paused' } });
    expect(paused.statusCode, paused.body).toBe(200);
    expect(sample(await scrape(), 'trailproof_stream_paused', labels)).toBe(1);
    await t.request('PATCH', `/v1/streams/${stream}`, { body: { status: 'active' } });

    // The receiver refuses: the worker retries, and each failure is counted.
    t.services.streamWorker.start();
    await eventually(
      async () => (sample(await scrape(), 'trailproof_stream_deliveries_total', { kind: 'webhook', result: 'failed' }) ?? 0) >= 1,
      'a failed delivery',
    );
    receiver.mode = 'ok';
    await t.request('POST', `/v1/streams/${stream}/resume`);
    await eventually(async () => sample(await scrape(), 'trailproof_stream_lag_events', labels) === 0, 'the stream to catch up');
    text = await scrape();
    expect(sample(text, 'trailproof_stream_lag_seconds', labels)).toBe(0);
    expect(sample(text, 'trailproof_stream_deliveries_total', { kind: 'webhook', result: 'delivered' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'trailproof_stream_delivered_events_total', { kind: 'webhook' })).toBeGreaterThanOrEqual(3);
    await t.services.streamWorker.stop(); // its queries would count as busy in the pool's test
  }, 60_000);

  it("shows the pool's size and the connections busy in a statement or a transaction", async () => {
    let text = await scrape();
    expect(sample(text, 'trailproof_db_pool_max')).toBe(7);
    expect(sample(text, 'trailproof_db_pool_connections', { state: 'busy' })).toBe(0);
    const sleeping = Promise.all([t.services.sql`select pg_sleep(1.5)`, t.services.sql.begin(async (tx) => tx`select pg_sleep(1.5)`)]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    text = await scrape();
    expect(sample(text, 'trailproof_db_pool_connections', { state: 'busy' })).toBe(2);
    await sleeping;
    text = await scrape();
    expect(sample(text, 'trailproof_db_pool_connections', { state: 'busy' })).toBe(0);
    expect(sample(text, 'trailproof_db_pool_connections', { state: 'idle' })).toBeGreaterThanOrEqual(2);
  });

  it('shows when the newest self-audit ran and how many tenants failed it', async () => {
    // Every tree signed (the checkpointer's loop does not run here), so the first audit passes.
    for (const { tenant_id } of await t.services.sql<{ tenant_id: string }[]>`select tenant_id from ledger_heads`)
      await t.services.checkpointer.issue(tenant_id);
    let run = await runSelfAudit(t.services.sql, t.services.ledgerKeys);
    expect(run.ok, JSON.stringify(run.tenants)).toBe(true);
    let text = await scrape();
    expect(sample(text, 'trailproof_self_audit_failed_tenants')).toBe(0);
    expect(sample(text, 'trailproof_self_audit_last_run_timestamp_seconds')).toBeCloseTo(Date.parse(run.finished_at) / 1000, 0);

    // Tamper with one stored event, as the database owner with the append-only triggers off.
    await t.db.ownerSql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update events set body = jsonb_set(body, '{actor,id}', '"mallory"') where tenant_id = 'mb' and seq = 0`;
    });
    run = await runSelfAudit(t.services.sql, t.services.ledgerKeys);
    expect(run.ok).toBe(false);
    text = await scrape();
    expect(sample(text, 'trailproof_self_audit_failed_tenants')).toBe(1);
  });
});

describe('the metrics port', () => {
  it('is configured by TRAILPROOF_METRICS_PORT and _HOST; mistakes name the variable', () => {
    expect(loadConfig({}).metrics).toEqual({ port: undefined, host: '127.0.0.1', seriesLimit: 1000 });
    expect(loadConfig({ HOST: '0.0.0.0', TRAILPROOF_METRICS_PORT: '9464' }).metrics).toMatchObject({ port: 9464, host: '0.0.0.0' });
    expect(loadConfig({ TRAILPROOF_METRICS_PORT: '9464', TRAILPROOF_METRICS_HOST: '10.0.0.5' }).metrics.host).toBe('10.0.0.5');
    expect(() => loadConfig({ TRAILPROOF_METRICS_PORT: 'nine' })).toThrow(/TRAILPROOF_METRICS_PORT must be a whole number/);
    expect(() => loadConfig({ PORT: '3700', TRAILPROOF_METRICS_PORT: '3700' })).toThrow(/TRAILPROOF_METRICS_PORT must differ/);
    expect(() => loadConfig({ TRAILPROOF_METRICS_SERIES_LIMIT: '0' })).toThrow(/TRAILPROOF_METRICS_SERIES_LIMIT must be between 1/);
  });

  it('serves GET /metrics with no key, and nothing else', async () => {
    const listener = await listenForMetrics(t.services.metrics.registry, { port: 0, host: '127.0.0.1' });
    try {
      const res = await fetch(listener.url);
      expect(res.status).toBe(200);
      expect(sample(await res.text(), 'trailproof_db_pool_max')).toBe(7);
      expect((await fetch(listener.url.replace('/metrics', '/v1/events'))).status).toBe(404);
      expect((await fetch(listener.url, { method: 'POST' })).status).toBe(404);
    } finally {
      await listener.close();
    }
  });

  it('is opened by `trailproof serve` with TRAILPROOF_METRICS_PORT; the API port still asks for a key', async () => {
    const db = await createTestDatabase();
    try {
      const metricsPort = await freePort();
      const adminKey = randomAdminKey();
      const server = await startServerProcess({ env: { DATABASE_URL: db.url, TRAILPROOF_ADMIN_KEY: adminKey, TRAILPROOF_METRICS_PORT: String(metricsPort) } });
      await request(`${server.url}/v1/tenants`, adminKey, 'POST', { id: 'acme' });
      expect(
        (await request(`${server.url}/v1/events`, adminKey, 'POST', { tenant: 'acme', action: 'user.login', actor: { type: 'user', id: 'a' } })).status,
      ).toBe(201);
      const open = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(open.status).toBe(200);
      expect(sample(await open.text(), 'trailproof_events_ingested_total', { result: 'created' })).toBeGreaterThanOrEqual(1);
      expect((await request(`${server.url}/metrics`, null)).status).toBe(401);
      expect((await request(`${server.url}/metrics`, adminKey)).status).toBe(200);
      expect((await server.stop()).code).toBe(0);
    } finally {
      await db.drop();
    }
  }, 90_000);
});
