/**
 * One owner per data dir (src/store/data-dir-owner.ts), with real processes on one embedded
 * PostgreSQL:
 *  - a second `serve` on the data dir is refused with one line naming the first, which keeps serving;
 *  - CLI commands beside a server share its database, say nothing about adopting it, never stop it;
 *  - a server stopped while a command uses the database leaves it to the command, which, last out,
 *    stops it; a server started while a command runs takes the data dir over from it;
 *  - a server that adopts the database of a SIGKILLed owner stops it at shutdown, nobody else;
 *  - a CLI command that started the database stops it, also when interrupted;
 *  - of two servers started at once on a fresh data dir, exactly one serves.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.ts';
import { createTenant, listTenants } from '../../src/tenant/tenant-repository.ts';
import { isAlive, postmasterPid, postmastersOf, stopPostmasters, waitUntil } from '../helpers/postmasters.ts';
import {
  freePort,
  killStartedProcesses,
  randomAdminKey,
  request,
  runCli,
  startCli,
  startServerProcess,
  TEST_LEDGER_KEY,
  type ServerProcess,
} from '../helpers/server-process.ts';

const TENANT = 'owned';
const adminKey = randomAdminKey();
const env = { TRAILPROOF_ADMIN_KEY: adminKey, TRAILPROOF_LEDGER_KEY: TEST_LEDGER_KEY, LOG_LEVEL: 'warn' };
const dirs: string[] = [];
let dataDir: string;
let pgDir: string;
let server: ServerProcess;
/** Events this file wrote through the API and acknowledged. */
let written = 0;

const start = (dir = dataDir) => startServerProcess({ args: ['--data-dir', dir], env, readyTimeoutMs: 120_000 });
const cli = (...args: string[]) => runCli(['--data-dir', dataDir, ...args], env, 120_000);
const openCommandDatabase = () =>
  openDatabase({ databaseUrl: undefined, dataDir, dbPoolSize: 2 }, { name: 'trailproof-test', user: { role: 'cli', command: 'test' } });

beforeAll(async () => {
  dataDir = await tempDir();
  pgDir = path.join(dataDir, 'pg');
});

afterAll(async () => {
  await killStartedProcesses();
  for (const dir of dirs) {
    await stopPostmasters(path.join(dir, 'pg'));
    await fs.rm(dir, { recursive: true, force: true });
  }
}, 60_000);

