/**
 * The hardening probe of issue 16, against a real `trailproof serve` (its own process, embedded
 * PostgreSQL in a scratch data dir). Prints counts, never asserts:
 *  - fuzz: every operation of GET /openapi.json, each path and query parameter set to each edge
 *    value in turn, then `--per-route` generated requests (test/helpers/request-fuzz.ts); 5xx seen;
 *  - cross-tenant: every operation, with each key of tenant A (ingest, read, admin), its tenant and
 *    ids set to tenant B's; answers that carry B's data, and writes B received;
 *  - tamper: a derived column of each kind edited as superuser with the triggers off, then
 *    `trailproof ledger audit`; cases detected (the full set with body, leaf and checkpoint cases is
 *    test/tamper/, run by the suite);
 *  - stalled uploads: bench/stalled-uploads.ts with 100 unauthenticated connections (its figures);
 *  - PostgreSQL SIGKILLed: the answers of a burst and of a route list while it is gone, then
 *    whether the same server process serves again once it is back.
 *   npx tsx bench/probe.ts [--per-route 200] [--skip stalled,sigkill]
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import postgres from 'postgres';
import { edgeSweep, operations, requestArbitrary, type FuzzRequest, type OpenApiDocument } from '../test/helpers/request-fuzz.ts';
import { isAlive, postmasterPid, waitUntil } from '../test/helpers/postmasters.ts';
import { api, startServer, writeResult } from './lib.ts';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);
const perRoute = Number(arg('--per-route', '200'));
const skip = new Set(arg('--skip', '').split(','));

const server = await startServer();
const pgDir = path.join(server.dataDir, 'pg');
const results: Record<string, unknown> = {};

async function send(req: FuzzRequest, key: string | null): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(`${server.url}${req.url}`, {
      method: req.method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(req.payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(req.payload === undefined || req.method === 'GET' ? {} : { body: req.payload }),
      signal: AbortSignal.timeout(70_000),
    });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    return { status: 0, text: String(err) };
  }
}

const key = async (scope: string, tenant: string) =>
  (await api(server, server.adminKey, 'POST', '/v1/keys', { name: `${scope} ${tenant}`, scope, tenant })).secret as string;

try {
  for (const tenant of ['probe-a', 'probe-b']) await api(server, server.adminKey, 'POST', '/v1/tenants', { id: tenant });
  const keys = {
    a: { ingest: await key('ingest', 'probe-a'), read: await key('read', 'probe-a'), admin: await key('admin', 'probe-a') },
    b: { ingest: await key('ingest', 'probe-b'), read: await key('read', 'probe-b'), admin: await key('admin', 'probe-b') },
  };
  const marker = 'secret-marker-of-tenant-b';
  const bEvent = await api(server, keys.b.ingest, 'POST', '/v1/events', {
    action: 'probe.secret',
    actor: { type: 'user', id: marker },
    targets: [{ type: 'doc', id: marker }],
    context: { ip: '192.0.2.1' },
  });
  await api(server, keys.a.ingest, 'POST', '/v1/events', { action: 'probe.own', actor: { type: 'user', id: 'alice' } });
  const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApiDocument;
  const ops = operations(spec);

  // Fuzz.
  const fuzz: Record<string, { sent: number; fivexx: number }> = {};
  const examples: string[] = [];
  for (const op of ops) {
    const route = `${op.method} ${op.path}`;
    const requests = [...edgeSweep(op, 'probe-a'), ...fc.sample(requestArbitrary(op, ['probe-a']), perRoute)];
    const counts = { sent: 0, fivexx: 0 };
    for (const req of requests) {
      const res = await send(req, keys.a.admin);
      counts.sent++;
      if (res.status >= 500 || res.status === 0) {
        counts.fivexx++;
        if (examples.length < 20) examples.push(`${res.status} ${req.method} ${req.url}: ${res.text.slice(0, 120)}`);
      }
    }
    fuzz[route] = counts;
  }
  const sent = Object.values(fuzz).reduce((n, c) => n + c.sent, 0);
  const fivexx = Object.values(fuzz).reduce((n, c) => n + c.fivexx, 0);
  results.fuzz = { operations: ops.length, requests: sent, per_operation_min: Math.min(...Object.values(fuzz).map((c) => c.sent)), fivexx, examples };
  process.stdout.write(
    `fuzz: ${ops.length} operations, ${sent} requests (≥ ${(results.fuzz as { per_operation_min: number }).per_operation_min} each), 5xx: ${fivexx}\n`,
  );
  for (const e of examples) process.stdout.write(`  ${e}\n`);

  // Cross-tenant: A's keys, B's tenant and ids everywhere a tenant or id goes.
  const bIds = ['probe-b', bEvent.uid as string, marker];
  let attempts = 0;
  let leaks = 0;
  const leakExamples: string[] = [];
  const before = await countEvents(keys.b.read);
  for (const op of ops) {
    const params = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    for (const id of bIds) {
      const url = params.reduce((p, n) => p.replace(`{${n}}`, encodeURIComponent(id)), op.path);
      const query = op.query.includes('tenant') ? '?tenant=probe-b' : '';
      const payload =
        op.body === null ? undefined : JSON.stringify({ tenant: 'probe-b', id, name: id, action: 'probe.forged', actor: { type: 'user', id: 'm' } });
      for (const k of Object.values(keys.a)) {
        attempts++;
        const res = await send({ method: op.method, url: `${url}${query}`, ...(payload === undefined ? {} : { payload }) }, k);
        if (res.status < 300 && res.text.includes(marker)) {
          leaks++;
          if (leakExamples.length < 10) leakExamples.push(`${res.status} ${op.method} ${url}${query}`);
        }
      }
    }
  }
  const writes = (await countEvents(keys.b.read)) - before;
  results.cross_tenant = { attempts, leaks, writes_into_b: writes, examples: leakExamples };
  process.stdout.write(`cross-tenant: ${attempts} attempts, ${leaks} answers with tenant B's data, ${writes} events written into B\n`);

  // Tamper: one derived column of each kind, detected by `trailproof ledger audit`?
  results.tamper = await tamperCases();

  if (!skip.has('stalled')) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/stalled-uploads.ts', '--connections', '100'], { encoding: 'utf8' });
    results.stalled_uploads = out.trim().split('\n').slice(-6);
    process.stdout.write(`stalled uploads (100, unauthenticated):\n${out.trim()}\n`);
  }

  if (!skip.has('sigkill')) results.sigkill = await sigkill(keys.a);
  await writeResult('probe', results);
} finally {
  await server.stop();
}

async function countEvents(readKey: string): Promise<number> {
  const page = await api(server, readKey, 'GET', '/v1/events?limit=1000&exclude_action=audit_log.*');
  return (page.data as unknown[]).length;
}

/** The embedded PostgreSQL's superuser (src/store/embedded-postgres.ts), for the attacker. */
async function superuser(): Promise<postgres.Sql> {
  const port = Number((await fs.readFile(path.join(pgDir, 'postmaster.pid'), 'utf8')).split('\n')[3]);
  const password = (await fs.readFile(path.join(server.dataDir, 'pg-password'), 'utf8')).trim();
  return postgres({ host: '127.0.0.1', port, database: 'postgres', username: 'trailproof', password, max: 1, onnotice: () => {} });
}

