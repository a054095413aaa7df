/**
 * A request is authenticated from its headers before its body is read: a client without a live key,
 * over its rate, asking for no route or announcing too large a body is answered at once and its
 * connection closed, having made the server read next to nothing of a slow multi-megabyte upload.
 * A body that stalls is answered 408 and closed.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let port: number;
let ingestKey: string;
let readKey: string;
/** The server's side of each connection, to see how many bytes it read. */
const serverSockets: net.Socket[] = [];

beforeAll(async () => {
  t = await createTestApp({ TRAILPROOF_BODY_IDLE_SECONDS: '1', TRAILPROOF_RATE_LIMIT: '1' });
  await t.createTenant('acme');
  ingestKey = (await createApiKey(t.db.sql, { name: 'ingest', scope: 'ingest', tenant: 'acme' })).secret;
  readKey = (await createApiKey(t.db.sql, { name: 'read', scope: 'read', tenant: 'acme' })).secret;
  t.app.server.on('connection', (socket: net.Socket) => serverSockets.push(socket));
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as net.AddressInfo).port;
});
afterAll(() => t.close());

interface Upload {
  /** The status line's code, or undefined when the server answered nothing. */
  status: number | undefined;
  /** When the server closed the connection, ms after the headers were sent (Infinity: still open). */
  closedAfterMs: number;
  /** Bytes the server read from the connection. */
  serverRead: number;
}

/**
 * Sends headers announcing `length` bytes of JSON, then the body in 16 KiB pieces every 10 ms
 * (`stallAfter` bytes at most), for at most `forMs`.
 */
function upload(path: string, headers: Record<string, string>, options: { length: number; stallAfter?: number; forMs: number }): Promise<Upload> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let response = '';
    let sent = 0;
    let started = 0;
    let timer: NodeJS.Timeout | undefined;
    const serverSide = new Promise<net.Socket>((found) => {
      const seen = serverSockets.length;
      const poll = () => (serverSockets.length > seen ? found(serverSockets[serverSockets.length - 1]!) : setTimeout(poll, 1));
      poll();
    });
    const finish = async (closedAfterMs: number) => {
      clearInterval(timer);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(response)?.[1];
      resolve({ status: status ? Number(status) : undefined, closedAfterMs, serverRead: (await serverSide).bytesRead });
    };
    socket.on('data', (d) => (response += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => void finish(performance.now() - started));
    socket.on('connect', () => {
      const lines = Object.entries({ host: 'localhost', 'content-type': 'application/json', 'content-length': String(options.length), ...headers });
      socket.write(`POST ${path} HTTP/1.1\r\n${lines.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
      started = performance.now();
      const piece = Buffer.alloc(16 * 1024, 0x20);
      timer = setInterval(() => {
        if (performance.now() - started > options.forMs) return void finish(Number.POSITIVE_INFINITY);
        const room = Math.min(options.length, options.stallAfter ?? options.length) - sent;
        if (room > 0 && !socket.destroyed) {
          socket.write(piece.subarray(0, room));
          sent += Math.min(room, piece.length);
        }
      }, 10);
    });
  });
}

const FIVE_MB = 5 * 1024 * 1024;

describe('a body is never read before the request may proceed', () => {
  it.each([
    ['no key', () => ({}), 401],
    ['an unknown key', () => ({ authorization: 'Bearer tpk_AAAAAAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }), 401],
    ['a key of another scope', () => ({ authorization: `Bearer ${readKey}` }), 403],
  ] as const)('%s: refused at once, connection closed, the upload unread', async (_what, headers, status) => {
    const sent = await upload('/v1/events', headers(), { length: FIVE_MB, forMs: 2000 });
    expect(sent.status).toBe(status);
    expect(sent.closedAfterMs).toBeLessThan(1000);
    expect(sent.serverRead).toBeLessThan(256 * 1024);
  });

  it('a rate-limited key: 429, closed, unread', async () => {
    const headers = { authorization: `Bearer ${ingestKey}` };
    // Rate 1/s with a burst of 2: a third request at once is over the limit.
    for (let i = 0; i < 2; i++) await t.request('POST', '/v1/events', { key: ingestKey, body: { action: 'user.login', actor: { type: 'user', id: 'a' } } });
    const sent = await upload('/v1/events', headers, { length: FIVE_MB, forMs: 2000 });
    expect(sent.status).toBe(429);
    expect(sent.closedAfterMs).toBeLessThan(1000);
    expect(sent.serverRead).toBeLessThan(256 * 1024);
  });

  it('no such route: 404, closed, unread', async () => {
    const sent = await upload('/v1/nothing-here', {}, { length: FIVE_MB, forMs: 2000 });
    expect(sent.status).toBe(404);
    expect(sent.closedAfterMs).toBeLessThan(1000);
    expect(sent.serverRead).toBeLessThan(256 * 1024);
  });

  it('a body over the limit: 413, closed, unread', async () => {
    await new Promise((r) => setTimeout(r, 2100)); // the rate limit's bucket refills
    const sent = await upload('/v1/keys', { authorization: `Bearer ${t.adminKey}` }, { length: FIVE_MB, forMs: 2000 });
    expect(sent.status).toBe(413);
    expect(sent.closedAfterMs).toBeLessThan(1000);
    expect(sent.serverRead).toBeLessThan(256 * 1024);
  });
});

describe('a stalled body', () => {
  it('is answered 408 and closed after the idle time', async () => {
    await new Promise((r) => setTimeout(r, 2100));
    const sent = await upload('/v1/events', { authorization: `Bearer ${ingestKey}` }, { length: 1000, stallAfter: 100, forMs: 5000 });
    expect(sent.status).toBe(408);
    expect(sent.closedAfterMs).toBeGreaterThan(900);
    expect(sent.closedAfterMs).toBeLessThan(3000);
  });

  it('while a slow body that keeps coming is read and stored', async () => {
    const event = JSON.stringify({ action: 'user.login', actor: { type: 'user', id: 'slow' } });
    const socket = net.connect(port, '127.0.0.1');
    const response = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d) => {
        text += d.toString();
        if (text.includes('\r\n\r\n')) resolve(text);
      });
    });
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      `POST /v1/events HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer ${ingestKey}\r\ncontent-length: ${event.length}\r\n\r\n`,
    );
    // Every byte 0.5 s apart for 2 s: slow, never idle for the 1 s limit.
    for (const part of [event.slice(0, 10), event.slice(10, 20), event.slice(20, 30), event.slice(30)]) {
      socket.write(part);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(await response).toMatch(/^HTTP\/1\.1 201/);
    socket.destroy();
  });
});
