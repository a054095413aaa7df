/** Middleware opens the request's audit context; events recorded under it arrive at a real Trailproof with actor and context. */
import http from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrailproofClient, authorize, clientIp, expressAudit, fastifyAudit, honoAudit, withAudit } from '../../packages/client/src/index.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let audit: TrailproofClient;

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('mw-a');
  const url = await t.app.listen({ port: 0, host: '127.0.0.1' });
  audit = new TrailproofClient({ url, apiKey: await t.createKey('ingest', 'mw-a') });
});
afterAll(async () => {
  await audit.close();
  await t.close();
});

async function stored(id: string): Promise<any> {
  await audit.flush();
  const [row] = await t.db.sql<{ body: any }[]>`select e.body from events e join ledger_leaves l using (tenant_id, seq) where l.client_id = ${id}`;
  return row?.body;
}

const actor = (req: { headers: Record<string, unknown> }) => ({ type: 'user' as const, id: String(req.headers['x-user'] ?? 'anon') });

describe('clientIp', () => {
  it('takes the peer unless proxies are trusted, and walks X-Forwarded-For past trusted hops only', () => {
    expect(clientIp('10.0.0.2', '198.51.100.7', false)).toBe('10.0.0.2');
    expect(clientIp('10.0.0.2', '6.6.6.6, 198.51.100.7', 1)).toBe('198.51.100.7');
    expect(clientIp('10.0.0.2', '6.6.6.6, 198.51.100.7', ['10.0.0.2'])).toBe('198.51.100.7');
    expect(clientIp('10.0.0.2', '6.6.6.6, 198.51.100.7', ['10.0.0.2', '198.51.100.7'])).toBe('6.6.6.6');
    expect(clientIp('::ffff:192.0.2.1', undefined, false)).toBe('192.0.2.1');
    expect(clientIp('10.0.0.2', 'not-an-ip', 1)).toBeUndefined();
  });
});

describe('middleware', () => {
  it('Fastify: the route records with only action and targets', async () => {
    const app = Fastify();
    app.addHook('onRequest', fastifyAudit({ actor: (req) => actor(req), sessionId: (req) => req.headers['x-session'] as string }));
    app.post('/docs/:id', async (req) => ({ id: audit.record({ action: 'doc.update', targets: [{ type: 'doc', id: (req.params as { id: string }).id }] }) }));
    const res = await app.inject({
      method: 'POST',
      url: '/docs/d1',
      headers: { 'x-user': 'alice', 'user-agent': 'ua/1', 'x-request-id': 'r-1', 'x-session': 's-1' },
    });
    const body = await stored(res.json().id);
    expect(body).toMatchObject({
      actor: { type: 'user', id: 'alice' },
      targets: [{ type: 'doc', id: 'd1' }],
      context: { ip: '127.0.0.1', user_agent: 'ua/1', request_id: 'r-1', session_id: expect.stringMatching(/^hmac:/) },
    });
    await app.close();
  });

  it('Express/Connect signature: context survives awaits in the handler; the client IP through one trusted proxy', async () => {
    const mw = expressAudit({ actor: (req) => actor(req), trustProxy: 1 });
    const server = http.createServer((req, res) =>
      mw(req, res, async () => {
        await new Promise((r) => setTimeout(r, 5));
        res.end(audit.record({ action: 'doc.read' }));
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const id = await (await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-user': 'bob', 'x-forwarded-for': '203.0.113.5' } })).text();
    server.close();
    expect(await stored(id)).toMatchObject({ actor: { id: 'bob' }, context: { ip: '203.0.113.5' } });
  });

  it('Express itself: the middleware as app.use(), an async route recording after an await', async () => {
    const app = express();
    app.use(expressAudit({ actor: (req) => actor(req), trustProxy: 1 }));
    app.post('/docs/:id', async (req, res) => {
      await new Promise((r) => setTimeout(r, 5));
      res.send(audit.record({ action: 'doc.archive', targets: [{ type: 'doc', id: req.params.id }] }));
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/docs/d9`, {
      method: 'POST',
      headers: { 'x-user': 'dan', 'x-forwarded-for': '203.0.113.9', 'user-agent': 'ua/2' },
    });
    const id = await res.text();
    server.close();
    expect(await stored(id)).toMatchObject({ actor: { id: 'dan' }, targets: [{ id: 'd9' }], context: { ip: '203.0.113.9', user_agent: 'ua/2' } });
  });

  it('Hono: app.use(honoAudit()) opens the context for the route after it', async () => {
    const app = new Hono();
    app.use(honoAudit({ actor: (req) => ({ type: 'user', id: req.headers.get('x-user') ?? 'anon' }), remoteAddress: () => '192.0.2.77' }));
    app.put('/docs/:id', async (c) => {
      await new Promise((r) => setTimeout(r, 5));
      return c.text(audit.record({ action: 'doc.rename', targets: [{ type: 'doc', id: c.req.param('id') }] }) ?? '');
    });
    const res = await app.request('/docs/d4', { method: 'PUT', headers: { 'x-user': 'hana', 'x-request-id': 'r-h' } });
    expect(await stored(await res.text())).toMatchObject({
      actor: { id: 'hana' },
      targets: [{ id: 'd4' }],
      context: { ip: '192.0.2.77', request_id: 'r-h' },
    });
  });

  it('fetch-style handler and authorize(): allowed and denied decisions are recorded', async () => {
    const handler = withAudit(
      async (request: Request) => {
        const allowed = await authorize(audit, {
          action: 'invoice.delete',
          targets: [{ type: 'invoice', id: 'i1' }],
          allowed: () => request.headers.get('x-user') === 'admin',
        });
        return new Response(null, { status: allowed ? 204 : 403 });
      },
      { actor: (req) => ({ type: 'user', id: req.headers.get('x-user') ?? 'anon' }), remoteAddress: () => '192.0.2.10' },
    );
    expect((await handler(new Request('http://app/x', { headers: { 'x-user': 'admin' } }))).status).toBe(204);
    expect((await handler(new Request('http://app/x', { headers: { 'x-user': 'eve' } }))).status).toBe(403);
    await audit.flush();
    const rows = await t.db.sql<{ body: any }[]>`select body from events where tenant_id = 'mw-a' and action = 'invoice.delete' order by seq`;
    expect(rows.map((r) => [r.body.actor.id, r.body.outcome, r.body.reason, r.body.context.ip])).toEqual([
      ['admin', 'success', undefined, '192.0.2.10'],
      ['eve', 'failure', 'denied', '192.0.2.10'],
    ]);
  });
});
