/**
 * `trailproof serve`: bind the port, open the database (embedded or DATABASE_URL), migrate, serve,
 * make sure there is an admin key and say how to use it. What can fail without side effects comes
 * first: a port in use stops the start before anything is created. A start that fails later stops
 * what it started. On SIGINT/SIGTERM: stop accepting, finish in-flight requests (and so their
 * commits), close the pool, leave the embedded PostgreSQL (stopped unless others still use it).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { bootstrapAdminKey } from './auth/bootstrap.ts';
import type { Config } from './config.ts';
import { TrailproofError } from './errors.ts';
import { buildApp } from './http/app.ts';
import { listenForMetrics, type MetricsListener } from './http/metrics-routes.ts';
import { webBuilt } from './http/web-routes.ts';
import { createServices } from './http/services.ts';
import { createLogger } from './logger.ts';
import { openDatabase, type Database } from './store/database.ts';
import { loadLedgerKeys, type LedgerKeys } from './tlog/keys.ts';
import { SelfAuditor } from './tlog/self-audit.ts';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function serve(config: Config, options: { installSignalHandlers?: boolean } = {}): Promise<RunningServer> {
  const logger = createLogger(config.logLevel);
  // Until the app is ready, requests get 503 (so /readyz says "not yet").
  const server = await listen(config, startingHandler);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  let db: Database | undefined;
  try {
    const ledgerKeys = loadLedgerKeys(config);
    db = await openDatabase(config, {
      log: (message) => logger.info(message),
      // The pool's application_name names this process: pg_stat_activity tells processes apart, and the
      // pool metrics count this process's connections (src/store/pool-metrics.ts).
      name: `trailproof-serve ${process.pid}@${os.hostname()}`,
      user: { role: 'serve', command: 'serve', url },
    });
    logLedgerKeys(logger, ledgerKeys);
    return await run(config, logger, server, url, db, ledgerKeys, options);
  } catch (err) {
    await closeServer(server);
    await db?.close().catch((closeErr: unknown) => logger.error({ err: closeErr }, 'closing the database after a failed start failed'));
    throw err;
  }
}

async function run(
  config: Config,
  logger: Logger,
  server: Server,
  url: string,
  db: Database,
  ledgerKeys: LedgerKeys,
  options: { installSignalHandlers?: boolean },
): Promise<RunningServer> {
  const services = createServices(db.sql, config, (err) => logger.error({ err }, 'commit or checkpoint failed'), ledgerKeys, logger);
  // A checkout where `npm ci` ran without scripts has no built console; the API works without it.
  if (!webBuilt()) logger.warn('web/dist is missing, so the console is not served: `npm run build` builds it');
  const app = await buildApp(services, logger, { server });
  await app.ready();
  // The key is made once nothing else can fail, and shown before the server reports ready.
  const firstKey = await bootstrapAdminKey(db.sql, config.adminKey);
  process.stdout.write(banner(url, config, firstKey));
  // Node's server.close() ends only the connections idle at that moment; a keep-alive connection
  // whose request is still in flight stays open afterwards for keepAliveTimeout (72 s in Fastify),
  // holding the exit past a supervisor's grace period (30 s in Kubernetes). So responses still
  // pending when shutdown starts (or arriving after) say `Connection: close`, so each such
  // connection ends with its response.
  const pending = new Set<ServerResponse>();
  let draining = false;
  server.off('request', startingHandler);
  server.on('request', app.routing);
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (draining) {
      // Fastify may have answered already (503 while closing), synchronously, before this listener.
      if (!res.headersSent) res.setHeader('connection', 'close');
      return;
    }
    pending.add(res);
    res.once('close', () => pending.delete(res));
  });
  await services.revocations.start();
  services.checkpointer.start();
  services.readRecords.start();
  const selfAuditor = new SelfAuditor(db.sql, ledgerKeys, { ...config.selfAudit, logger });
  selfAuditor.start();
  services.streamWorker.start();
  services.lifecycle.start();
  services.captureRelays.start();
  services.rollups.start();
  services.alerts.start();

  let metricsListener: MetricsListener | undefined;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      logger.info('shutting down: finishing in-flight requests');
      draining = true;
      for (const res of pending) if (!res.headersSent) res.setHeader('connection', 'close');
      // Stop accepting, answer what arrives meanwhile with 503, and wait for in-flight requests.
      await Promise.all([closeServer(server), app.close()]);
      await metricsListener?.close();
      await services.revocations.stop();
      // In-flight deliveries finish (within their timeout) and leases are released before the pool closes.
      await services.streamWorker.stop();
      await services.lifecycle.stop();
      // The relays' last batches commit (or roll back) before the committer closes.
      await services.captureRelays.stop();
      await services.rollups.stop();
      // Firings being sent get their send timeout; the last alert.fired records commit before the committer closes.
      await services.alerts.stop();
      // Records of the last reads join their ledgers before the committer closes.
      await services.readRecords.stop();
      await services.committer.close();
      await services.checkpointer.stop();
      await selfAuditor.stop();
      // The checkpoints issued at shutdown get a few seconds to reach the witnesses.
      await services.witnessPusher?.close();
      await db.close();
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
  if (config.metrics.port !== undefined) {
    try {
      metricsListener = await listenForMetrics(services.metrics.registry, { port: config.metrics.port, host: config.metrics.host });
    } catch (err) {
      await close();
      throw err;
    }
    logger.info({ url: metricsListener.url }, 'metrics listening, with no key: keep this port private');
  }
  logger.info({ url, database: db.embedded ? `embedded (${config.dataDir})` : 'DATABASE_URL' }, 'trailproof listening');
  return { app, url, close };
}

/** Binds the HTTP port; a port that cannot be had is one clear error. */
function listen(config: Config, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `port ${config.port} on ${config.host}`;
      if (err.code === 'EADDRINUSE') {
        reject(new TrailproofError('PORT_IN_USE', `${where} is in use by another program; stop it, or choose another port with --port or PORT`));
      } else if (err.code === 'EACCES') {
        reject(new TrailproofError('CONFIG_INVALID', `${where} needs privileges this process lacks; choose a port above 1023 with --port or PORT`));
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
        reject(new TrailproofError('CONFIG_INVALID', `${config.host} is not an address of this machine; fix --host or HOST`));
      } else {
        reject(err);
      }
    });
    server.listen({ port: config.port, host: config.host }, () => resolve(server));
  });
}

