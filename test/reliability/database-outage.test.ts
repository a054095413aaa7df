/**
 * Loss of the database (issue 16, class 5): with PostgreSQL SIGKILLed, every route that needs the
 * database answers 503 UNAVAILABLE with Retry-After, quickly, also under a burst of ingest, and a
 * read's message talks about reading; once PostgreSQL is back, the same server process serves again.
 * The server runs its embedded PostgreSQL; the test kills its postmaster and starts it again with
 * the command line it had.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, postmasterPid, stopPostmasters, waitUntil } from '../helpers/postmasters.ts';
import { killStartedProcesses, randomAdminKey, request, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

const TENANT = 'outage';
const adminKey = randomAdminKey();
let dataDir: string;
let pgDir: string;
let server: ServerProcess;
let keys: { ingest: string; read: string };
let uid: string;

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tp-outage-'));
  pgDir = path.join(dataDir, 'pg');
  server = await startServerProcess({
    args: ['--data-dir', dataDir],
    env: { TRAILPROOF_ADMIN_KEY: adminKey, LOG_LEVEL: process.env.DEBUG_OUTAGE ? 'info' : 'fatal' },
    readyTimeoutMs: 120_000,
  });
  expect((await request(`${server.url}/v1/tenants`, adminKey, 'POST', { id: TENANT })).status).toBe(201);
  const key = async (scope: string) => (await request(`${server.url}/v1/keys`, adminKey, 'POST', { name: scope, scope, tenant: TENANT })).body.secret as string;
  keys = { ingest: await key('ingest'), read: await key('read') };
  const res = await request(`${server.url}/v1/events`, keys.ingest, 'POST', event(0));
  expect(res.status, res.text).toBe(201);
  uid = res.body.uid;
}, 180_000);

afterAll(async () => {
  await killStartedProcesses();
  await stopPostmasters(pgDir);
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
}, 60_000);

function event(n: number) {
  return { action: 'user.login', actor: { type: 'user', id: `u-${n}` }, targets: [], occurred_at: new Date(Date.now() - 60_000).toISOString() };
}

interface Answer {
  status: number;
  retryAfter: string | null;
  code: string | undefined;
  message: string | undefined;
  ms: number;
}

async function call(method: string, url: string, key: string | null, body?: unknown): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${server.url}${url}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let parsed: { error?: { code?: string; message?: string } } = {};
  try {
    parsed = JSON.parse(text);
  } catch {}
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    code: parsed.error?.code,
    message: parsed.error?.message,
    ms: performance.now() - started,
  };
}

/** Routes that need the database, with a key allowed to call them: each must say 503 while it is gone. */
const routes = (): [string, string, () => string | null, unknown?][] => [
  ['POST', '/v1/events', () => keys.ingest, event(1)],
  ['POST', '/v1/events', () => keys.ingest, { events: [event(2), event(3)] }],
  ['GET', '/v1/events', () => keys.read],
  ['GET', `/v1/events/${uid}`, () => keys.read],
  ['GET', `/v1/events/${uid}/proof`, () => keys.read],
  ['GET', '/v1/events/histogram', () => keys.read],
  ['GET', '/v1/events/feed?wait=0', () => keys.read],
  ['GET', '/v1/exports?format=jsonl', () => keys.read],
  ['GET', `/v1/ledger/status?tenant=${TENANT}`, () => adminKey],
  ['GET', `/t/${TENANT}/checkpoint`, () => keys.read],
  ['GET', '/v1/tenants', () => adminKey],
  ['POST', '/v1/tenants', () => adminKey, { id: 'during-outage' }],
  ['GET', '/v1/keys', () => adminKey],
  ['POST', '/v1/keys', () => adminKey, { name: 'x', scope: 'read', tenant: TENANT }],
];

describe('PostgreSQL SIGKILLed under a running server', () => {
  it('answers 503 UNAVAILABLE with Retry-After on every route, fast, then serves again once PostgreSQL is back', async () => {
    const pid = await postmasterPid(pgDir);
    const command = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((a) => a !== '');
    // The user it ran as: the server starts it as the data dir's owner, never as root.
    const { uid: owner, gid: group } = await fs.stat(pgDir);
    // A burst of ingest in flight as the database dies.
    const burst = Array.from({ length: 20 }, (_, n) => call('POST', '/v1/events', keys.ingest, event(100 + n)));
    process.kill(pid, 'SIGKILL');
    await waitUntil(async () => !(await isAlive(pid)), 10_000);

    if (process.env.DEBUG_OUTAGE) {
      const { execSync } = await import('node:child_process');
      for (const t of [3000, 12000])
        setTimeout(async () => {
          console.log(t, execSync('ps -eo pid,ppid,stat,wchan:32,args | grep [p]ostgres || true').toString());
          const m = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${adminKey}` } })
            .then((r) => r.text())
            .catch((e) => String(e));
          console.log(
            m
              .split('\n')
              .filter((l) => /group_commit_(queue|in_flight)|pool/.test(l))
              .join('\n'),
          );
        }, t);
    }
    const burstAnswers = await Promise.all(burst);
    if (process.env.DEBUG_OUTAGE) console.log(burstAnswers.map((a) => `${a.status} ${Math.round(a.ms)} ${a.message}`).join('\n'));
    for (const answer of burstAnswers) {
      expect([201, 503]).toContain(answer.status);
      expect(answer.ms).toBeLessThan(10_000);
    }
    for (const [method, url, key, body] of routes()) {
      const answer = await call(method, url, key(), body);
      if (process.env.DEBUG_OUTAGE) console.log(method, url, answer);
      expect({ route: `${method} ${url.split('?')[0]}`, status: answer.status, code: answer.code }).toEqual({
        route: `${method} ${url.split('?')[0]}`,
        status: 503,
        code: 'UNAVAILABLE',
      });
      expect(answer.retryAfter).toMatch(/^\d+$/);
      expect(answer.ms).toBeLessThan(10_000);
      if (method === 'GET') expect(answer.message).not.toMatch(/stor/);
    }

    // PostgreSQL back, with the command line it had; the same server process recovers.
    let refusal = '';
    await waitUntil(async () => {
      const child = spawn(command[0]!, command.slice(1), { detached: true, uid: owner, gid: group, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr.on('data', (d) => {
        refusal += d;
      });
      child.unref();
      await new Promise((r) => setTimeout(r, 1000));
      if (child.exitCode === null) child.stderr.destroy();
      else if (process.env.DEBUG_OUTAGE) console.log('restart refused', child.exitCode, child.signalCode, command.join(' '), refusal);
      return child.exitCode === null;
    }, 60_000);
    await waitUntil(async () => (await call('GET', '/v1/events', keys.read)).status === 200, 60_000);
    // Every route serves again within seconds: a pool connection that met the outage may still
    // answer 503 once before it is replaced, which a client retries after Retry-After.
    for (const [method, url, key, body] of routes()) {
      let answer = await call(method, url, key(), body);
      const deadline = Date.now() + 15_000;
      while (answer.status === 503 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        answer = await call(method, url, key(), body);
      }
      expect(answer.status, `${method} ${url}: ${answer.message}`).toBeLessThan(300);
    }
  }, 240_000);
});
