/**
 * Database capture benchmark (issue 20, acceptance 4): the application's write throughput with
 * capture installed, side by side with the same database without it, in one run; and the relay's
 * throughput and lag under that load.
 *   npx tsx bench/capture.ts [--seconds 10] [--clients 8] [--rounds 2] [--rows-per-tx 1] [--baseline <checkout>]
 * One embedded PostgreSQL in a scratch dir holds Trailproof's database and the application
 * databases `app_plain` and `app_captured` (same schema, 10,000 accounts in 10 tenants). Each
 * client runs transactions that set `trailproof.context`, as the SDK's adapters do, and make one
 * UPDATE of `--rows-per-tx` random accounts. Every database first takes a warm-up of the same load
 * (connections opened, plans and trigger functions compiled); then each round measures plain and
 * captured with the relay stopped, in the opposite order in every other round so drift hits both,
 * then captured with the relay running, its backlog's age sampled every 250 ms. The relay runs as
 * `trailproof capture relay` in its own process, as an operator runs it (or `serve` does): in this
 * process it would share the event loop of the clients and slow their round trips.
 * `--baseline` adds `app_baseline`, captured by another checkout's `installCapture` (say, main's),
 * measured the same way with the relay stopped: the trigger before and after a change, in one run.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { installCapture, captureStatus } from '../src/capture/install.ts';
import { CaptureRelay } from '../src/capture/relay.ts';
import { GroupCommitter } from '../src/ingest/group-commit.ts';
import { connect, type Sql } from '../src/store/db.ts';
import { openEmbeddedPostgres } from '../src/store/embedded-postgres.ts';
import { migrate } from '../src/store/migrate.ts';
import { createTenant } from '../src/tenant/tenant-repository.ts';
import { percentiles, round, writeResult } from './lib.ts';

const arg = (name: string, fallback: number) => Number(process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback) || fallback;
const seconds = arg('--seconds', 10);
const clients = arg('--clients', 8);
const rounds = arg('--rounds', 2);
const rowsPerTx = arg('--rows-per-tx', 1);
const warmupSeconds = 2;
const baselineCheckout = process.argv.includes('--baseline') ? path.resolve(process.argv[process.argv.indexOf('--baseline') + 1] ?? '') : undefined;
const ACCOUNTS = 10_000;
const TENANTS = 10;

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tp-bench-capture-'));
const pg = await openEmbeddedPostgres({ dataDir: dir, user: { role: 'cli', command: 'bench capture' } });
const url = (db: string) => Object.assign(new URL(pg.url), { pathname: `/${db}` }).toString();
const admin = connect(pg.url, { max: 1 });
type App = 'plain' | 'baseline' | 'captured';
const appNames: App[] = baselineCheckout ? ['plain', 'baseline', 'captured'] : ['plain', 'captured'];
for (const db of ['trail', ...appNames.map((a) => `app_${a}`)]) await admin.unsafe(`create database ${db}`);
await admin.end();

const trail = connect(url('trail'), { max: 10 });
await migrate(trail);
for (let t = 0; t < TENANTS; t++) await createTenant(trail, { id: `org-${t}` });
const committer = new GroupCommitter(trail);

// One connection more than the clients on each, for the relay and the backlog sampler.
const apps = Object.fromEntries(appNames.map((a) => [a, connect(url(`app_${a}`), { max: clients + 2 })])) as Record<App, Sql>;
for (const sql of Object.values(apps)) {
  await sql.unsafe(
    `create table accounts (id int primary key, org_id text not null, name text not null, balance numeric not null, updated_at timestamptz not null default now())`,
  );
  await sql.unsafe(`insert into accounts select n, 'org-' || (n % ${TENANTS}), 'account ' || n, 0 from generate_series(1, ${ACCOUNTS}) n`);
}
await installCapture(apps.captured, { tables: ['accounts'], tenantColumn: 'org_id' });
if (baselineCheckout) {
  const baseline = (await import(path.join(baselineCheckout, 'src/capture/install.ts'))) as { installCapture: typeof installCapture };
  await baseline.installCapture(apps.baseline, { tables: ['accounts'], tenantColumn: 'org_id' });
}
for (const app of appNames) {
  await load(apps[app], warmupSeconds);
  if (app !== 'plain') await apps[app].unsafe('truncate trailproof_capture.outbox');
}

/** Transactions per second of `clients` concurrent writers over `duration` seconds. */
async function load(sql: Sql, duration = seconds): Promise<number> {
  let done = 0;
  const until = Date.now() + duration * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const context = JSON.stringify({ actor: { type: 'user', id: `user-${c}` }, context: { request_id: `bench-${c}` } });
      while (Date.now() < until) {
        // Distinct, and sorted so that concurrent transactions lock their rows in the same order.
        const picked = new Set<number>();
        while (picked.size < rowsPerTx) picked.add(1 + Math.floor(Math.random() * ACCOUNTS));
        const ids = [...picked].sort((a, b) => a - b);
        await sql.begin(async (tx) => {
          await tx`select set_config('trailproof.context', ${context}, true)`;
          await tx`update accounts set balance = balance + 1, updated_at = now() where id = any(${ids}::int[])`;
        });
        done++;
      }
    }),
  );
  return done / duration;
}

