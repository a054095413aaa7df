/**
 * The delivery worker on a real database, delivering to a real HTTPS receiver: order, filter,
 * durable cursor, retries, pausing with audit event and alert, resume, replay, one deliverer per
 * destination across workers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../event/types.ts';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import { SecretBox } from './secret-box.ts';
import { makeTestCertificates } from './testing/certificates.ts';
import { startHttpReceiver, type HttpReceiver } from './testing/http-receiver.ts';
import { StreamWorker, type StreamWorkerOptions } from './worker.ts';

const certs = makeTestCertificates();
let t: TestApp;
let receiver: HttpReceiver;
let alerts: HttpReceiver;
const workers: StreamWorker[] = [];

function worker(options: Partial<StreamWorkerOptions> = {}): StreamWorker {
  const w = new StreamWorker({
    sql: t.db.sql,
    audit: t.services.audit,
    secrets: new SecretBox(t.config),
    committer: t.services.committer,
    config: { maxFailures: 3, timeoutMs: 1000, retryMaxMs: 200, leaseMs: 5000, alertWebhook: `${alerts.url}/alert` },
    pollMs: 100,
    retryBaseMs: 20,
    batchSize: 50,
    ...options,
  });
  workers.push(w);
  w.start();
  return w;
}

async function ingest(tenant: string, actions: string[]): Promise<string[]> {
  const res = await t.request('POST', '/v1/events', {
    body: { events: actions.map((action, i) => ({ tenant, action, actor: { type: 'user', id: `u${i}` }, outcome: i % 3 ? 'success' : 'failure' })) },
  });
  expect(res.statusCode).toBe(200);
  return (res.json() as { accepted: { uid: string }[] }).accepted.map((a) => a.uid);
}

async function createStream(tenant: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await t.request('POST', '/v1/streams', {
    body: {
      tenant,
      name: `hook-${Math.random()}`.slice(0, 20),
      kind: 'webhook',
      config: { url: `${receiver.url}/${tenant}`, ca: certs.caCert },
      secret: 'signing-secret',
      ...body,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

const delivered = (tenant: string, from = receiver.accepted) =>
  from.filter((r) => r.path === `/${tenant}`).flatMap((r) => (JSON.parse(r.body.toString()) as { events: StoredEvent[] }).events);

async function until<T>(what: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await what();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  t = await createTestApp({ TRAILPROOF_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789' });
  receiver = await startHttpReceiver({ tls: certs });
  alerts = await startHttpReceiver();
  for (const tenant of ['wa', 'wb', 'wc', 'wd']) await t.createTenant(tenant);
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  receiver.mode = 'ok';
  receiver.decide = undefined;
});
afterAll(async () => {
  await receiver.close();
  await alerts.close();
  await t.close();
});

describe('stream worker', () => {
  it('delivers the events its filter selects, in commit order, and moves the durable cursor', async () => {
    const id = await createStream('wa', { filter: { actions: ['user.*', 'doc.read'] } });
    worker();
    const actions = Array.from({ length: 120 }, (_, i) => ['user.login', 'doc.read', 'doc.write', 'user.logout'][i % 4]!);
    const uids = [...(await ingest('wa', actions.slice(0, 60))), ...(await ingest('wa', actions.slice(60)))];
    const want = uids.filter((_, i) => actions[i] !== 'doc.write');
    const got = await until(
      () => delivered('wa').map((e) => e.uid),
      (d) => d.length >= want.length,
    );
    expect(got).toEqual(want);
    const seqs = delivered('wa').map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const status = await until(
      async () => (await t.request('GET', `/v1/streams/${id}/status`)).json(),
      (s) => s.lag_events === 0,
    );
    expect(status).toMatchObject({ lag_events: 0, lag_seconds: 0, attempts: 0, last_error: null });
    expect(status.last_success_at).not.toBeNull();
  });

  it('retries with backoff, pauses after repeated failures (error visible, stream.paused, alert), and resumes where it stopped', async () => {
    const id = await createStream('wb');
    receiver.mode = 'fail';
    worker();
    const first = await ingest(
      'wb',
      Array.from({ length: 10 }, () => 'doc.read'),
    );
    const paused = await until(
      async () => (await t.request('GET', `/v1/streams/${id}`)).json(),
      (s) => s.status === 'paused',
    );
    expect(paused).toMatchObject({ status: 'paused', attempts: 3, last_error: expect.stringContaining('HTTP 500') });
    expect(paused.paused_reason).toMatch(/3 consecutive failed deliveries/);
    expect(receiver.seen.filter((r) => r.path === '/wb')).toHaveLength(3);
    const alert = await until(
      () => alerts.accepted,
      (a) => a.length > 0,
    );
    expect(JSON.parse(alert[0]!.body.toString())).toMatchObject({ type: 'stream.paused', tenant: 'wb', stream: { id, kind: 'webhook' } });
    const audit = (await t.request('GET', '/v1/events?tenant=wb&action=stream.paused')).json().data;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: { type: 'system', id: 'trailproof-stream-worker' }, targets: [{ type: 'stream', id }] });

    receiver.mode = 'ok';
    const second = await ingest('wb', ['doc.read', 'doc.read']);
    expect((await t.request('POST', `/v1/streams/${id}/resume`)).statusCode).toBe(200);
    const got = await until(
      () => delivered('wb').map((e) => e.uid),
      (d) => d.includes(second[1]!),
    );
    // Everything from the cursor on, in order: the failed batch first, then the audit records and the new events.
    expect(got.filter((u) => first.includes(u))).toEqual(first);
    expect(got).toEqual(expect.arrayContaining(second));
    expect(got.indexOf(second[0]!)).toBeLessThan(got.indexOf(second[1]!));
  });

  it('delivers a batch again when the receiver hangs or drops the connection mid-batch: no gap, no reordering', async () => {
    await createStream('wc');
    let calls = 0;
    receiver.decide = () => (++calls === 1 ? 'hang' : calls === 2 ? 'drop' : 'ok');
    worker();
    const uids = await ingest(
      'wc',
      Array.from({ length: 30 }, () => 'doc.read'),
    );
    const got = await until(
      () => delivered('wc').map((e) => e.uid),
      (d) => d.includes(uids[29]!),
      20_000,
    );
    // The batch in flight may arrive more than once; after it, nothing repeats or goes missing.
    expect([...new Set(got.filter((u) => uids.includes(u)))]).toEqual(uids);
    expect(calls).toBeGreaterThanOrEqual(3);
  });

  it('replays from a time: events received since are delivered again, in order', async () => {
    const id = await createStream('wd');
    worker();
    const since = new Date().toISOString();
    const uids = await ingest(
      'wd',
      Array.from({ length: 5 }, () => 'doc.read'),
    );
    await until(
      () => delivered('wd').map((e) => e.uid),
      (d) => d.length >= 5,
    );
    await t.request('POST', `/v1/streams/${id}/replay`, { body: { since } });
    const got = await until(
      () => delivered('wd').map((e) => e.uid),
      (d) => d.filter((u) => u === uids[4]).length >= 2,
    );
    expect(got.filter((u) => uids.includes(u))).toEqual([...uids, ...uids]);
  });

  it('delivers in order when the process has no read-ahead slots left (every page read when needed)', async () => {
    const before = receiver.accepted.length;
    await createStream('wc', { name: 'no-read-ahead', config: { url: `${receiver.url}/wc2`, ca: certs.caCert } });
    worker({ readsAhead: 0 });
    const uids = await ingest(
      'wc',
      Array.from({ length: 230 }, () => 'doc.read'),
    );
    const got = await until(
      () => delivered('wc2', receiver.accepted.slice(before)).map((e) => e.uid),
      (d) => d.length >= 230,
    );
    expect(got.filter((u) => uids.includes(u))).toEqual(uids);
  });

  it('lets only one worker deliver a destination at a time', async () => {
    const before = receiver.accepted.length;
    await createStream('wa', { name: 'second-hook', config: { url: `${receiver.url}/wa2`, ca: certs.caCert } });
    worker();
    worker();
    const uids = await ingest(
      'wa',
      Array.from({ length: 200 }, () => 'doc.read'),
    );
    const got = await until(
      () => delivered('wa2', receiver.accepted.slice(before)).map((e) => e.uid),
      (d) => d.length >= 200,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(
      delivered('wa2', receiver.accepted.slice(before))
        .map((e) => e.uid)
        .filter((u) => uids.includes(u)),
    ).toEqual(uids);
    expect(got.length).toBeGreaterThanOrEqual(200);
  });
});
