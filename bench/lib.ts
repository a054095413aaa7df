/**
 * Benchmark plumbing: start a real `trailproof serve` in its own process (embedded PostgreSQL in a
 * scratch data dir, or BENCH_DATABASE_URL), percentiles, and writing results to bench/results/.
 * Benchmarks print figures and never assert on time.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connect } from '../src/store/db.ts';
import { openEmbeddedPostgres } from '../src/store/embedded-postgres.ts';
import { migrate } from '../src/store/migrate.ts';
import { alertHandler } from '../src/alert/alert-evaluator.ts';
import { CommittedFollower } from '../src/query/committed-follower.ts';
import { rollupHandler } from '../src/stats/rollups.ts';

// The benchmarks start `bin/trailproof.js`, which runs dist/: bring it up to date with the sources.
execFileSync(process.execPath, ['scripts/build-dist.mjs'], { stdio: 'inherit' });

export interface BenchServer {
  url: string;
  adminKey: string;
  dataDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts a server on `dataDir`, or on a scratch data dir that `stop()` deletes, since a run leaves
 * gigabytes in it.
 */
export async function startServer(options: { dataDir?: string; env?: Record<string, string> } = {}): Promise<BenchServer> {
  const scratch = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'trailproof-bench-')));
  const adminKey = `bench-admin-${'x'.repeat(32)}`;
  const port = 20000 + Math.floor(Math.random() * 20000);
  // BENCH_CPU_PROFILE=dir writes a V8 CPU profile of the server (open it in Chrome DevTools).
  const profile = process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, 'bin/trailproof.js', 'serve', '--port', String(port), '--data-dir', dataDir], {
    // The background self-audit re-hashes the whole ledger (tens of seconds at a million events):
    // it is kept off so it does not land at random inside a measurement; bench/verify.ts measures it.
    env: {
      ...process.env,
      TRAILPROOF_ADMIN_KEY: adminKey,
      LOG_LEVEL: 'warn',
      TRAILPROOF_SELF_AUDIT_INTERVAL_SECONDS: '0',
      ...(process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`trailproof serve exited with ${code} before it was ready`))));
  await Promise.race([waitFor(`${url}/readyz`, 120_000), exited]);
  return {
    url,
    adminKey,
    dataDir,
    process: child,
    stop: async () => {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      if (scratch) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function api(server: { url: string }, key: string, method: string, route: string, body?: unknown): Promise<any> {
  const res = await fetch(`${server.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** A server on a private copy of the demo data set, and that data set's size. */
export interface DemoServer extends BenchServer {
  /** Events in `demo-1` when the run started: the data size every result of the run states. */
  events: number;
}

/**
 * Starts a server on a private copy of the one-tenant demo data set (`demo-1`, `events` events) kept
 * in `template` (bench/.data/demo-<events> by default), filling the template with `trailproof demo`
 * the first time (minutes for a million events). Reads are audited, so every run adds records to the
 * tenant it reads; running on a copy, deleted when the server stops, keeps those records out of the
 * data set the next run and the other benchmarks measure. With `receivedDaysAgo`, the events were
 * received that many days ago (bench/past-clock.mjs), in a template of their own.
 */
export async function startDemoServer(options: {
  events: number;
  template?: string;
  receivedDaysAgo?: number;
  env?: Record<string, string>;
}): Promise<DemoServer> {
  const aged = options.receivedDaysAgo ? `-received-${options.receivedDaysAgo}-days-ago` : '';
  const template = path.resolve(options.template ?? `bench/.data/demo-${options.events}${aged}`);
  const marker = path.join(template, 'bench-demo.json');
  if (!(await exists(marker))) {
    if ((await exists(template)) && (await fs.readdir(template)).length > 0) {
      throw new Error(`${template} holds data but was not filled by the benchmarks (no bench-demo.json): remove it or pick another --data-dir`);
    }
    await fs.mkdir(template, { recursive: true });
    process.stdout.write(`filling ${options.events} demo events into ${template} (once; it is kept)\n`);
    const t0 = Date.now();
    const pastClock = options.receivedDaysAgo ? ['--import', path.resolve('bench/past-clock.mjs')] : [];
    execFileSync(process.execPath, [...pastClock, 'bin/trailproof.js', 'demo', '--events', String(options.events), '--tenants', '1', '--data-dir', template], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_CLOCK_OFFSET_DAYS: String(options.receivedDaysAgo ?? 0) },
    });
    process.stdout.write(`fill: ${Math.round(options.events / ((Date.now() - t0) / 1000))} events/s\n`);
    await settle(template);
    await fs.writeFile(marker, `${JSON.stringify({ events: options.events, filledAt: new Date().toISOString(), settled: true })}\n`);
  } else {
    const filled = JSON.parse(await fs.readFile(marker, 'utf8'));
    if (!filled.settled) {
      // A template filled before the followers were caught up at fill time: brought level once.
      process.stdout.write(`settling ${template} (once)\n`);
      await settle(template);
      await fs.writeFile(marker, `${JSON.stringify({ ...filled, settled: true })}\n`);
    }
  }
  const copy = await fs.mkdtemp(path.join(os.tmpdir(), 'trailproof-bench-run-'));
  // cp -a keeps the owner of PostgreSQL's files (embedded PostgreSQL runs as another user under root).
  execFileSync('cp', ['-a', `${template}/.`, copy]);
  const server = await startServer({ dataDir: copy, ...(options.env ? { env: options.env } : {}) });
  const status = await api(server, server.adminKey, 'GET', '/v1/ledger/status?tenant=demo-1');
  process.stdout.write(`data set: demo-1, ${status.size} events (a copy of ${template})\n`);
  return {
    ...server,
    events: status.size,
    stop: async () => {
      await server.stop();
      await fs.rm(copy, { recursive: true, force: true });
    },
  };
}

/**
 * Brings a freshly filled data dir to the state a running server keeps, once: migrated, what the server's
 * committed-event followers derive (stats rollups, alert state) caught up, so that no run's server
 * spends a measurement catching up on the whole data set; then vacuumed and analysed, so that no run's
 * copy plans its queries without statistics or has autovacuum's first pass land inside a measurement.
 */
export async function settle(dataDir: string): Promise<void> {
  const pg = await openEmbeddedPostgres({ dataDir, user: { role: 'cli', command: 'bench settle' } });
  const sql = connect(pg.url, { max: 1 });
  try {
    await migrate(sql);
    for (const handler of [rollupHandler, alertHandler]) await new CommittedFollower({ sql, handler }).catchUp();
    await sql`vacuum (analyze)`;
  } finally {
    await sql.end();
    await pg.release();
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

export function percentiles(samples: number[]): { p50: number; p95: number; p99: number; max: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => round(s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(s[s.length - 1] ?? NaN), n: s.length };
}

export function round(x: number, digits = 2): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}

export async function writeResult(name: string, result: unknown): Promise<void> {
  const dir = path.resolve('bench/results');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  await fs.writeFile(
    file,
    `${JSON.stringify({ ...(result as object), machine: { cpus: os.cpus().length, node: process.version }, at: new Date().toISOString() }, null, 2)}\n`,
  );
  process.stdout.write(`\nwrote ${file}\n`);
}
