/** The client's queue against a real Trailproof listening on a port: batching, retries, flush, refusals. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, TrailproofClient, runWithContext } from '../../packages/client/src/index.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { freePort } from '../helpers/server-process.ts';

let t: TestApp;
let url: string;
let ingestKey: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('sdk-a');
  await t.createTenant('sdk-b');
  ingestKey = await t.createKey('ingest', 'sdk-a');
  url = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => t.close());

async function storedIds(tenant: string): Promise<string[]> {
  const rows = await t.db.sql<{ client_id: string }[]>`select client_id from ledger_leaves where tenant_id = ${tenant} and client_id is not null`;
  return rows.map((r) => r.client_id);
}

describe('TrailproofClient', () => {
  it('batches recorded events and flush() resolves once every one is stored', async () => {
    const batches: number[] = [];
    const counting: typeof fetch = async (input, init) => {
      batches.push((JSON.parse(String(init?.body)) as { events: unknown[] }).events.length);
      return fetch(input, init);
    };
    const client = new TrailproofClient({ url, apiKey: ingestKey, batchSize: 100, fetch: counting });
    const ids = Array.from({ length: 250 }, (_, i) => client.record({ action: 'doc.read', actor: { type: 'user', id: `u${i}` } }));
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    await client.flush();
    expect(client.pending).toBe(0);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(250);
    expect(Math.max(...batches)).toBeLessThanOrEqual(100);
    const stored = new Set(await storedIds('sdk-a'));
    expect(ids.filter((id) => !stored.has(id!))).toEqual([]);
    await client.close();
  });

  it('retries while the server is unreachable and stores each event once', async () => {
    const port = await freePort();
    const errors: ClientError[] = [];
    const client = new TrailproofClient({
      url: `http://127.0.0.1:${port}`,
      apiKey: ingestKey,
      backoff: { initialMs: 20, maxMs: 100 },
      onError: (e) => errors.push(e),
    });
    const ids = Array.from({ length: 30 }, () => client.record({ action: 'doc.write', actor: { type: 'user', id: 'retry' } })!);
    await new Promise((r) => setTimeout(r, 300));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.code === 'SEND_FAILED')).toBe(true);
    // A proxy appears on the port: the queued events now reach the service.
    const { createServer } = await import('node:http');
    const proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const answer = await fetch(new URL(req.url!, url), { method: req.method!, headers: req.headers as Record<string, string>, body: Buffer.concat(chunks) });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(Buffer.from(await answer.arrayBuffer()));
    });
    await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', r));
    try {
      await client.flush();
    } finally {
      proxy.close();
    }
    const stored = await storedIds('sdk-a');
    for (const id of ids) expect(stored.filter((s) => s === id)).toHaveLength(1);
    await client.close();
  });

  it('reports events the server refuses and does not retry them', async () => {
    const errors: ClientError[] = [];
    const client = new TrailproofClient({ url, apiKey: ingestKey, onError: (e) => errors.push(e) });
    client.record({ action: 'ok.one', actor: { type: 'user', id: 'a' } });
    client.record({ action: 'Bad Action!', actor: { type: 'user', id: 'a' } });
    client.record({ action: 'ok.two', actor: { type: 'user', id: 'a' }, tenant: 'sdk-b' });
    await client.flush();
    expect(errors.map((e) => e.code)).toEqual(['EVENT_REJECTED']);
    const rejected = errors[0]!.rejections;
    expect(rejected.map((r) => r.event.action).sort()).toEqual(['Bad Action!', 'ok.two']);
    expect(rejected.find((r) => r.event.action === 'Bad Action!')!.errors[0]).toMatchObject({ pointer: expect.stringContaining('/action') });
    await client.close();
  });

  it('fills actor and request context from runWithContext', async () => {
    const client = new TrailproofClient({ url, apiKey: ingestKey });
    const id = runWithContext({ actor: { type: 'user', id: 'ctx-user' }, ip: '203.0.113.9', requestId: 'req-1' }, () =>
      client.record({ action: 'ctx.test' } as never),
    );
    await client.flush();
    const [row] = await t.db.sql<{ body: any }[]>`
      select e.body from events e join ledger_leaves l using (tenant_id, seq) where l.client_id = ${id!}`;
    expect(row!.body).toMatchObject({ actor: { id: 'ctx-user' }, context: { ip: '203.0.113.9', request_id: 'req-1' } });
    await client.close();
  });

  it('bounds memory: record() refuses past maxQueue, recordAsync() waits for room', async () => {
    const port = await freePort();
    const errors: ClientError[] = [];
    const client = new TrailproofClient({ url: `http://127.0.0.1:${port}`, apiKey: ingestKey, batchSize: 10, maxQueue: 20, onError: (e) => errors.push(e) });
    for (let i = 0; i < 20; i++) expect(client.record({ action: 'q.fill', actor: { type: 'user', id: 'q' } })).toBeTypeOf('string');
    expect(client.record({ action: 'q.over', actor: { type: 'user', id: 'q' } })).toBeUndefined();
    expect(errors.at(-1)?.code).toBe('QUEUE_FULL');
    let queued = false;
    const waiting = client.recordAsync({ action: 'q.wait', actor: { type: 'user', id: 'q' } }).then(() => (queued = true));
    const refused = expect(waiting).rejects.toMatchObject({ code: 'CLOSED' });
    await new Promise((r) => setTimeout(r, 100));
    expect(queued).toBe(false);
    const unsent = await client.close({ timeoutMs: 50 });
    expect(unsent.map((e) => e.action)).toEqual(Array(20).fill('q.fill'));
    await refused;
  });
});
