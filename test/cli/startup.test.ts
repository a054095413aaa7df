/**
 * An honest start, with the real CLI in its own process:
 *  - a port in use stops `serve` before it creates anything (no data dir, no database, no admin
 *    key), so the next start still shows the first admin key, with the console URL and an
 *    `export KEY=…` line; a start that shows no key says how to mint one;
 *  - a start that fails after starting the embedded database stops it;
 *  - DATABASE_URL pointing at nothing, at an unknown host or with a wrong password, and a port in
 *    use, are one line each: what is wrong (the URL's password hidden) and what to do, exit code 1,
 *    no stack trace; CLI commands say the same.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../../src/store/database.ts';
import { connect } from '../../src/store/db.ts';
import { postmastersOf, stopPostmasters } from '../helpers/postmasters.ts';
import { freePort, killStartedProcesses, request, runCli, startServerProcess, TEST_LEDGER_KEY } from '../helpers/server-process.ts';

const env = { TRAILPROOF_LEDGER_KEY: TEST_LEDGER_KEY };
const dirs: string[] = [];
let held: net.Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (held ? held.close(() => resolve()) : resolve()));
  held = undefined;
  await killStartedProcesses();
});

afterAll(async () => {
  for (const dir of dirs) {
    for (const pgDir of [path.join(dir, 'pg'), path.join(dir, 'data', 'pg')]) await stopPostmasters(pgDir);
    await fs.rm(dir, { recursive: true, force: true });
  }
}, 60_000);

describe('a start that cannot listen', () => {
  it('creates nothing, and the next start shows the first admin key with the console URL and an export line', async () => {
    const dataDir = path.join(await tempDir(), 'data');
    const port = await holdPort();
    const failed = await runCli(['serve', '--port', String(port), '--data-dir', dataDir], env);
    expectOneLineError(failed, 'PORT_IN_USE');
    expect(failed.stderr).toContain(`port ${port}`);
    expect(await exists(dataDir)).toBe(false);
    expect(await postmastersOf(path.join(dataDir, 'pg'))).toEqual([]);

    const server = await startServerProcess({ args: ['--data-dir', dataDir], env, readyTimeoutMs: 120_000 });
    expect(server.output()).toContain(`Console: ${server.url}/`);
    const key = /^ {4}export KEY=(tpk_\S+)$/m.exec(server.output())?.[1];
    expect(key, server.output()).toBeDefined();
    expect((await request(`${server.url}/v1/tenants`, key!)).status).toBe(200);

    // Restarted, it has no key to show: it says how to mint one, and that command works beside it.
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const again = await startServerProcess({ args: ['--data-dir', dataDir], env, readyTimeoutMs: 120_000 });
    expect(again.output()).not.toContain('export KEY=');
    const mint = /^ {4}npx trailproof (.*keys create --scope admin)$/m.exec(again.output())?.[1];
    expect(mint, again.output()).toBe(`--data-dir ${dataDir} keys create --scope admin`);
    const minted = await runCli([...mint!.split(' '), '--json'], env);
    expect(minted.code, minted.stderr).toBe(0);
    expect((await request(`${again.url}/v1/tenants`, JSON.parse(minted.stdout).secret)).status).toBe(200);
    expect(await again.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
}, 300_000);

describe('a start that fails after starting the embedded database', () => {
  it('stops the database it started', async () => {
    const dataDir = await tempDir();
    // A database whose record of migration 0012 is gone: the start applies it again, which fails.
    const db = await openDatabase({ databaseUrl: undefined, dataDir, dbPoolSize: 1 }, { name: 'trailproof-test' });
    const owner = connect(db.url, { max: 1 });
    await owner`delete from schema_migrations where version = 12`;
    await owner.end();
    await db.close();
    expect(await postmastersOf(path.join(dataDir, 'pg'))).toEqual([]);

    const failed = await runCli(['serve', '--port', String(await freePort()), '--data-dir', dataDir], env, 120_000);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('read_records');
    expect(await postmastersOf(path.join(dataDir, 'pg'))).toEqual([]);
  });
}, 300_000);

describe('startup errors for people', () => {
  const secret = 'hunter2-not-for-logs';

  it('DATABASE_URL pointing at nothing', async () => {
    const port = await freePort();
    const result = await runCli(['serve', '--port', String(await freePort())], { ...env, DATABASE_URL: `postgres://app:${secret}@127.0.0.1:${port}/audit` });
    expectOneLineError(result, 'DATABASE_CONNECT_FAILED', secret);
    expect(result.stderr).toContain(`postgres://app:***@127.0.0.1:${port}/audit (DATABASE_URL): nothing accepts connections there`);
  });

  it('DATABASE_URL with a host that does not resolve', async () => {
    const result = await runCli(['serve', '--port', String(await freePort())], { ...env, DATABASE_URL: `postgres://app:${secret}@no-such-host.invalid/audit` });
    expectOneLineError(result, 'DATABASE_CONNECT_FAILED', secret);
    expect(result.stderr).toContain('postgres://app:***@no-such-host.invalid/audit (DATABASE_URL): the host name does not resolve');
  });

  it('DATABASE_URL with a wrong password', async () => {
    const url = new URL(inject('adminDatabaseUrl'));
    url.password = secret;
    const result = await runCli(['serve', '--port', String(await freePort())], { ...env, DATABASE_URL: url.toString() });
    expectOneLineError(result, 'DATABASE_CONNECT_FAILED', secret);
    expect(result.stderr).toContain(`the password of user "${decodeURIComponent(url.username)}" is wrong`);
    expect(result.stderr).toContain(`${url.username}:***@`);
  });

  it('a port in use', async () => {
    const port = await holdPort();
    const result = await runCli(['serve', '--port', String(port)], { ...env, DATABASE_URL: inject('adminDatabaseUrl') });
    expectOneLineError(result, 'PORT_IN_USE');
    expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is in use by another program; stop it, or choose another port with --port or PORT`);
  });

  it('the same for CLI commands', async () => {
    const port = await freePort();
    const result = await runCli(['tenants', 'list'], { DATABASE_URL: `postgres://app:${secret}@127.0.0.1:${port}/audit` });
    expectOneLineError(result, 'DATABASE_CONNECT_FAILED', secret);
  });
}, 120_000);

/** Exit code 1 and a single `error: … (CODE)` line on stderr, with no stack trace and no secret. */
function expectOneLineError(result: { code: number | null; stdout: string; stderr: string }, code: string, secret?: string): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr).toMatch(new RegExp(`^error: [^\\n]+ \\(${code}\\)\\n$`));
  expect(result.stdout).toBe('');
  if (secret) expect(result.stderr + result.stdout).not.toContain(secret);
}

async function holdPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  held = server;
  return (server.address() as net.AddressInfo).port;
}

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tp-startup-'));
  dirs.push(dir);
  return dir;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
