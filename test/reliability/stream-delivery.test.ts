/**
 * Issue 5, acceptance 2: the delivery guarantee of streams. A real server process streams a
 * tenant to a webhook receiver that fails, hangs (the delivery times out) and drops connections
 * mid-batch, and the server is SIGKILLed while streaming and restarted on the same database.
 * In the end the receiver has every event at least once, in commit order, and the only duplicates
 * are re-deliveries of the batch that was in flight (the batch last accepted, sent again from its
 * first event because the cursor had not moved past it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/event/types.ts';
import { startHttpReceiver, type HttpReceiver, type ReceiverMode } from '../../src/stream/testing/http-receiver.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killStartedProcesses, randomAdminKey, request, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

const TENANT = 'streamed';
const adminKey = randomAdminKey();
let db: TestDatabase;
let server: ServerProcess;
let receiver: HttpReceiver;

const start = () =>
  startServerProcess({
    env: {
      DATABASE_URL: db.url,
      TRAILPROOF_ADMIN_KEY: adminKey,
      LOG_LEVEL: 'warn',
      TRAILPROOF_SECRET_KEY: 'stream-delivery-test-secret-key-0123456789',
      // Short timeout and lease so hangs and the killed process's lease cost seconds, not minutes.
      TRAILPROOF_STREAM_TIMEOUT_SECONDS: '1',
      TRAILPROOF_STREAM_LEASE_SECONDS: '2',
      TRAILPROOF_STREAM_RETRY_MAX_SECONDS: '1',
      TRAILPROOF_STREAM_MAX_FAILURES: '1000',
    },
  });

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startHttpReceiver();
  server = await start();
  expect((await request(`${server.url}/v1/tenants`, adminKey, 'POST', { id: TENANT })).status).toBe(201);
});

afterAll(async () => {
  await killStartedProcesses();
  await receiver?.close();
  await db?.drop();
});

describe('stream delivery guarantee', () => {
  it('delivers every event at least once, in order, duplicating only the batch in flight, through failures, hangs, drops and a SIGKILL', async () => {
    // Every 7th request fails, every 11th hangs, every 13th is dropped mid-batch; the rest are accepted.
    // A hung or dropped request reached the receiver whole: it has the batch, the sender never
    // learns it. So those count as received, and the batch comes again.
    let n = 0;
    const received: Buffer[] = [];
    const modes: ReceiverMode[] = [];
    receiver.decide = (req): ReceiverMode => {
      n++;
      const mode: ReceiverMode = n % 7 === 0 ? 'fail' : n % 5 === 0 ? 'hang' : n % 4 === 0 ? 'drop' : 'ok';
      modes.push(mode);
      if (mode !== 'fail') received.push(req.body);
      return mode;
    };
    const created = await request(`${server.url}/v1/streams`, adminKey, 'POST', {
      tenant: TENANT,
      name: 'siem',
      kind: 'webhook',
      config: { url: `${receiver.url}/hook` },
      secret: 'guarantee',
      since: '2000-01-01T00:00:00Z',
    });
    expect(created.status, created.text).toBe(201);
    const streamId = created.body.id as string;

    // Writers keep ingesting; the server is SIGKILLed while they do and the stream is mid-delivery.
    const acknowledged = new Set<string>();
    let stop = false;
    let batchNo = 0;
    const writer = async () => {
      while (!stop) {
        const ids = Array.from({ length: 25 }, (_, j) => `b${batchNo}-${j}`);
        batchNo++;
        // A fixed occurred_at: a retry must carry the same content to be recognised as the same event.
        const occurred_at = new Date(Date.now() - 1000).toISOString();
        const body = { events: ids.map((id) => ({ id, tenant: TENANT, occurred_at, action: 'doc.read', actor: { type: 'user', id: 'alice' } })) };
        // Idempotent retries (same client ids) until the batch is acknowledged: across the kill too.
        for (;;) {
          const res = await request(`${server.url}/v1/events`, adminKey, 'POST', body).catch(() => undefined);
          if (res?.status === 200) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        for (const id of ids) acknowledged.add(id);
      }
    };
    const writing = Promise.all([writer(), writer()]);
    const progress = (what: string) =>
      process.stderr.write(
        `[stream-delivery] ${what}: seen ${receiver.seen.length}, accepted ${receiver.accepted.length}, acknowledged ${acknowledged.size}\n`,
      );
    await waitFor(() => receiver.accepted.length >= 5, 30_000);
    progress('killing');
    await server.stop('SIGKILL');
    server = await start();
    await new Promise((r) => setTimeout(r, 3000));
    stop = true;
    progress('restarted');
    await writing;
    progress('writers done');

    const head = (await db.sql<{ size: number }[]>`select size from ledger_heads where tenant_id = ${TENANT}`)[0]!.size;
    await waitFor(async () => (await request(`${server.url}/v1/streams/${streamId}/status`, adminKey)).body.lag_events === 0, 60_000);
    const status = (await request(`${server.url}/v1/streams/${streamId}/status`, adminKey)).body;
    expect(status.cursor).toBeGreaterThanOrEqual(head);

    const batches = received.map((body) => (JSON.parse(body.toString()) as { events: StoredEvent[] }).events);
    // The receiver misbehaved in every way, and the server was killed once.
    expect(new Set(modes)).toEqual(new Set(['ok', 'fail', 'hang', 'drop']));

    // Every event, in index order; a batch either continues right after the last one accepted, or
    // is that same batch again (from its first event: the cursor had not moved past it).
    let next = 0;
    let lastStart = -1;
    let redeliveries = 0;
    for (const batch of batches) {
      const seqs = batch.map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
      if (seqs[0] === next) {
        lastStart = seqs[0]!;
      } else {
        expect(seqs[0], 'only the batch in flight is delivered again').toBe(lastStart);
        redeliveries++;
      }
      next = Math.max(next, seqs.at(-1)! + 1);
    }
    expect(next).toBeGreaterThanOrEqual(head);
    const delivered = new Set(batches.flat().map((e) => e.id));
    expect([...acknowledged].filter((id) => !delivered.has(id))).toEqual([]);
    // Each hang and drop made the batch come again.
    expect(redeliveries).toBeGreaterThanOrEqual(modes.filter((m) => m === 'hang' || m === 'drop').length);
    process.stderr.write(`[stream-delivery] ${batches.length} batches received, ${redeliveries} re-deliveries, ${head} events\n`);
  }, 180_000);
});

async function waitFor(ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
