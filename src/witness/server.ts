/**
 * The witness over HTTP (c2sp.org/tlog-witness), submission and monitoring prefix both `/`:
 *
 *   POST /add-checkpoint   200 cosignature line(s) · 409 `text/x.tlog.size` · 400/403/404/422 errors
 *   GET  /                 the witness's cosigner verifier key (a convenience, not in the spec)
 *   GET  /healthz          liveness
 *
 * Error answers other than 409 carry Trailproof's usual `{ error: { code, message } }` body; the
 * protocol only fixes their status.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { errorHandler, notFoundHandler } from '../http/error-handler.ts';
import { bodyIdleTimeout, DEFAULT_BODY_IDLE_TIMEOUT_MS, REQUEST_TIMEOUT_MS, refuseUnroutable } from '../http/request-limits.ts';
import { createLogger } from '../logger.ts';
import { formatTlogSize, MAX_REQUEST_SIZE, TLOG_SIZE_CONTENT_TYPE } from './add-checkpoint-body.ts';
import type { WitnessConfig } from './config.ts';
import { WitnessStateStore } from './state-store.ts';
import { Witness } from './witness.ts';

export function buildWitnessApp(witness: Witness, logger: Logger | false = false): FastifyInstance {
  const app = Fastify({ loggerInstance: logger || undefined, bodyLimit: MAX_REQUEST_SIZE, requestTimeout: REQUEST_TIMEOUT_MS }) as unknown as FastifyInstance;
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // Anyone may post a checkpoint: no route reads a body it will not use, and none may stall.
  app.addHook('onRequest', refuseUnroutable);
  app.addHook('preParsing', bodyIdleTimeout(DEFAULT_BODY_IDLE_TIMEOUT_MS));
  // The spec names no request content type: take every body as bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.post('/add-checkpoint', async (request, reply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const outcome = await witness.addCheckpoint(body);
    if (!outcome.cosigned) {
      request.log.info({ size: outcome.size, fork: outcome.fork }, 'add-checkpoint conflict');
      return reply.code(409).type(TLOG_SIZE_CONTENT_TYPE).send(formatTlogSize(outcome.size));
    }
    request.log.info({ origin: outcome.checkpoint.origin, size: outcome.checkpoint.size }, 'cosigned');
    return reply.code(200).type('text/plain; charset=utf-8').send(outcome.signatures);
  });
  app.get('/', async (_request, reply) => reply.type('text/plain; charset=utf-8').send(`${witness.verifierKey}\n`));
  app.get('/healthz', async () => ({ status: 'ok' }));
  return app;
}

export interface RunningWitness {
  app: FastifyInstance;
  url: string;
  witness: Witness;
  close(): Promise<void>;
}

/** Opens the state directory (taking its lock) and listens. */
export async function serveWitness(config: WitnessConfig, options: { logger?: Logger; logLevel?: string } = {}): Promise<RunningWitness> {
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info');
  const store = new WitnessStateStore(config.dataDir);
  await store.open();
  const witness = new Witness({
    cosigner: config.cosigner,
    logs: config.logs,
    store,
    onMisbehaviour: ({ origin, reason, file }) =>
      logger.warn({ origin, reason, evidence: file }, 'log misbehaviour: checkpoint refused, request kept as evidence'),
  });
  const app = buildWitnessApp(witness, logger);
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    store.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  logger.info({ url, key: witness.verifierKey, logs: witness.origins, dataDir: config.dataDir }, 'witness listening');
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await app.close();
      store.close();
    })());
  return { app, url, witness, close };
}