const throughput: Record<App | 'capturedRelaying', number[]> = { plain: [], baseline: [], captured: [], capturedRelaying: [] };
const drainRates: number[] = [];
const lags: number[] = [];
let relayed = 0;
let relayMs = 0;
let drainMs = 0;
for (let r = 0; r < rounds; r++) {
  for (const app of r % 2 === 0 ? appNames : [...appNames].reverse()) {
    const tps = await load(apps[app]);
    throughput[app].push(tps);
    if (app === 'plain') {
      process.stdout.write(`round ${r + 1}: without capture ${round(tps, 0)} tx/s\n`);
    } else if (app === 'baseline') {
      // Emptied untimed: the baseline is only there for its triggers' cost.
      await apps.baseline.unsafe('truncate trailproof_capture.outbox');
      process.stdout.write(`round ${r + 1}: with the baseline's capture, relay stopped ${round(tps, 0)} tx/s\n`);
    } else {
      // The triggers' own cost: the relay is not running (it drains the backlog after, timed).
      const backlog = (await captureStatus(apps.captured)).backlog;
      const drainer = new CaptureRelay({ app: apps.captured, append: (items) => committer.append(items), source: 'bench' });
      const drainStarted = Date.now();
      await drainer.drain();
      drainRates.push(backlog / ((Date.now() - drainStarted) / 1000));
      process.stdout.write(
        `round ${r + 1}: with capture, relay stopped ${round(tps, 0)} tx/s; then relayed the ${backlog} changes at ${round(drainRates.at(-1)!, 0)}/s\n`,
      );
    }
  }

  const relay = spawn(process.execPath, ['bin/trailproof.js', 'capture', 'relay', '--database-url', url('app_captured')], {
    env: { ...process.env, DATABASE_URL: url('trail'), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // Running once it has relayed a change made before the load starts.
  await apps.captured`update accounts set updated_at = now() where id = 1`;
  await waitForEmptyOutbox();
  const started = Date.now();
  const sampler = setInterval(() => {
    void captureStatus(apps.captured).then((s) => lags.push(s.oldestAt ? (Date.now() - Date.parse(s.oldestAt)) / 1000 : 0));
  }, 250);
  const captured = await load(apps.captured);
  clearInterval(sampler);
  throughput.capturedRelaying.push(captured);
  const drainStart = Date.now();
  await waitForEmptyOutbox();
  const drained = Date.now() - drainStart;
  drainMs += drained;
  relayMs += Date.now() - started;
  relay.kill('SIGTERM');
  await once(relay, 'exit');
  relayed += Math.round(captured * seconds * rowsPerTx);
  process.stdout.write(`round ${r + 1}: with capture and the relay running ${round(captured, 0)} tx/s (drained ${drained} ms after the load)\n`);
}

async function waitForEmptyOutbox(): Promise<void> {
  while ((await captureStatus(apps.captured)).backlog > 0) await new Promise((res) => setTimeout(res, 20));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const [plain, captured, relaying] = [mean(throughput.plain), mean(throughput.captured), mean(throughput.capturedRelaying)];
const baseline = baselineCheckout ? mean(throughput.baseline) : undefined;
const result = {
  seconds,
  clients,
  rounds,
  rowsPerTx,
  plainTxPerSecond: round(plain, 0),
  capturedTxPerSecond: round(captured, 0),
  slowdown: round(plain / captured, 3),
  ...(baseline === undefined ? {} : { baseline: baselineCheckout, baselineTxPerSecond: round(baseline, 0), baselineSlowdown: round(plain / baseline, 3) }),
  capturedRelayingTxPerSecond: round(relaying, 0),
  slowdownWithRelayOnSameMachine: round(plain / relaying, 3),
  relayBacklogChangesPerSecond: round(mean(drainRates), 0),
  relayChangesPerSecond: round(relayed / (relayMs / 1000), 0),
  lagSeconds: percentiles(lags),
  drainMsAfterLoad: round(drainMs / rounds, 0),
};
process.stdout.write(
  `\nwithout capture: ${result.plainTxPerSecond} tx/s; with capture: ${result.capturedTxPerSecond} tx/s (${result.slowdown}× slower); ` +
    `with capture and the relay on the same machine: ${result.capturedRelayingTxPerSecond} tx/s (${result.slowdownWithRelayOnSameMachine}×)\n` +
    (baseline === undefined ? '' : `with the baseline's capture: ${result.baselineTxPerSecond} tx/s (${result.baselineSlowdown}× slower)\n`) +
    `relay on a backlog: ${result.relayBacklogChangesPerSecond} changes/s\n` +
    `relay: ${result.relayChangesPerSecond} changes/s while the app wrote; backlog age p50 ${result.lagSeconds.p50} s, p95 ${result.lagSeconds.p95} s, max ${result.lagSeconds.max} s; drained ${result.drainMsAfterLoad} ms after the load\n`,
);
await writeResult(rowsPerTx === 1 ? 'capture' : `capture-${rowsPerTx}-rows`, result);
await committer.close();
await Promise.all([trail.end(), ...Object.values(apps).map((sql) => sql.end())]);
await pg.release();
await fs.rm(dir, { recursive: true, force: true });
