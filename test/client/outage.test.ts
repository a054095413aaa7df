/**
 * Acceptance: the real server is stopped for 10 s while an app records 10,000 events through the
 * client, then started again on the same database: every event arrives exactly once. The app
 * reaches the server through a TCP forwarder on a fixed port (as through a load balancer), since
 * each start of the server process takes a fresh port.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientError, TrailproofClient } from '../../packages/client/src/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killStartedProcesses, randomAdminKey, request, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

const adminKey = randomAdminKey();
let db: TestDatabase;
let server: ServerProcess | undefined;
let forwarder: net.Server;

const start = () => startServerProcess({ env: { DATABASE_URL: db.url, TRAILPROOF_ADMIN_KEY: adminKey, LOG_LEVEL: 'warn' } });

beforeAll(async () => {
  db = await createTestDatabase();
  server = await start();
  // Connections go to the running server; while none runs they are reset, like a refused connection.
  forwarder = net.createServer((socket) => {
    if (!server) return socket.destroy();
    const upstream = net.connect(server.port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => forwarder.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  forwarder?.close();
  await killStartedProcesses();
  await db?.drop();
});

describe('client across a 10 s outage', () => {
  it('delivers all 10,000 events exactly once', { timeout: 120_000 }, async () => {
    expect((await request(`${server!.url}/v1/tenants`, adminKey, 'POST', { id: 'outage' })).status).toBe(201);
    const key = (await request(`${server!.url}/v1/keys`, adminKey, 'POST', { name: 'app', scope: 'ingest', tenant: 'outage' })).body.secret as string;
    const { port } = forwarder.address() as net.AddressInfo;
    const errors: ClientError[] = [];
    const audit = new TrailproofClient({ url: `http://127.0.0.1:${port}`, apiKey: key, backoff: { maxMs: 1000 }, onError: (e) => errors.push(e) });
    const ids = new Set<string>();
    const recordSome = async (n: number, overMs: number) => {
      for (let i = 0; i < n; i += 100) {
        for (let j = 0; j < 100; j++) ids.add(audit.record({ action: 'app.work', actor: { type: 'service', id: 'app' }, metadata: { i: ids.size } })!);
        await new Promise((r) => setTimeout(r, overMs / (n / 100)));
      }
    };
    await recordSome(1_000, 1_000);
    const down = server!;
    server = undefined;
    await down.stop('SIGTERM');
    await recordSome(8_000, 10_000);
    server = await start();
    await recordSome(1_000, 1_000);
    await audit.close();

    expect(ids.size).toBe(10_000);
    expect(errors.some((e) => e.code === 'SEND_FAILED')).toBe(true);
    expect(errors.filter((e) => e.code !== 'SEND_FAILED')).toEqual([]);
    const rows = await db.sql<
      { client_id: string }[]
    >`select l.client_id from ledger_leaves l join events e using (tenant_id, seq) where l.tenant_id = 'outage' and e.action = 'app.work'`;
    expect(rows).toHaveLength(10_000);
    expect(new Set(rows.map((r) => r.client_id))).toEqual(ids);
  });
});
