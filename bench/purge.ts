/**
 * Purge benchmark: a real server in its own process, on a copy of one tenant holding `--events`
 * events received 30 days ago (filled once by `trailproof demo` with its clock set back), a 10-day
 * retention.
 *   npx tsx bench/purge.ts [--events 1000000] [--seconds 15]
 * 1. ingest latency of single events into another tenant, 8 clients, without a purge → p50/p99
 * 2. a lifecycle run (`POST /v1/lifecycle/run`, followed to its end) of the expired tenant (archive to the local directory, record, remove)
 *    → events per second for the whole run, and for its archive and removal phases apart; the same
 *    ingest load runs meanwhile → p50/p99 during the purge
 */
import { demoEvents } from '../src/demo/generator.ts';
import { api, percentiles, round, startDemoServer, writeResult } from './lib.ts';

const arg = (name: string, fallback: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback);
const events = arg('--events', 1_000_000);
const seconds = arg('--seconds', 15);
const CLIENTS = 8;
/** The phase the run was last seen in: the ingest samples are told apart by it (to within a poll). */
let phase = 'archive';

// A copy of the data set, filled once into bench/.data/ and kept: a million events take minutes to fill.
const server = await startDemoServer({ events, receivedDaysAgo: 30, env: { TRAILPROOF_LIFECYCLE_INTERVAL_SECONDS: '0' } });
try {
  await api(server, server.adminKey, 'POST', '/v1/tenants', { id: 'live' });
  const key = (await api(server, server.adminKey, 'POST', '/v1/keys', { name: 'live', scope: 'ingest', tenant: 'live' })).secret as string;
  const bodies = [...demoEvents(2000, { from: new Date(Date.now() - 3_600_000), to: new Date() })].map((b) => JSON.stringify(b));

  const without = (await ingestLatency(key, bodies, () => false, seconds * 1000)).all;
  process.stdout.write(`ingest without a purge: p50 ${without.p50} ms, p99 ${without.p99} ms (${without.n} requests, ${CLIENTS} clients)\n`);

  await api(server, server.adminKey, 'PUT', '/v1/tenants/demo-1/retention', { days: 10 });
  let done = false;
  const started = Date.now();
  const during = ingestLatency(key, bodies, () => done, Number.POSITIVE_INFINITY);
  // A failed ingest request must not hide why the run ended: both are reported.
  during.catch(() => {});
  const run = await lifecycleRun('demo-1').catch((err: unknown) => {
    process.stdout.write(`lifecycle run failed after ${round((Date.now() - started) / 1000, 1)} s: ${String(err)} ${String((err as Error).cause ?? '')}\n`);
    throw err;
  });
  if (run.failed.length > 0) throw new Error(`lifecycle run failed: ${JSON.stringify(run.failed)}`);
  const runSeconds = (Date.now() - started) / 1000;
  done = true;
  const { all: duringPurge, byPhase } = await during;
  const removed = run.tenants[0].removed as number;
  const phases = run.tenants[0].seconds as { archive: number; removal: number };
  const perSecond = round(removed / runSeconds, 0);
  const removalPerSecond = round(removed / phases.removal, 0);
  const archivePerSecond = round(removed / phases.archive, 0);
  process.stdout.write(
    `lifecycle run: ${removed} events in ${round(runSeconds, 1)} s = ${perSecond} events/s (archive + record + removal, ${run.tenants[0].records.length} records)\n` +
      `  archive: ${round(phases.archive, 1)} s = ${archivePerSecond} events/s; purge (payload removal): ${round(phases.removal, 1)} s = ${removalPerSecond} events/s\n`,
  );
  process.stdout.write(`ingest during the purge: p50 ${duringPurge.p50} ms, p99 ${duringPurge.p99} ms (${duringPurge.n} requests)\n`);
  for (const [name, p] of Object.entries(byPhase)) process.stdout.write(`  during ${name}: p50 ${p.p50} ms, p99 ${p.p99} ms (${p.n} requests)\n`);
  await writeResult('purge', {
    events,
    removed,
    run_seconds: round(runSeconds, 1),
    purged_per_second: perSecond,
    archive_seconds: phases.archive,
    archived_per_second: archivePerSecond,
    removal_seconds: phases.removal,
    removed_per_second: removalPerSecond,
    ingest_without: without,
    ingest_during: duringPurge,
    ingest_during_phase: byPhase,
  });
} finally {
  await server.stop();
}

/** `POST /v1/lifecycle/run`, then its run followed to its end, with its progress printed as it goes. */
async function lifecycleRun(tenant: string) {
  let run = await api(server, server.adminKey, 'POST', '/v1/lifecycle/run', { tenant });
  while (run.status === 'running') {
    run = await api(server, server.adminKey, 'GET', `/v1/lifecycle/runs/${run.id}?wait=2`);
    const at = run.progress;
    if (at) phase = at.phase;
    if (at) process.stdout.write(`  ${at.phase} ${at.done}/${at.range[1] - at.range[0]} of [${at.range[0]}, ${at.range[1]})\n`);
  }
  return run;
}

/** Single-event posts from CLIENTS clients until `stop()` or `ms` elapsed; latency percentiles (ms), in all and per phase of the run. */
async function ingestLatency(key: string, bodies: string[], stop: () => boolean, ms: number) {
  const samples: number[] = [];
  const phases = new Map<string, number[]>();
  const deadline = Date.now() + ms;
  let n = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (!stop() && Date.now() < deadline) {
        const t = performance.now();
        const res = await fetch(`${server.url}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: bodies[n++ % bodies.length],
        });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`ingest: ${res.status}`);
        const latency = performance.now() - t;
        samples.push(latency);
        if (!phases.has(phase)) phases.set(phase, []);
        phases.get(phase)!.push(latency);
      }
    }),
  );
  return { all: percentiles(samples), byPhase: Object.fromEntries([...phases].map(([name, s]) => [name, percentiles(s)])) };
}