async function tamperCases(): Promise<{ tried: number; detected: number; missed: string[] }> {
  const { DATABASE_URL: _, ...env } = process.env;
  const audit = () => {
    try {
      execFileSync(process.execPath, ['bin/trailproof.js', 'ledger', 'audit', '--tenant', 'probe-b', '--data-dir', server.dataDir], {
        env,
        encoding: 'utf8',
        stdio: 'pipe',
      });
      return 'clean';
    } catch (err) {
      return String((err as { stdout?: string }).stdout ?? err);
    }
  };
  const cases: [string, string, string][] = [
    ['action', `update events set action = 'forged' where tenant_id = 'probe-b'`, `update events set action = body->>'action' where tenant_id = 'probe-b'`],
    [
      'actor_id',
      `update events set actor_id = 'forged' where tenant_id = 'probe-b'`,
      `update events set actor_id = body->'actor'->>'id' where tenant_id = 'probe-b'`,
    ],
    [
      'outcome',
      `update events set outcome = 'failure' where tenant_id = 'probe-b'`,
      `update events set outcome = body->>'outcome' where tenant_id = 'probe-b'`,
    ],
    [
      'ip',
      `update events set ip = '203.0.113.9' where tenant_id = 'probe-b'`,
      `update events set ip = (body->'context'->>'ip')::inet where tenant_id = 'probe-b'`,
    ],
    [
      'event_targets',
      `update event_targets set target_id = 'forged' where tenant_id = 'probe-b'`,
      `update event_targets set target_id = 'secret-marker-of-tenant-b' where tenant_id = 'probe-b'`,
    ],
  ];
  let sql: postgres.Sql;
  try {
    sql = await superuser();
    await sql`select 1`;
  } catch (err) {
    process.stdout.write(`tamper: no superuser connection (${String(err)}); run test/tamper/ instead\n`);
    return { tried: 0, detected: 0, missed: [] };
  }
  const missed: string[] = [];
  let detected = 0;
  for (const [column, edit, undo] of cases) {
    await sql.begin(async (tx) => {
      await tx.unsafe('set local session_replication_role = replica');
      await tx.unsafe(edit);
    });
    const out = audit();
    if (out.includes(`${column} column`)) detected++;
    else missed.push(`${column}: ${out.slice(0, 200)}`);
    await sql.begin(async (tx) => {
      await tx.unsafe('set local session_replication_role = replica');
      await tx.unsafe(undo);
    });
  }
  await sql.end();
  process.stdout.write(`tamper: ${cases.length} derived-column cases tried, ${detected} detected by \`ledger audit\`\n`);
  return { tried: cases.length, detected, missed };
}

