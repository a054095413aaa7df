/**
 * An in-process Trailproof (real database, real Fastify app driven by `inject`), with an operator key
 * and helpers to make tenants and keys through the API itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Logger } from 'pino';
import { createApiKey, type Scope } from '../../src/auth/api-keys.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { buildApp } from '../../src/http/app.ts';
import { createServices, type Services } from '../../src/http/services.ts';
import { generateSignerKey } from '../../src/ledger/note.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export interface TestApp {
  app: FastifyInstance;
  db: TestDatabase;
  services: Services;
  config: Config;
  adminKey: string;
  request(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, options?: { key?: string | null; body?: unknown }): Promise<LightMyRequestResponse>;
  createTenant(id: string): Promise<void>;
  createKey(scope: Scope, tenant?: string): Promise<string>;
  close(): Promise<void>;
}

/** One signing key per test process (the service would otherwise create `<dataDir>/ledger.key`). */
export const TEST_LEDGER_KEY = generateSignerKey('test.trailproof').signerKey;

export async function createTestApp(env: Record<string, string> = {}, options: { logger?: Logger } = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  // Each app archives into a directory of its own: segment names repeat across test databases.
  const archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailproof-test-archive-'));
  const config = loadConfig({ TRAILPROOF_LEDGER_KEY: TEST_LEDGER_KEY, TRAILPROOF_ARCHIVE_URL: `file://${archiveDir}`, ...env }, { databaseUrl: db.url });
  const services = createServices(db.sql, config);
  const app = await buildApp(services, options.logger ?? false);
  const { secret: adminKey } = await createApiKey(db.sql, { name: 'test admin', scope: 'admin' });
  const request: TestApp['request'] = (method, url, options = {}) => {
    const key = options.key === undefined ? adminKey : options.key;
    return app.inject({
      method,
      url,
      headers: key === null ? {} : { authorization: `Bearer ${key}` },
      ...(options.body !== undefined ? { payload: options.body as object } : {}),
    });
  };
  return {
    app,
    db,
    services,
    config,
    adminKey,
    request,
    async createTenant(id) {
      const res = await request('POST', '/v1/tenants', { body: { id } });
      if (res.statusCode !== 201) throw new Error(`create tenant ${id}: ${res.statusCode} ${res.body}`);
    },
    async createKey(scope, tenant) {
      const res = await request('POST', '/v1/keys', { body: { name: `${scope} ${tenant ?? 'all'}`, scope, ...(tenant ? { tenant } : {}) } });
      if (res.statusCode !== 201) throw new Error(`create key: ${res.statusCode} ${res.body}`);
      return (res.json() as { secret: string }).secret;
    },
    async close() {
      await app.close();
      // Runs started through the API end at their next step, before the database goes.
      await services.lifecycle.stop();
      await services.readRecords.stop();
      await services.committer.close();
      await services.witnessPusher?.close(0);
      await db.drop();
      fs.rmSync(archiveDir, { recursive: true, force: true });
    },
  };
}