describe('one owner per data dir', () => {
  it('refuses a second serve with one line naming the first, which keeps serving and ingesting', async () => {
    server = await start();
    expect((await request(`${server.url}/v1/tenants`, adminKey, 'POST', { id: TENANT })).status).toBe(201);
    await ingest(server, 5);
    const postmaster = await postmasterPid(pgDir);

    const second = await runCli(['serve', '--port', String(await freePort()), '--data-dir', dataDir], env, 120_000);
    expect(second.code).toBe(1);
    expect(second.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining('DATA_DIR_IN_USE')]);
    expect(second.stderr).toContain(`pid ${server.child.pid}`);
    expect(second.stderr).toContain(server.url);

    expect(await postmasterPid(pgDir)).toBe(postmaster);
    expect(await isAlive(postmaster)).toBe(true);
    expect((await request(`${server.url}/readyz`, null)).status).toBe(200);
    await ingest(server, 5);
    await expectStored(server);
  });

  it('lets CLI commands run beside the server: they share its database quietly and leave it serving', async () => {
    const postmaster = await postmasterPid(pgDir);
    const created = await cli('tenants', 'create', 'beside');
    expect(created, created.stderr).toMatchObject({ code: 0, stderr: '' });
    const demo = await cli('demo', '--events', '300', '--tenants', '1');
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stderr).not.toMatch(/adopting|PostgreSQL/);
    const key = await cli('keys', 'create', '--scope', 'read', '--tenant', 'demo-1', '--json');
    expect(key, key.stderr).toMatchObject({ code: 0, stderr: '' });
    // The server checkpoints what the command wrote (it polls for new leaves); the audit needs that.
    const readKey = JSON.parse(key.stdout).secret as string;
    await waitUntil(async () => {
      const status = (await request(`${server.url}/v1/ledger/status`, readKey)).body;
      return status.size >= 300 && status.checkpoint_lag === 0;
    }, 30_000);
    const audit = await cli('ledger', 'audit', '--tenant', 'demo-1');
    expect(audit.code, audit.stderr + audit.stdout).toBe(0);

    expect(await postmasterPid(pgDir)).toBe(postmaster);
    const page = await request(`${server.url}/v1/events?limit=1`, readKey);
    expect(page.status, page.text).toBe(200);
    expect(page.body.data).toHaveLength(1);
    await ingest(server, 5);
    await expectStored(server);
  });

  // A process on the data dir that is not a server: the test itself, through the code every CLI
  // command opens the database with, so it can hold a connection across the server's stop or start.
  it('leaves the database to the commands still using it when the server stops; one owns it, the last out stops it', async () => {
    const postmaster = await postmasterPid(pgDir);
    const first = await openCommandDatabase();
    const second = await openCommandDatabase();
    expect([first.embedded!.owner, second.embedded!.owner]).toEqual([false, false]);
    await createTenant(first.sql, { id: 'left-to-us' });

    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    await waitUntil(async () => first.embedded!.owner || second.embedded!.owner, 30_000);
    expect(first.embedded!.owner && second.embedded!.owner).toBe(false);
    expect(await isAlive(postmaster)).toBe(true);
    await createTenant(second.sql, { id: 'still-ours' });
    expect((await listTenants(first.sql)).map((t) => t.id)).toEqual(expect.arrayContaining(['left-to-us', 'still-ours']));

    // The owner leaves first: the other command takes over and keeps working.
    const [owner, member] = first.embedded!.owner ? [first, second] : [second, first];
    await owner.close();
    expect(await isAlive(postmaster)).toBe(true);
    await waitUntil(async () => member.embedded!.owner, 30_000);
    await createTenant(member.sql, { id: 'last-out' });

    await member.close();
    expect(await isAlive(postmaster)).toBe(false);
    expect(await postmastersOf(pgDir)).toEqual([]);
  });

  it('hands the data dir over from a command to a server started meanwhile, which keeps serving after the command ends', async () => {
    const db = await openCommandDatabase();
    expect(db.embedded!.owner).toBe(true);
    const postmaster = await postmasterPid(pgDir);

    server = await start();
    expect(db.embedded!.owner).toBe(false);
    expect(await postmasterPid(pgDir)).toBe(postmaster);
    await createTenant(db.sql, { id: 'handed-over' });
    await db.close();

    expect(await isAlive(postmaster)).toBe(true);
    expect((await request(`${server.url}/readyz`, null)).status).toBe(200);
    await ingest(server, 5);
    await expectStored(server);
  });

  it('adopts the database of a SIGKILLed server and stops it at shutdown; nobody else does', async () => {
    const postmaster = await postmasterPid(pgDir);
    expect((await server.stop('SIGKILL')).signal).toBe('SIGKILL');
    expect(await isAlive(postmaster)).toBe(true);

    server = await start();
    expect(await postmasterPid(pgDir)).toBe(postmaster);
    const list = await cli('tenants', 'list', '--json');
    expect(list.code, list.stderr).toBe(0);
    expect(await isAlive(postmaster)).toBe(true);
    await ingest(server, 5);
    await expectStored(server);

    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await isAlive(postmaster)).toBe(false);
    expect(await postmastersOf(pgDir)).toEqual([]);
  });

  it('lets a CLI command alone adopt a database left by a SIGKILLed server, and stop it when done', async () => {
    server = await start();
    const postmaster = await postmasterPid(pgDir);
    expect((await server.stop('SIGKILL')).signal).toBe('SIGKILL');
    const list = await cli('tenants', 'list', '--json');
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).map((t: { id: string }) => t.id)).toContain(TENANT);
    expect(list.stderr).toContain(`adopting the PostgreSQL server left running on port`);
    expect(await isAlive(postmaster)).toBe(false);
    expect(await postmastersOf(pgDir)).toEqual([]);
  });

  it('stops the database a CLI command started when the command is interrupted', async () => {
    const fresh = await tempDir();
    const demo = startCli(['--data-dir', fresh, 'demo', '--events', '1000000', '--tenants', '1'], env, 120_000);
    await waitUntil(async () => {
      if (demo.child.exitCode !== null) throw new Error(`demo ended early: ${demo.stderr()}`);
      return /\d+\/1000000 events/.test(demo.stderr());
    }, 90_000);
    expect(await postmastersOf(path.join(fresh, 'pg'))).toHaveLength(1);
    demo.child.kill('SIGINT');
    const result = await demo.done;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).not.toContain('error:');
    expect(await postmastersOf(path.join(fresh, 'pg'))).toEqual([]);
  });

  it('serves with exactly one of two servers started at once on a fresh data dir', async () => {
    const fresh = await tempDir();
    const results = await Promise.allSettled([start(fresh), start(fresh)]);
    const serving = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    expect(serving).toHaveLength(1);
    expect(refused).toEqual([expect.stringContaining('DATA_DIR_IN_USE')]);
    const [only] = serving;
    expect((await request(`${only!.url}/v1/tenants`, adminKey, 'POST', { id: 'race' })).status).toBe(201);
    expect(await only!.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await postmastersOf(path.join(fresh, 'pg'))).toEqual([]);
  });
}, 300_000);

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tp-owner-'));
  dirs.push(dir);
  return dir;
}

async function ingest(s: ServerProcess, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await request(`${s.url}/v1/events`, adminKey, 'POST', { tenant: TENANT, action: 'user.login', actor: { type: 'user', id: `u${written}` } });
    expect(res.status, res.text).toBe(201);
    written++;
  }
}

/** Every event this file acknowledged is stored, once. */
async function expectStored(s: ServerProcess): Promise<void> {
  const page = await request(`${s.url}/v1/events?tenant=${TENANT}&action=user.login&limit=1000`, adminKey);
  expect(page.status, page.text).toBe(200);
  expect(page.body.data).toHaveLength(written);
}
