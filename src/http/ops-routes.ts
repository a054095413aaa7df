/** Liveness, readiness and the OpenAPI document: unauthenticated, reveal nothing about tenants. */
import type { FastifyInstance } from 'fastify';
import type { Services } from './services.ts';

export function opsRoutes(services: Services) {
  return async function registerOpsRoutes(app: FastifyInstance): Promise<void> {
    app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
      try {
        await services.sql`select 1`;
        return { status: 'ready' };
      } catch {
        return reply.code(503).send({ error: { code: 'UNAVAILABLE', message: 'the database is unreachable' } });
      }
    });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  };
}
