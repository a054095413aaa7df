/**
 * `GET /metrics`: the service's Prometheus metrics (docs/metrics.md) in the text exposition format.
 * On the API's port it needs an admin key bound to no tenant, as they span every tenant and tenant
 * ids are among the labels. With
 * `TRAILPROOF_METRICS_PORT`, a listener of its own serves them with no key and serves nothing else,
 * for a scraper on a network that only it and the service reach.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { TrailproofError } from '../errors.ts';
import { authenticate, principalOf } from './authenticate.ts';
import type { Services } from './services.ts';
import { media } from './responses.ts';

export function metricsRoutes(services: Services) {
  const { registry } = services.metrics;
  return async function registerMetricsRoutes(app: FastifyInstance): Promise<void> {
    app.get(
      '/metrics',
      {
        preHandler: authenticate(services, 'admin'),
        schema: {
          summary: 'Prometheus metrics (admin)',
          description: 'The text exposition format; every metric is described in docs/metrics.md. Reading them is not recorded as a read.',
          tags: ['operations'],
          security: [{ bearer: [] }],
          response: { 200: media(registry.contentType, 'Prometheus text exposition format') },
        },
      },
      async (request, reply) => {
        if (principalOf(request).tenant !== null) throw new TrailproofError('AUTH_FORBIDDEN', 'the metrics span every tenant: use an admin key bound to none');
        return reply
          .type(registry.contentType)
          .header('cache-control', 'no-store')
          .send(await registry.metrics());
      },
    );
  };
}

export interface MetricsListener {
  /** Where the metrics are, e.g. `http://127.0.0.1:9464/metrics`. */
  url: string;
  close(): Promise<void>;
}

/** Serves `GET /metrics` of `registry`, and only that, on its own port. */
export async function listenForMetrics(registry: Registry, options: { port: number; host: string }): Promise<MetricsListener> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '').split('?', 1)[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('this port serves only GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) =>
        response.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(request.method === 'HEAD' ? undefined : text),
      () => response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('collecting the metrics failed\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
