/**
 * The embedded default (src/store/embedded-postgres.ts): `serve` with no
 * DATABASE_URL runs its own PostgreSQL under `--data-dir`, detached, so that
 *  - a SIGKILLed Trailproof leaves PostgreSQL running and the next start adopts it, data intact;
 *  - SIGTERM stops PostgreSQL too, and a cold start finds the data;
 *  - a stale `postmaster.pid` (its server died, or its pid now belongs to another program) does not
 *    prevent a start.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, postmasterPid, postmastersOf, stopPostmasters, waitUntil } from '../helpers/postmasters.ts';
import { killStartedProcesses, randomAdminKey, request, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

const TENANT = 'embedded';
const adminKey = randomAdminKey();
const occurredAt = new Date(Date.now() - 3_600_000).toISOString();
let dataDir: string;
let pgDir: string;
let server: ServerProcess | undefined;
/** client id → uid of every acknowledged event. */
const acknowledged = new Map<string, string>();

const start = () => startServerProcess({ args: ['--data-dir', dataDir], env: { TRAILPROOF_ADMIN_KEY: adminKey, LOG_LEVEL: 'warn' }, readyTimeoutMs: 120_000 });

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tp-embedded-'));
  pgDir = path.join(dataDir, 'pg');
});

afterAll(async () => {
  await killStartedProcesses();
  // Whatever a failed test left running: our own cluster's postmaster, found by its data dir.
  await stopPostmasters(pgDir);
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
}, 60_000);

describe('embedded PostgreSQL across restarts', () => {
  it('survives SIGKILL of Trailproof: PostgreSQL keeps running and the next start adopts it', async () => {
    server = await start();
    expect((await request(`${server.url}/v1/tenants`, adminKey, 'POST', { id: TENANT })).status).toBe(201);
    await write(server, 'first', 30);
    const postmaster = await postmasterPid(pgDir);
    expect(await isAlive(postmaster)).toBe(true);

    expect((await server.stop('SIGKILL')).signal).toBe('SIGKILL');
    // Detached on purpose: PostgreSQL outlives the process that started it.
    expect(await isAlive(postmaster)).toBe(true);

    server = await start();
    expect(await postmasterPid(pgDir)).toBe(postmaster); // adopted, not restarted
    await expectAllReadable(server);
  });

  it('stops PostgreSQL on SIGTERM, and a cold start still has the data', async () => {
    const postmaster = await postmasterPid(pgDir);
    expect(await server!.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await isAlive(postmaster)).toBe(false);
    expect(await exists(path.join(pgDir, 'postmaster.pid'))).toBe(false);
    expect(await postmastersOf(pgDir)).toEqual([]);

    server = await start();
    expect(await postmasterPid(pgDir)).not.toBe(postmaster);
    await expectAllReadable(server);
    await write(server, 'cold', 5);
  });

  it('starts over a stale postmaster.pid whose server is dead', async () => {
    expect(await server!.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await postmastersOf(pgDir)).toEqual([]);
    const dead = await deadPid();
    await writeFakePidFile(dead);

    server = await start();
    expect(await postmasterPid(pgDir)).not.toBe(dead);
    await expectAllReadable(server);
  });

  it('starts over a stale postmaster.pid whose pid now belongs to another program called postgres', async () => {
    expect(await server!.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    // After a reboot, the pid in a lock file can belong to anything, e.g. another PostgreSQL.
    const impostor = spawn('bash', ['-c', 'exec -a postgres sleep 120'], { stdio: 'ignore' });
    try {
      await waitUntil(async () => (await fs.readFile(`/proc/${impostor.pid}/cmdline`, 'utf8').catch(() => '')).startsWith('postgres'), 5000);
      await writeFakePidFile(impostor.pid!);

      server = await start();
      expect(await postmasterPid(pgDir)).not.toBe(impostor.pid);
      await expectAllReadable(server);
      expect(await isAlive(impostor.pid!)).toBe(true); // left alone
    } finally {
      impostor.kill('SIGKILL');
    }
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await postmastersOf(pgDir)).toEqual([]);
  });
}, 60_000);

async function write(s: ServerProcess, prefix: string, n: number): Promise<void> {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  // Half one by one, half as one batch.
  const half = Math.floor(n / 2);
  for (const id of ids.slice(0, half)) {
    const res = await request(`${s.url}/v1/events`, adminKey, 'POST', event(id));
    expect(res.status, res.text).toBe(201);
    acknowledged.set(id, res.body.uid);
  }
  const batch = ids.slice(half);
  const res = await request(`${s.url}/v1/events`, adminKey, 'POST', { events: batch.map(event) });
  expect(res.status, res.text).toBe(200);
  expect(res.body.accepted).toHaveLength(batch.length);
  for (const a of res.body.accepted as { index: number; uid: string }[]) acknowledged.set(batch[a.index]!, a.uid);
}

function event(id: string) {
  return { tenant: TENANT, id, action: 'file.downloaded', occurred_at: occurredAt, actor: { type: 'user', id: 'carol' } };
}

async function expectAllReadable(s: ServerProcess): Promise<void> {
  const page = await request(`${s.url}/v1/events?tenant=${TENANT}&action=file.downloaded&limit=1000`, adminKey);
  expect(page.status, page.text).toBe(200);
  const stored = new Map((page.body.data as { id: string; uid: string }[]).map((e) => [e.id, e.uid]));
  expect(page.body.data).toHaveLength(acknowledged.size);
  for (const [id, uid] of acknowledged) expect(stored.get(id), id).toBe(uid);
  const one = [...acknowledged.values()][0]!;
  expect((await request(`${s.url}/v1/events/${one}`, adminKey)).status).toBe(200);
}

/** A postmaster.pid as PostgreSQL writes it (miscadmin.h LOCK_FILE_LINE_*), naming `pid`. */
async function writeFakePidFile(pid: number): Promise<void> {
  const lines = [String(pid), pgDir, String(Math.floor(Date.now() / 1000) - 60), '54321', '', '127.0.0.1', '  5432001         0', 'ready   ', ''];
  await fs.writeFile(path.join(pgDir, 'postmaster.pid'), lines.join('\n'), { mode: 0o600 });
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn('true', { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  expect(await isAlive(child.pid!)).toBe(false);
  return child.pid!;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
