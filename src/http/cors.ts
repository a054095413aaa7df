/**
 * CORS for the API, so the embeddable viewer can call it from the pages it is embedded in. Every
 * request is authorised by its `Authorization` header, never by cookies, so allowing any origin
 * gives a foreign page nothing it does not already hold (credentials are never allowed).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

const API = /^\/(v1|t)\//;

/** An `onRequest` hook, added on the root instance so it sees every route (and preflights of none). */
export async function allowCrossOrigin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (!request.headers.origin || !API.test(request.url)) return;
  reply.header('access-control-allow-origin', '*');
  reply.header('access-control-expose-headers', 'content-disposition, retry-after');
  if (request.method === 'OPTIONS') {
    reply.header('access-control-allow-methods', 'GET, POST, DELETE');
    reply.header('access-control-allow-headers', 'authorization, content-type');
    reply.header('access-control-max-age', '600');
    return reply.code(204).send();
  }
}
