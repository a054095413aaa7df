/**
 * Streaming benchmark (issue 5, acceptance 3): does a webhook stream keep up with heavy ingest?
 *   npx tsx bench/stream.ts [--seconds 20] [--clients 8]
 * A real server in its own process (embedded PostgreSQL in a scratch dir) ingests 1,000-event
 * batches from `--clients` clients for `--seconds`, while one webhook stream delivers the tenant to
 * a local HTTP receiver in this process. Lag of an event = its arrival at the receiver − its
 * received_at (commit time); reported p50/p95/max over every event delivered during the load, the
 * stream's own status (lag_events, lag_seconds) sampled each second, and the time to drain after
 * ingest stops. Then the delivery capacity apart from ingest: the whole tenant replayed, timed; and
 * under load: the whole tenant replayed again while ingest runs flat out, so the stream delivers a
 * backlog and the new events at once, on a machine that ingest keeps busy.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { demoEvents } from '../src/demo/generator.ts';
import { api, percentiles, round, startServer, writeResult } from './lib.ts';

const arg = (name: string, fallback: number) => Number(process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback) || fallback;
const seconds = arg('--seconds', 20);
const clients = arg('--clients', 8);

// The receiver: records each event's lag, answers 200.
const lags: number[] = [];
let delivered = 0;
let requests = 0;
let lastSeq = -1;
let outOfOrder = 0;
let loadRunning = true;
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const arrived = Date.now();
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { events: { seq: number; received_at: string }[] };
    requests++;
    for (const e of body.events) {
      if (e.seq <= lastSeq) outOfOrder++;
      lastSeq = e.seq;
      if (loadRunning) lags.push((arrived - Date.parse(e.received_at)) / 1000);
    }
    delivered += body.events.length;
    res.writeHead(200).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

const server = await startServer({ env: { TRAILPROOF_SECRET_KEY: 'bench-secret-key-0123456789abcdef0123456789' } });
try {
  await api(server, server.adminKey, 'POST', '/v1/tenants', { id: 'stream-bench' });
  const key = (await api(server, server.adminKey, 'POST', '/v1/keys', { name: 'bench', scope: 'ingest', tenant: 'stream-bench' })).secret as string;
  const stream = await api(server, server.adminKey, 'POST', '/v1/streams', {
    tenant: 'stream-bench',
    name: 'bench',
    kind: 'webhook',
    config: { url: receiverUrl },
    secret: 'bench-signing-secret',
  });

  const now = Date.now();
  const bodies = [...demoEvents(5000, { from: new Date(now - 3_600_000), to: new Date(now) })];
  const payloads = Array.from({ length: 5 }, (_, i) => JSON.stringify({ events: bodies.slice(i * 1000, (i + 1) * 1000) }));
  const pool = new Pool(server.url, { connections: clients, pipelining: 1 });

  const statusSamples: { lagEvents: number; lagSeconds: number }[] = [];
  const sampler = setInterval(() => {
    void api(server, server.adminKey, 'GET', `/v1/streams/${stream.id}/status`).then(
      (s) => statusSamples.push({ lagEvents: s.lag_events, lagSeconds: s.lag_seconds }),
      () => {},
    );
  }, 1000);

  /** Ingests from `clients` clients for `seconds`; `during` runs once the load has started. */
  const load = async (forSeconds: number, during?: () => Promise<void>) => {
    let events = 0;
    let failed = 0;
    const start = performance.now();
    const deadline = start + forSeconds * 1000;
    await Promise.all([
      during?.(),
      ...Array.from({ length: clients }, async (_, c) => {
        for (let i = c; performance.now() < deadline; i += clients) {
          const res = await pool.request({
            method: 'POST',
            path: '/v1/events',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: payloads[i % payloads.length]!,
          });
          await res.body.text();
          if (res.statusCode === 200) events += 1000;
          else failed++;
        }
      }),
    ]);
    return { events, failed, seconds: (performance.now() - start) / 1000 };
  };

  const { events: ingested, failed: errors, seconds: loadSeconds } = await load(seconds);
  loadRunning = false;
  const deliveredDuringLoad = delivered;
  const requestsDuringLoad = requests;
  const outOfOrderDuringLoad = outOfOrder;
  const drainStarted = performance.now();
  let status = await api(server, server.adminKey, 'GET', `/v1/streams/${stream.id}/status`);
  while (status.lag_events > 0 && performance.now() - drainStarted < 120_000) {
    await new Promise((r) => setTimeout(r, 100));
    status = await api(server, server.adminKey, 'GET', `/v1/streams/${stream.id}/status`);
  }
  const drainSeconds = (performance.now() - drainStarted) / 1000;
  clearInterval(sampler);

  // Delivery capacity, apart from ingest: replay the whole tenant and time the backlog's delivery.
  const before = delivered;
  lastSeq = -1;
  const replayStarted = performance.now();
  await api(server, server.adminKey, 'POST', `/v1/streams/${stream.id}/replay`, { since: '2000-01-01T00:00:00Z' });
  do {
    await new Promise((r) => setTimeout(r, 100));
    status = await api(server, server.adminKey, 'GET', `/v1/streams/${stream.id}/status`);
  } while (status.lag_events > 0 && performance.now() - replayStarted < 300_000);
  const backlogSeconds = (performance.now() - replayStarted) / 1000;
  const backlogEvents = delivered - before;
  const backlogRate = round(backlogEvents / backlogSeconds, 0);

  // Delivery under load: the whole tenant replayed while ingest runs flat out again, so the stream
  // delivers a backlog and the new events at once, competing with ingest for the machine.
  const underLoadBefore = delivered;
  lastSeq = -1;
  const underLoad = await load(Math.max(10, seconds / 2), () =>
    api(server, server.adminKey, 'POST', `/v1/streams/${stream.id}/replay`, { since: '2000-01-01T00:00:00Z' }).then(() => {}),
  );
  const underLoadDelivered = delivered - underLoadBefore;
  const catchUpStarted = performance.now();
  do {
    status = await api(server, server.adminKey, 'GET', `/v1/streams/${stream.id}/status`);
    if (status.lag_events > 0) await new Promise((r) => setTimeout(r, 100));
  } while (status.lag_events > 0 && performance.now() - catchUpStarted < 300_000);
  const underLoadRate = round(underLoadDelivered / underLoad.seconds, 0);
  const underLoadIngest = round(underLoad.events / underLoad.seconds, 0);
  const caughtUpSeconds = round((performance.now() - catchUpStarted) / 1000, 2);
  await pool.close();

  const ingestRate = round(ingested / loadSeconds, 0);
  const deliveryRate = round(deliveredDuringLoad / loadSeconds, 0);
  const lag = percentiles(lags);
  const statusLag = percentiles(statusSamples.map((s) => s.lagSeconds));
  const statusLagEvents = percentiles(statusSamples.map((s) => s.lagEvents));
  process.stdout.write(`ingest: ${ingestRate} events/s for ${round(loadSeconds, 1)} s (${clients} clients × 1,000-event batches, ${errors} errors)\n`);
  process.stdout.write(
    `webhook stream: ${deliveryRate} events/s delivered during the load, ${requestsDuringLoad} requests, ${outOfOrderDuringLoad} out of order\n`,
  );
  process.stdout.write(`lag (arrival − received_at) during the load, s: p50 ${lag.p50} p95 ${lag.p95} max ${lag.max} (${lag.n} events)\n`);
  process.stdout.write(
    `status lag_seconds sampled each second: p50 ${statusLag.p50} max ${statusLag.max}; lag_events p50 ${statusLagEvents.p50} max ${statusLagEvents.max}\n`,
  );
  process.stdout.write(`drained ${round(drainSeconds, 2)} s after ingest stopped\n`);
  process.stdout.write(
    `delivery capacity (replay of the whole tenant, no ingest): ${backlogRate} events/s (${backlogEvents} events in ${round(backlogSeconds, 2)} s)\n`,
  );
  process.stdout.write(
    `delivery under load (whole tenant replayed while ingesting ${underLoadIngest} events/s): ${underLoadRate} events/s for ${round(underLoad.seconds, 1)} s, caught up ${caughtUpSeconds} s after ingest stopped\n`,
  );
  await writeResult('stream', {
    ingest: { eventsPerSecond: ingestRate, seconds: round(loadSeconds, 1), clients, batchSize: 1000, errors },
    stream: { kind: 'webhook', format: 'jsonl', deliveredPerSecond: deliveryRate, requests: requestsDuringLoad, outOfOrder: outOfOrderDuringLoad },
    lagSeconds: lag,
    statusLagSeconds: statusLag,
    statusLagEvents,
    drainSeconds: round(drainSeconds, 2),
    backlog: { eventsPerSecond: backlogRate, events: backlogEvents, seconds: round(backlogSeconds, 2) },
    underLoad: { deliveredPerSecond: underLoadRate, ingestPerSecond: underLoadIngest, seconds: round(underLoad.seconds, 1), caughtUpSeconds },
  });
} finally {
  await server.stop();
  receiver.close();
}