async function sigkill(k: { ingest: string; read: string; admin: string }): Promise<unknown> {
  const pid = await postmasterPid(pgDir);
  const command = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((a) => a !== '');
  const { uid, gid } = await fs.stat(pgDir);
  const event = (n: number) => JSON.stringify({ action: 'probe.kill', actor: { type: 'user', id: `k${n}` } });
  const burst = Array.from({ length: 50 }, (_, n) => send({ method: 'POST', url: '/v1/events', payload: event(n) }, k.ingest));
  process.kill(pid, 'SIGKILL');
  await waitUntil(async () => !(await isAlive(pid)), 10_000);
  const statuses: Record<string, number> = {};
  const count = (s: number) => (statuses[s] = (statuses[s] ?? 0) + 1);
  for (const r of await Promise.all(burst)) count(r.status);
  const during = [
    ['GET', '/v1/events', k.read],
    ['GET', '/v1/events/histogram', k.read],
    ['GET', '/v1/events/feed?wait=0', k.read],
    ['GET', '/v1/exports?format=jsonl', k.read],
    ['GET', '/v1/ledger/status', k.admin],
    ['GET', '/t/probe-a/checkpoint', k.read],
    ['GET', '/v1/keys', k.admin],
    ['POST', '/v1/events', k.ingest],
  ] as const;
  for (let round = 0; round < 5; round++) {
    for (const [method, url, key] of during) count((await send({ method, url, ...(method === 'POST' ? { payload: event(1000 + round) } : {}) }, key)).status);
  }
  const down = performance.now();
  const child = spawn(command[0]!, command.slice(1), { detached: true, uid, gid, stdio: 'ignore' });
  child.unref();
  let recovered = false;
  await waitUntil(async () => (await send({ method: 'GET', url: '/v1/events' }, k.read)).status === 200, 90_000)
    .then(() => (recovered = true))
    .catch(() => {});
  const after = recovered ? (await send({ method: 'POST', url: '/v1/events', payload: event(9999) }, k.ingest)).status : 0;
  const result = {
    answers_while_down: statuses,
    recovered_without_restart: recovered,
    recovery_s: Math.round((performance.now() - down) / 100) / 10,
    ingest_after: after,
  };
  process.stdout.write(`postgres SIGKILL: answers while down ${JSON.stringify(statuses)}; recovered without a restart: ${recovered}; ingest after: ${after}\n`);
  return result;
}
