/**
 * A real HTTP(S) receiver for the stream tests: records every request (headers, body) and answers
 * according to its mode, so tests can make it fail (500), hang (never answer), or drop the
 * connection in the middle of a request's body.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCertificates } from './certificates.ts';

export type ReceiverMode = 'ok' | 'fail' | 'hang' | 'drop';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpReceiver {
  url: string;
  port: number;
  /** Requests answered 2xx, in arrival order. */
  accepted: ReceivedRequest[];
  /** Every request seen, whatever the answer. */
  seen: ReceivedRequest[];
  mode: ReceiverMode;
  /** Status of an accepted request; default 200. */
  okStatus: number;
  /** Decides per request; overrides `mode` when set. */
  decide?: (req: ReceivedRequest) => ReceiverMode;
  close(): Promise<void>;
}

export async function startHttpReceiver(options: { tls?: TestCertificates; port?: number } = {}): Promise<HttpReceiver> {
  const sockets = new Set<import('node:net').Socket>();
  const receiver: HttpReceiver = {
    url: '',
    port: 0,
    accepted: [],
    seen: [],
    mode: 'ok',
    okStatus: 200,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    let dropped = false;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // 'drop' before the whole body arrived when it can: the connection dies mid-batch.
      if (!dropped && receiver.mode === 'drop' && !receiver.decide) {
        dropped = true;
        req.socket.destroy();
      }
    });
    req.on('end', () => {
      const received: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      receiver.seen.push(received);
      const mode = receiver.decide?.(received) ?? receiver.mode;
      if (mode === 'hang') return;
      if (mode === 'drop') return void req.socket.destroy();
      if (mode === 'fail') return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"text":"Internal error","code":8}');
      receiver.accepted.push(received);
      res.writeHead(receiver.okStatus, { 'content-type': 'application/json' }).end('{"text":"Success","code":0}');
    });
  };
  const server = options.tls ? https.createServer({ cert: options.tls.serverCert, key: options.tls.serverKey }, handler) : http.createServer(handler);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `${options.tls ? 'https' : 'http'}://localhost:${receiver.port}`;
  return receiver;
}
