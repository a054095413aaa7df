/**
 * Client benchmark: does one process using @trailproof/client keep up with the server's batch
 * ingest, and what does `record()` add to the calling request?
 *   npx tsx bench/sdk.ts [--seconds 10] [--rounds 2] [--options '<json>']
 *     [--baseline <client.ts>] [--baseline-options '<json>']
 * Rounds alternate, so that the machine's noise hits every contender alike:
 * - raw: 8 connections posting 1,000-event batches, bodies serialised ahead (the server's
 *   batch-ingest capacity, with as little client work as possible);
 * - sdk: one TrailproofClient with its defaults (or `--options`), fed with record() as fast as it
 *   takes events (recordAsync() when the queue is full); events/s counts until close() resolved;
 * - baseline (with `--baseline`): the same, with the TrailproofClient of another copy of the
 *   sources (e.g. the previous version, extracted with `git archive`) and `--baseline-options`
 *   (default: `--options`); with the same sources it compares two sets of options.
 * Both sides send the same events: demo events, each with a fresh client `id` and `occurred_at`,
 * into one tenant whose size at the start of each round is printed. The client's CPU time per
 * 1,000 events shows what the SDK costs the process that embeds it.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TrailproofClient } from '../packages/client/src/index.ts';
import { demoEvents } from '../src/demo/generator.ts';
import { api, percentiles, round, startServer, writeResult } from './lib.ts';

type Client = Pick<TrailproofClient, 'record' | 'recordAsync' | 'close'>;
type ClientClass = new (options: ConstructorParameters<typeof TrailproofClient>[0]) => Client;

const seconds = Number(flag('--seconds')) || 10;
const rounds = Number(flag('--rounds')) || 2;
const baselinePath = flag('--baseline');
const clientOptions = JSON.parse(flag('--options') ?? '{}') as Record<string, unknown>;
const baselineOptions = JSON.parse(flag('--baseline-options') ?? JSON.stringify(clientOptions)) as Record<string, unknown>;
const contenders: { name: string; Client?: ClientClass; options?: Record<string, unknown> }[] = [
  { name: 'raw' },
  { name: 'sdk', Client: TrailproofClient, options: clientOptions },
];
if (baselinePath) {
  const module = (await import(pathToFileURL(path.resolve(baselinePath)).href)) as { TrailproofClient: ClientClass };
  contenders.push({ name: 'baseline', Client: module.TrailproofClient, options: baselineOptions });
}

const server = await startServer();
try {
  await api(server, server.adminKey, 'POST', '/v1/tenants', { id: 'bench-sdk' });
  const key = (await api(server, server.adminKey, 'POST', '/v1/keys', { name: 'bench sdk', scope: 'ingest', tenant: 'bench-sdk' })).secret as string;
  const now = Date.now();
  const bodies = [...demoEvents(5000, { from: new Date(now - 86_400_000), to: new Date(now) })];
  // Each event serialised once without its id; a raw request puts a fresh id in front of each.
  const serialised = bodies.map((b) => JSON.stringify(b).slice(1));
  const eventBytes = round(serialised.reduce((n, s) => n + Buffer.byteLength(`{"id":"${randomUUID()}",${s}`), 0) / serialised.length, 0);
  process.stdout.write(
    `events: demo events with client id and occurred_at, ${eventBytes} bytes each as JSON on average; sdk options ${JSON.stringify(clientOptions)}${baselinePath ? `, baseline options ${JSON.stringify(baselineOptions)}` : ''}\n`,
  );

  const results: Record<string, { eventsPerSecond: number; cpuMsPer1000: number; failedSends: number; startSize: number }[]> = {};
  const recordMs: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const contender of contenders) {
      const startSize = (await api(server, server.adminKey, 'GET', '/v1/ledger/status?tenant=bench-sdk')).size as number;
      const cpu0 = process.cpuUsage();
      const samples = (recordMs[contender.name] ??= []);
      const run = contender.Client ? await viaClient(contender.Client, contender.options ?? {}, samples) : await rawIngest();
      const cpu = process.cpuUsage(cpu0);
      const result = {
        eventsPerSecond: round(run.events / run.seconds, 0),
        cpuMsPer1000: round((cpu.user + cpu.system) / 1000 / (run.events / 1000), 1),
        failedSends: run.failedSends,
        startSize,
      };
      (results[contender.name] ??= []).push(result);
      process.stdout.write(
        `round ${r + 1} ${contender.name}: ${result.eventsPerSecond} events/s (${run.events} events in ${round(run.seconds, 1)} s, ledger held ${startSize}); client CPU ${result.cpuMsPer1000} ms per 1,000 events; ${run.failedSends} failed sends\n`,
      );
    }
  }

  const summary: Record<string, unknown> = {};
  const rawMean = mean(results.raw!.map((x) => x.eventsPerSecond));
  process.stdout.write('\n');
  for (const { name } of contenders) {
    const eventsPerSecond = round(mean(results[name]!.map((x) => x.eventsPerSecond)), 0);
    const latency = name === 'raw' ? undefined : percentiles(recordMs[name]!);
    summary[name] = { eventsPerSecond, ofRaw: round(eventsPerSecond / rawMean, 2), rounds: results[name], ...(latency && { recordMs: latency }) };
    process.stdout.write(
      `${name}: ${eventsPerSecond} events/s on average, ${Math.round((eventsPerSecond / rawMean) * 100)}% of raw` +
        (latency ? `; record() ms p50 ${latency.p50} p99 ${latency.p99} max ${latency.max}` : '') +
        '\n',
    );
  }
  await writeResult('sdk', { ...summary, eventBytes, options: clientOptions, ...(baselinePath && { baselineOptions }), seconds, rounds });

  async function rawIngest(): Promise<Run> {
    let events = 0;
    let failedSends = 0;
    let n = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (performance.now() - start < seconds * 1000) {
          const offset = (n++ % 5) * 1000;
          const parts = serialised.slice(offset, offset + 1000).map((s) => `{"id":"${randomUUID()}",${s}`);
          const res = await fetch(`${server.url}/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: `{"events":[${parts.join(',')}]}`,
          });
          await res.text();
          if (res.ok) events += 1000;
          else failedSends++;
        }
      }),
    );
    return { events, seconds: (performance.now() - start) / 1000, failedSends };
  }

  /** Retried sends (timeouts, errors) count as failed; a full queue is the expected backpressure. */
  async function viaClient(Client: ClientClass, options: Record<string, unknown>, samples: number[]): Promise<Run> {
    let failedSends = 0;
    const onError = (error: { code: string }) => {
      if (error.code !== 'QUEUE_FULL') failedSends++;
    };
    const audit = new Client({ url: server.url, apiKey: key, onError, ...options });
    let recorded = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      const body = bodies[recorded % bodies.length]!;
      const t0 = performance.now();
      const id = audit.record(body);
      samples.push(performance.now() - t0);
      if (id === undefined) await audit.recordAsync(body);
      recorded++;
      if (recorded % 1000 === 0) await new Promise((r) => setImmediate(r));
    }
    await audit.close();
    return { events: recorded, seconds: (performance.now() - start) / 1000, failedSends };
  }
} finally {
  await server.stop();
}

interface Run {
  events: number;
  seconds: number;
  /** Requests that failed (raw) or were retried (SDK). */
  failedSends: number;
}

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
