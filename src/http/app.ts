/**
 * The HTTP application: Fastify with every route module registered. Built without listening, so
 * tests drive it in-process with `app.inject()` and `serve` adds the socket.
 */
import type { Server } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyServerFactory } from 'fastify';
import swagger from '@fastify/swagger';
import type { Logger } from 'pino';
import { keyRoutes } from '../auth/routes.ts';
import { ingestRoutes } from '../ingest/routes.ts';
import { exportRoutes } from '../export/routes.ts';
import { feedRoutes } from '../query/feed-routes.ts';
import { queryRoutes } from '../query/routes.ts';
import { tenantRoutes } from '../tenant/routes.ts';
import { ledgerRoutes } from '../tlog/routes.ts';
import { uuidv7 } from '../ingest/uid.ts';
import { errorHandler, notFoundHandler } from './error-handler.ts';
import { opsRoutes } from './ops-routes.ts';
import { metricsRoutes } from './metrics-routes.ts';
import { allowCrossOrigin } from './cors.ts';
import { bodyIdleTimeout, MAX_REQUEST_BODY_BYTES, REQUEST_TIMEOUT_MS, refuseUnroutable } from './request-limits.ts';
import { webRoutes } from './web-routes.ts';
import { formatsPlugin, refuseMalformedInput, refuseNonFiniteNumbers } from './input-checks.ts';
import { withErrorResponses } from './responses.ts';
import { viewerRoutes } from '../auth/viewer-routes.ts';
import { streamRoutes } from '../stream/routes.ts';
import { lifecycleRoutes } from '../lifecycle/routes.ts';
import { erasureRoutes } from '../lifecycle/erasure-routes.ts';
import { archiveRoutes } from '../lifecycle/archive/routes.ts';
import { redactionRoutes } from '../redaction/routes.ts';
import { reversalRoutes } from '../capture/reversal-routes.ts';
import { captureStatusRoutes } from '../capture/status-routes.ts';
import { statsRoutes } from '../stats/routes.ts';
import { savedSearchRoutes } from '../query/saved-search-routes.ts';
import { schemaRoutes } from '../schema/routes.ts';
import { workosRoutes } from '../workos/routes.ts';
import { alertRoutes } from '../alert/alert-routes.ts';
import type { Services } from './services.ts';
import { userRoutes } from '../people/user-routes.ts';
import { sessionRoutes } from '../people/session-routes.ts';
import type { Scope } from '../auth/api-keys.ts';
import { routeScope } from './authenticate.ts';

export interface AppOptions {
  /**
   * An HTTP server bound before the app was built (`serve` binds its port first). Fastify serves
   * on it once its requests are handed to `app.routing`; whoever made it closes it.
   */
  server?: Server;
}

export async function buildApp(services: Services, logger: Logger | false = false, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.server ? { serverFactory: onServer(options.server) } : {}),
    loggerInstance: logger || undefined,
    // POST /v1/events takes up to MAX_BODY_BYTES; request-limits.ts says what else bounds a body.
    bodyLimit: MAX_REQUEST_BODY_BYTES,
    requestTimeout: REQUEST_TIMEOUT_MS,
    genReqId: () => uuidv7(),
    // Request log lines carry method, url, status and time, never headers or bodies.
    trustProxy: false,
    // Unknown body fields are refused (additionalProperties: false), never silently dropped.
    ajv: { customOptions: { removeAdditional: false }, plugins: [formatsPlugin] },
  }) as unknown as FastifyInstance;
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('onRequest', allowCrossOrigin);
  app.addHook('onRequest', refuseUnroutable);
  app.addHook('preParsing', bodyIdleTimeout(services.config.bodyIdleTimeoutMs));
  app.addHook('preValidation', refuseMalformedInput);
  app.addHook('preHandler', refuseNonFiniteNumbers);
  const routes: RegisteredRoute[] = [];
  ROUTES.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, scope: routeScope(route.onRequest ?? route.preHandler) });
  });
  // Response schemas document the answers (responses.ts); the handlers' objects go out as they are.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addHook('onRoute', withErrorResponses);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Trailproof API', version: '1', description: 'Tamper-evident audit trails. Errors: docs/errors.md.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key (`tpk_…`)' } } },
    },
  });
  await app.register(opsRoutes(services));
  await app.register(metricsRoutes(services));
  await app.register(ingestRoutes(services));
  await app.register(queryRoutes(services));
  await app.register(feedRoutes(services));
  await app.register(exportRoutes(services));
  await app.register(tenantRoutes(services));
  await app.register(keyRoutes(services));
  await app.register(ledgerRoutes(services));
  await app.register(viewerRoutes(services));
  await app.register(streamRoutes(services));
  await app.register(lifecycleRoutes(services));
  await app.register(erasureRoutes(services));
  await app.register(archiveRoutes(services));
  await app.register(redactionRoutes(services));
  await app.register(reversalRoutes(services));
  await app.register(captureStatusRoutes(services));
  await app.register(statsRoutes(services));
  await app.register(savedSearchRoutes(services));
  await app.register(schemaRoutes(services));
  await app.register(workosRoutes(services));
  await app.register(alertRoutes(services));
  await app.register(userRoutes(services));
  await app.register(sessionRoutes(services));
  await app.register(webRoutes());
  return app;
}

/** A route as registered, with the key scope it authenticates for (undefined: public). */
export interface RegisteredRoute {
  method: string;
  url: string;
  scope: Scope | undefined;
}

const ROUTES = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route of an app built by `buildApp` (the role matrix test walks them). */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return ROUTES.get(app) ?? [];
}

/** Gives Fastify a server of our own, with the timeouts Fastify sets on the servers it makes. */
function onServer(server: Server): FastifyServerFactory {
  return (_handler, options) => {
    const { keepAliveTimeout, requestTimeout, connectionTimeout } = options as { keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number };
    server.keepAliveTimeout = keepAliveTimeout;
    server.requestTimeout = requestTimeout;
    server.setTimeout(connectionTimeout);
    return server;
  };
}
