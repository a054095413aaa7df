/**
 * Ingest benchmark: a real server in its own process, load from this process over HTTP on loopback.
 *   npx tsx bench/ingest.ts [--seconds 15] [--only batch|single] [--tenants 1]
 * With --tenants N the clients spread round-robin over N tenants (each tenant's appends serialise on
 * its ledger head, so one tenant measures the per-tenant bound, several the service's).
 * 1. batch: 8 clients posting batches of 1,000 events → events/s
 * 2. single: 32 clients posting one event per request → requests/s and latency percentiles
 */
import { Pool } from 'undici';
import { demoEvents } from '../src/demo/generator.ts';
import { api, percentiles, round, startServer, writeResult } from './lib.ts';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 15;
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const tenantCount = Number(process.argv.includes('--tenants') ? process.argv[process.argv.indexOf('--tenants') + 1] : 1) || 1;

const server = await startServer();
try {
  const keys: string[] = [];
  for (let t = 0; t < tenantCount; t++) {
    await api(server, server.adminKey, 'POST', '/v1/tenants', { id: `bench-${t}` });
    keys.push((await api(server, server.adminKey, 'POST', '/v1/keys', { name: `bench ${t}`, scope: 'ingest', tenant: `bench-${t}` })).secret);
  }
  const pool = new Pool(server.url, { connections: 64, pipelining: 1 });
  const now = Date.now();
  const bodies = [...demoEvents(5000, { from: new Date(now - 86_400_000), to: new Date(now) })];

  const batchPayloads = Array.from({ length: 5 }, (_, i) => JSON.stringify({ events: bodies.slice(i * 1000, (i + 1) * 1000) }));
  const batch = only === 'single' ? skipped() : await load(pool, keys, 8, seconds, (i) => batchPayloads[i % batchPayloads.length]!);
  const batchEventsPerSecond = round((batch.requests * 1000) / batch.seconds, 0);
  if (only !== 'single')
    process.stdout.write(
      `batch ingest: ${batchEventsPerSecond} events/s (8 clients × 1,000-event batches, ${tenantCount} tenant(s), ${batch.requests} requests, p99 ${batch.latency.p99} ms)\n`,
    );

  const singlePayloads = bodies.map((b) => JSON.stringify(b));
  const single = only === 'batch' ? skipped() : await load(pool, keys, 32, seconds, (i) => singlePayloads[i % singlePayloads.length]!);
  const singleRps = round(single.requests / single.seconds, 0);
  if (only !== 'batch')
    process.stdout.write(
      `single-event ingest: ${singleRps} requests/s at 32 clients, ${tenantCount} tenant(s); latency ms p50 ${single.latency.p50} p95 ${single.latency.p95} p99 ${single.latency.p99}\n`,
    );

  await pool.close();
  await writeResult(tenantCount === 1 ? 'ingest' : `ingest-${tenantCount}-tenants`, {
    // A part left out with --only is written as null, not as zeros.
    batch: only === 'single' ? null : { eventsPerSecond: batchEventsPerSecond, clients: 8, batchSize: 1000, latencyMs: batch.latency, errors: batch.errors },
    single: only === 'batch' ? null : { requestsPerSecond: singleRps, clients: 32, latencyMs: single.latency, errors: single.errors },
    seconds,
    tenants: tenantCount,
  });
} finally {
  await server.stop();
}

function skipped() {
  return { requests: 0, errors: 0, seconds: 1, latency: percentiles([]) };
}

async function load(pool: Pool, keys: string[], clients: number, duration: number, payload: (i: number) => string) {
  const latencies: number[] = [];
  let requests = 0;
  let errors = 0;
  let n = 0;
  const started = performance.now();
  const deadline = started + duration * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      const key = keys[client % keys.length]!;
      while (performance.now() < deadline) {
        const body = payload(n++);
        const t0 = performance.now();
        const res = await pool.request({
          path: '/v1/events',
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body,
        });
        await res.body.text();
        latencies.push(performance.now() - t0);
        if (res.statusCode >= 300) errors++;
        else requests++;
      }
    }),
  );
  return { requests, errors, seconds: (performance.now() - started) / 1000, latency: percentiles(latencies) };
}