function startingHandler(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1', connection: 'close' });
  res.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'the server is starting' } }));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** What an operator needs next: the console, and the admin key once, or how to mint one. */
function banner(url: string, config: Config, firstKey: string | undefined): string {
  const lines = ['', `  Trailproof is listening on ${url}`, `  Console: ${url}/ (sign in with an admin key)`, ''];
  if (firstKey) {
    lines.push(
      "  Its first admin key, shown only this once: store it now. For the README's commands:",
      '',
      `    export KEY=${firstKey}`,
      '',
      `  Try it: curl -s ${url}/v1/tenants -H "Authorization: Bearer $KEY"`,
    );
  } else if (config.adminKey) {
    lines.push('  Admin key: the one in TRAILPROOF_ADMIN_KEY.');
  } else {
    // Only the start that creates a key shows it; a lost one cannot be shown again, only replaced,
    // by a command that reaches the same database.
    const dataDir = config.databaseUrl || config.dataDir === path.resolve('.trailproof') ? '' : ` --data-dir ${shellQuote(config.dataDir)}`;
    lines.push(
      '  No admin key is shown: a key is shown once, by the start that creates it. To mint one:',
      '',
      `    npx trailproof${dataDir} keys create --scope admin${config.databaseUrl ? '   # with the same DATABASE_URL' : ''}`,
    );
  }
  return `${lines.join('\n')}\n\n`;
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** Where the signing key is and what verifies it; never the key itself. */
function logLedgerKeys(logger: Logger, keys: LedgerKeys): void {
  const source = keys.source.kind === 'env' ? 'TRAILPROOF_LEDGER_KEY' : keys.source.path;
  if (keys.source.kind === 'file' && keys.source.created) {
    logger.warn({ keyFile: keys.source.path }, 'created a new ledger signing key; back it up (losing it means a new log identity)');
  }
  logger.info({ keySource: source, verifierKey: keys.verifierKey, origins: keys.origin('<tenant>') }, 'ledger signing key loaded');
}
