/**
 * Inclusion-proof latency over HTTP on a large tenant (issue 3 target: p95 ≤ 10 ms): a real server
 * in its own process, `GET /v1/events/{uid}/proof` for events spread over the whole tree.
 *   npx tsx bench/proof.ts [--events 1000000] [--rounds 2000] [--concurrency 8] [--data-dir bench/.data/demo-<events>]
 *   TRAILPROOF_READ_AUDIT_COMMIT=async npx tsx bench/proof.ts   (read records committed without the flush wait)
 * Shares the demo data set (and its one-time `trailproof demo` fill) with bench/query.ts. Each proof
 * request also records its `audit_log.viewed` event, as in production, so the tree keeps growing and
 * checkpoints keep being issued while the benchmark runs; the run reads a copy of the data set, so
 * that growth ends with it.
 */
import { api, percentiles, round, startDemoServer, writeResult } from './lib.ts';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);
const events = Number(arg('--events', '1000000'));
const rounds = Number(arg('--rounds', '2000'));
const concurrency = Number(arg('--concurrency', '8'));
const template = process.argv.includes('--data-dir') ? arg('--data-dir', '') : undefined;

const server = await startDemoServer({ events, ...(template ? { template } : {}) });
try {
  const { secret } = await api(server, server.adminKey, 'POST', '/v1/keys', { name: 'bench prover', scope: 'read', tenant: 'demo-1' });
  const status = await api(server, secret, 'GET', '/v1/ledger/status');
  process.stdout.write(`tenant demo-1: ${status.size} leaves\n`);

  // Events from all over the tree: pages of 100 from random one-day windows of the demo's two years.
  const uids: string[] = [];
  const day = 86_400_000;
  while (uids.length < 1000) {
    const end = Date.now() - Math.floor(Math.random() * 730) * day;
    const page = await api(server, secret, 'GET', `/v1/events?limit=100&since=${new Date(end - day).toISOString()}&until=${new Date(end).toISOString()}`);
    uids.push(...(page.data as { uid: string }[]).map((e) => e.uid));
  }
  const pick = () => uids[Math.floor(Math.random() * uids.length)]!;
  const prove = async () => {
    const t0 = performance.now();
    const proof = await api(server, secret, 'GET', `/v1/events/${pick()}/proof`);
    if (typeof proof.proof !== 'string') throw new Error('no proof in the answer');
    return performance.now() - t0;
  };
  // Baseline: reading the event itself costs the same lookup and audit_log.viewed commit, no proof.
  const readEvent = async () => {
    const t0 = performance.now();
    await api(server, secret, 'GET', `/v1/events/${pick()}`);
    return performance.now() - t0;
  };

  for (let i = 0; i < 50; i++) await prove(); // warm-up: connections, caches, the first checkpoint
  const sequential: number[] = [];
  for (let i = 0; i < rounds; i++) sequential.push(await prove());
  const seq = percentiles(sequential);
  process.stdout.write(`sequential      p50 ${seq.p50} ms  p95 ${seq.p95} ms  p99 ${seq.p99} ms  max ${seq.max} ms  (n ${seq.n})\n`);
  const eventReads: number[] = [];
  for (let i = 0; i < rounds / 2; i++) eventReads.push(await readEvent());
  const baseline = percentiles(eventReads);
  process.stdout.write(`baseline (GET /v1/events/{uid}, same audit commit)  p50 ${baseline.p50} ms  p95 ${baseline.p95} ms  p99 ${baseline.p99} ms\n`);

  const concurrent: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = 0; i < Math.ceil(rounds / concurrency); i++) concurrent.push(await prove());
    }),
  );
  const throughput = round(concurrent.length / ((performance.now() - t0) / 1000), 0);
  const par = percentiles(concurrent);
  process.stdout.write(`concurrency ${concurrency}   p50 ${par.p50} ms  p95 ${par.p95} ms  p99 ${par.p99} ms  max ${par.max} ms  ${throughput} proofs/s\n`);
  const after = await api(server, secret, 'GET', '/v1/ledger/status');
  // TRAILPROOF_READ_AUDIT_COMMIT=async (docs/api.md) is measured apart: it trades durability of read records.
  const readAudit = process.env.TRAILPROOF_READ_AUDIT_COMMIT === 'async' ? 'async' : 'flush';
  await writeResult(readAudit === 'async' ? 'proof-read-audit-async' : 'proof', {
    readAuditCommit: readAudit,
    events: server.events,
    treeSize: status.size,
    rounds,
    sequential: seq,
    eventReadBaseline: baseline,
    concurrent: { concurrency, ...par, proofsPerSecond: throughput },
    checkpointLagAtEnd: after.checkpoint_lag,
  });
} finally {
  await server.stop();
}
