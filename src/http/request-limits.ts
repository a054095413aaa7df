/**
 * What a request can make the server hold (docs/security.md#request-limits). Routes authenticate
 * in `onRequest`, from the headers, before any of the body is read; these hooks make sure nothing
 * else reads a body that will not be used, and that a body cannot stall forever:
 *  - a request for no route is answered before its body;
 *  - an answer sent before the body arrived (refused key, rate limit, no route, too large) closes
 *    the connection, so the rest of the body is never read;
 *  - a body that sends no byte for the idle time is answered 408 and its connection closed.
 */
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TrailproofError } from '../errors.ts';

/** Request body limit of every route but `POST /v1/events` (MAX_BODY_BYTES). */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;
/** How long a request body may send nothing before its connection is closed (TRAILPROOF_BODY_IDLE_SECONDS). */
export const DEFAULT_BODY_IDLE_TIMEOUT_MS = 10_000;
/** Time to receive a whole request, headers and body (Node's `server.requestTimeout`). */
export const REQUEST_TIMEOUT_MS = 120_000;

/** onRequest: a request for no route is refused before its body is read. */
export async function refuseUnroutable(request: FastifyRequest): Promise<void> {
  if (request.is404) throw new TrailproofError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
}

/** Before an answer: one sent while the request's body is still arriving closes the connection. */
export function closeIfBodyPending(request: FastifyRequest, reply: FastifyReply): void {
  if (hasBody(request.raw) && !request.raw.complete) void reply.header('connection', 'close');
}

/** A preParsing hook: the body must keep arriving, at most `idleMs` between bytes. */
export function bodyIdleTimeout(idleMs: number) {
  return async function stallGuard(request: FastifyRequest): Promise<void> {
    const raw = request.raw;
    const socket = raw.socket;
    // An injected request (app.inject) has no socket to time out.
    if (raw.complete || !(socket instanceof Socket)) return;
    const previous = socket.timeout ?? 0;
    const onIdle = () => {
      request.log.info({ idleMs }, 'request body stalled: connection closed');
      socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', () => socket.destroy());
    };
    // A listener on the request keeps Node's own handling from destroying the socket first.
    raw.setTimeout(idleMs, onIdle);
    raw.once('end', () => {
      raw.off('timeout', onIdle);
      socket.setTimeout(previous);
    });
  };
}

function hasBody(raw: IncomingMessage): boolean {
  const length = raw.headers['content-length'];
  return raw.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
