/**
 * `trailproof serve`: open the database (embedded or DATABASE_URL), migrate, make sure there is an
 * admin key, listen. On SIGINT/SIGTERM: stop accepting, finish in-flight requests (and so their
 * commits), close the pool, stop the embedded PostgreSQL.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { bootstrapAdminKey } from './auth/bootstrap.ts';
import type { Config } from './config.ts';
import { buildApp } from './http/app.ts';
import { ensureWebBuilt } from './http/web-routes.ts';
import { createServices } from './http/services.ts';
import { createLogger } from './logger.ts';
import { openDatabase } from './store/database.ts';
import { loadLedgerKeys, type LedgerKeys } from './tlog/keys.ts';
import { SelfAuditor } from './tlog/self-audit.ts';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function serve(config: Config, options: { installSignalHandlers?: boolean } = {}): Promise<RunningServer> {
  const logger = createLogger(config.logLevel);
  // Key problems are configuration errors: report them before starting a database.
  const ledgerKeys = loadLedgerKeys(config);
  logLedgerKeys(logger, ledgerKeys);
  const db = await openDatabase(config, { log: (message) => logger.info(message), name: 'trailproof-serve' });
  const firstKey = await bootstrapAdminKey(db.sql, config.adminKey);
  const services = createServices(db.sql, config, (err) => logger.error({ err }, 'commit or checkpoint failed'), ledgerKeys, logger);
  // A checkout where `npm ci` ran without scripts has no built console yet: build it once, now.
  await ensureWebBuilt((message) => logger.info(message)).catch((err: unknown) =>
    logger.error({ err }, 'building the web console failed; the API works without it'),
  );
  const app = await buildApp(services, logger);
  // Node's server.close() ends only the connections idle at that moment; a keep-alive connection
  // whose request is still in flight stays open afterwards for keepAliveTimeout (72 s in Fastify),
  // holding the exit past a supervisor's grace period (30 s in Kubernetes). So responses still
  // pending when shutdown starts (or arriving after) say `Connection: close`, so each such
  // connection ends with its response.
  const pending = new Set<ServerResponse>();
  let draining = false;
  app.server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (draining) {
      // Fastify may have answered already (503 while closing), synchronously, before this listener.
      if (!res.headersSent) res.setHeader('connection', 'close');
      return;
    }
    pending.add(res);
    res.once('close', () => pending.delete(res));
  });
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  if (firstKey) printFirstKey(url, firstKey);
  await services.revocations.start();
  services.checkpointer.start();
  services.readRecords.start();
  const selfAuditor = new SelfAuditor(db.sql, ledgerKeys, { ...config.selfAudit, logger });
  selfAuditor.start();
  services.streamWorker.start();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      logger.info('shutting down: finishing in-flight requests');
      draining = true;
      for (const res of pending) if (!res.headersSent) res.setHeader('connection', 'close');
      await app.close();
      await services.revocations.stop();
      // In-flight deliveries finish (within their timeout) and leases are released before the pool closes.
      await services.streamWorker.stop();
      // Records of the last reads join their ledgers before the committer closes.
      await services.readRecords.stop();
      await services.committer.close();
      await services.checkpointer.stop();
      await selfAuditor.stop();
      // The checkpoints issued at shutdown get a few seconds to reach the witnesses.
      await services.witnessPusher?.close();
      await db.close({ stopServer: true });
      logger.info('stopped');
    })());
  if (options.installSignalHandlers !== false) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        close().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      });
    }
  }
  logger.info({ url, database: db.embedded ? `embedded (${config.dataDir})` : 'DATABASE_URL' }, 'trailproof listening');
  return { app, url, close };
}

function printFirstKey(url: string, key: string): void {
  process.stdout.write(`
  Trailproof created its first admin key. It is shown only this once; store it now:

    ${key}

  Try it:

    curl -s -X POST ${url}/v1/tenants -H 'Authorization: Bearer ${key}' \\
      -H 'Content-Type: application/json' -d '{"id":"acme","name":"Acme Inc."}'
    curl -s -X POST ${url}/v1/events -H 'Authorization: Bearer ${key}' \\
      -H 'Content-Type: application/json' \\
      -d '{"tenant":"acme","action":"user.login","actor":{"type":"user","id":"alice"}}'
    curl -s '${url}/v1/events?tenant=acme' -H 'Authorization: Bearer ${key}'

`);
}

/** Where the signing key is and what verifies it; never the key itself. */
function logLedgerKeys(logger: Logger, keys: LedgerKeys): void {
  const source = keys.source.kind === 'env' ? 'TRAILPROOF_LEDGER_KEY' : keys.source.path;
  if (keys.source.kind === 'file' && keys.source.created) {
    logger.warn({ keyFile: keys.source.path }, 'created a new ledger signing key; back it up (losing it means a new log identity)');
  }
  logger.info({ keySource: source, verifierKey: keys.verifierKey, origins: keys.origin('<tenant>') }, 'ledger signing key loaded');
}
