/**
 * `trailproof streams …` against a real database next to a running server: a destination created
 * by the CLI is delivered by the server; status, pause, replay, resume, list and delete work and
 * are audited; the secret is never printed, by the CLI or in the server's log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/event/types.ts';
import { startHttpReceiver, type HttpReceiver } from '../../src/stream/testing/http-receiver.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killStartedProcesses, randomAdminKey, request, runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

const adminKey = randomAdminKey();
const SECRET = `cli-stream-secret-${Date.now()}`;
const SECRET_KEY = 'cli-test-secret-key-0123456789abcdef0123';
let db: TestDatabase;
let server: ServerProcess;
let receiver: HttpReceiver;

const cli = (...args: string[]) => runCli(args, { DATABASE_URL: db.url, TRAILPROOF_SECRET_KEY: SECRET_KEY, TRAILPROOF_STREAM_SECRET: SECRET });
const deliveredUids = () => receiver.accepted.flatMap((r) => (JSON.parse(r.body.toString()) as { events: StoredEvent[] }).events.map((e) => e.uid));

async function until(ok: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startHttpReceiver();
  server = await startServerProcess({ env: { DATABASE_URL: db.url, TRAILPROOF_ADMIN_KEY: adminKey, TRAILPROOF_SECRET_KEY: SECRET_KEY, LOG_LEVEL: 'trace' } });
  expect((await request(`${server.url}/v1/tenants`, adminKey, 'POST', { id: 'clis' })).status).toBe(201);
});

afterAll(async () => {
  await killStartedProcesses();
  await receiver?.close();
  await db?.drop();
});

describe('trailproof streams', () => {
  it('creates a destination the running server delivers; status, pause, replay, resume, list, delete', async () => {
    const created = await cli(
      'streams',
      'create',
      '--tenant',
      'clis',
      '--name',
      'hook',
      '--kind',
      'webhook',
      '--config',
      JSON.stringify({ url: `${receiver.url}/hook` }),
      '--action',
      'doc.*',
      '--json',
    );
    expect(created.code, created.stderr).toBe(0);
    const stream = JSON.parse(created.stdout) as { id: string; has_secret: boolean; filter: unknown };
    expect(stream).toMatchObject({ has_secret: true, filter: { actions: ['doc.*'] } });

    const ingested = await request(`${server.url}/v1/events`, adminKey, 'POST', {
      events: [1, 2, 3].map((i) => ({ tenant: 'clis', action: 'doc.read', actor: { type: 'user', id: `u${i}` } })),
    });
    const uids = (ingested.body.accepted as { uid: string }[]).map((a) => a.uid);
    await until(() => deliveredUids().length >= 3);
    expect(deliveredUids()).toEqual(uids);

    const status = await cli('streams', 'status', stream.id, '--json');
    expect(JSON.parse(status.stdout)).toMatchObject({ id: stream.id, status: 'active' });
    expect((await cli('streams', 'pause', stream.id)).code).toBe(0);
    expect((await cli('streams', 'replay', stream.id, '2000-01-01T00:00:00Z')).code).toBe(0);
    expect((await cli('streams', 'resume', stream.id)).code).toBe(0);
    await until(() => deliveredUids().length >= 6);
    expect(deliveredUids()).toEqual([...uids, ...uids]);

    const list = await cli('streams', 'list');
    expect(list.stdout).toContain(stream.id);
    expect((await cli('streams', 'replay', stream.id, 'not a time')).code).not.toBe(0);
    expect((await cli('streams', 'delete', stream.id)).code).toBe(0);
    expect((await cli('streams', 'status', stream.id)).stderr).toContain('NOT_FOUND');

    const audit = await request(`${server.url}/v1/events?tenant=clis&action=stream.*&sort=asc`, adminKey);
    expect((audit.body.data as { action: string; actor: { id: string } }[]).map((e) => e.action)).toEqual([
      'stream.created',
      'stream.paused',
      'stream.replayed',
      'stream.resumed',
      'stream.deleted',
    ]);
    expect(audit.body.data[0].actor.id).toMatch(/^cli:/);
    for (const out of [created.stdout, status.stdout, list.stdout, server.output()]) expect(out).not.toContain(SECRET);
  }, 180_000);

  it('refuses a destination without its secret, with the field named', async () => {
    const res = await runCli(
      ['streams', 'create', '--tenant', 'clis', '--name', 'x', '--kind', 'splunk_hec', '--config', '{"url":"https://splunk.example:8088"}'],
      { DATABASE_URL: db.url, TRAILPROOF_SECRET_KEY: SECRET_KEY },
    );
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('/secret');
  }, 60_000);
});
