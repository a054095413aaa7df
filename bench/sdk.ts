/**
 * Client benchmark: does one process using @trailproof/client keep up with the server's batch
 * ingest, and what does `record()` add to the calling request?
 *   npx tsx bench/sdk.ts [--seconds 10]
 * 1. raw: 8 connections posting 1,000-event batches (the server's batch-ingest capacity)
 * 2. sdk: one client (batchSize 1,000, concurrency 8) fed by recordAsync() as fast as it takes
 *    events; events/s counts until flush() resolved; record() time per call as percentiles.
 */
import { TrailproofClient } from '../packages/client/src/index.ts';
import { demoEvents } from '../src/demo/generator.ts';
import { api, percentiles, round, startServer, writeResult } from './lib.ts';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 10;
const server = await startServer();
try {
  await api(server, server.adminKey, 'POST', '/v1/tenants', { id: 'bench-sdk' });
  const key = (await api(server, server.adminKey, 'POST', '/v1/keys', { name: 'bench sdk', scope: 'ingest', tenant: 'bench-sdk' })).secret as string;
  const now = Date.now();
  const bodies = [...demoEvents(5000, { from: new Date(now - 86_400_000), to: new Date(now) })];

  // 1. Raw batch ingest.
  const payloads = Array.from({ length: 5 }, (_, i) => JSON.stringify({ events: bodies.slice(i * 1000, (i + 1) * 1000) }));
  let rawEvents = 0;
  let n = 0;
  const rawStart = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (performance.now() - rawStart < seconds * 1000) {
        const res = await fetch(`${server.url}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: payloads[n++ % payloads.length]!,
        });
        await res.text();
        if (res.ok) rawEvents += 1000;
      }
    }),
  );
  const raw = round(rawEvents / ((performance.now() - rawStart) / 1000), 0);
  process.stdout.write(`raw batch ingest: ${raw} events/s (8 connections × 1,000-event batches)\n`);

  // 2. The client.
  const audit = new TrailproofClient({ url: server.url, apiKey: key, batchSize: 1000, concurrency: 8, maxQueue: 50_000 });
  const recordMs: number[] = [];
  let recorded = 0;
  const sdkStart = performance.now();
  while (performance.now() - sdkStart < seconds * 1000) {
    const { id: _id, ...body } = bodies[recorded % bodies.length]!;
    const t0 = performance.now();
    const id = audit.record(body);
    recordMs.push(performance.now() - t0);
    if (id === undefined) await audit.recordAsync(body);
    recorded++;
    if (recorded % 1000 === 0) await new Promise((r) => setImmediate(r));
  }
  await audit.close();
  const sdk = round(recorded / ((performance.now() - sdkStart) / 1000), 0);
  const latency = percentiles(recordMs);
  process.stdout.write(`sdk: ${sdk} events/s from one process (${recorded} events); record() ms p50 ${latency.p50} p99 ${latency.p99} max ${latency.max}\n`);
  await writeResult('sdk', { rawEventsPerSecond: raw, sdkEventsPerSecond: sdk, recordMs: latency, seconds });
} finally {
  await server.stop();
}
