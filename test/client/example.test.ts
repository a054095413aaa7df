/**
 * The example Express app with the SDK as users get it: `npm pack` tarball installed into an empty
 * directory with the app, run on its own PostgreSQL against a real Trailproof. Each way the app
 * records arrives: the transactional outbox (and nothing of a rolled-back transaction), record(),
 * authorize() and the pino tee (audit lines only), with the middleware's actor and context.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { freePort } from '../helpers/server-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
let t: TestApp;
let appDb: TestDatabase;
let url: string;
// Inside the repository, so the app's other dependencies (express, pino, postgres) resolve from the
// repository's node_modules while @trailproof/client comes from the tarball installed beside it.
const base = path.join(ROOT, '.trailproof-test');
fs.mkdirSync(base, { recursive: true });
const dir = fs.mkdtempSync(path.join(base, 'example-'));

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('example');
  url = await t.app.listen({ port: 0, host: '127.0.0.1' });
  appDb = await createTestDatabase();
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await appDb.drop();
  await t.close();
});

describe('examples/express-app with the packed SDK', () => {
  it('records its events in Trailproof', { timeout: 120_000 }, async () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: path.join(ROOT, 'packages/client'), encoding: 'utf8' }),
    );
    expect(pack.files.map((f: { path: string }) => f.path)).toContain('dist/packages/client/src/index.js');
    expect(pack.files.some((f: { path: string }) => f.path.endsWith('.test.js') || (f.path.endsWith('.ts') && !f.path.endsWith('.d.ts')))).toBe(false);
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.copyFileSync(path.join(ROOT, 'examples/express-app/server.js'), path.join(app, 'server.js'));
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // The SDK has no dependencies: the install needs no registry.
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', path.join(dir, pack.filename)], { cwd: app });
    expect(fs.realpathSync(path.join(app, 'node_modules/@trailproof/client'))).toContain(app);
    // The ORM adapters are entry points of their own, loading Kysely or Drizzle only when imported.
    for (const entry of ['@trailproof/client/kysely', '@trailproof/client/drizzle']) {
      const probe = `const m = await import('${entry}'); process.stdout.write(typeof m.auditedTransaction);`;
      expect(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: app, encoding: 'utf8' })).toBe('function');
    }

    const port = await freePort();
    const key = await t.createKey('ingest', 'example');
    const child = spawn(process.execPath, ['server.js'], {
      cwd: app,
      env: { ...process.env, TRAILPROOF_URL: url, TRAILPROOF_KEY: key, PORT: String(port), DATABASE_URL: appDb.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let logs = '';
    child.stdout.on('data', (d) => (logs += String(d)));
    await new Promise<void>((resolve) => child.stdout.on('data', () => logs.includes('listening') && resolve()));
    const call = (method: string, p: string, user: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${port}${p}`, {
        method,
        headers: { 'x-user': user, 'x-forwarded-for': '198.51.100.4', ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    expect((await call('POST', '/invoices', 'alice', { id: 'inv_1', amount: 100 })).status).toBe(201);
    // The same id again: the insert fails, the transaction rolls back with its outbox event.
    expect((await call('POST', '/invoices', 'mallory', { id: 'inv_1', amount: 1 })).status).toBe(409);
    expect((await call('POST', '/invoices/inv_1/pay', 'bob')).status).toBe(204);
    expect((await call('GET', '/invoices/inv_1', 'carol')).status).toBe(200);
    expect((await call('DELETE', '/invoices/inv_1', 'eve')).status).toBe(403);
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.on('exit', r))).toBe(0);

    const rows = await t.db.sql<{ body: any }[]>`select body from events where tenant_id = 'example' and action like 'invoice.%' order by body->>'action'`;
    expect(rows.map((r) => [r.body.action, r.body.actor.id, r.body.outcome, r.body.targets[0].id, r.body.context.ip])).toEqual([
      ['invoice.created', 'alice', 'success', 'inv_1', '198.51.100.4'],
      ['invoice.delete', 'eve', 'failure', 'inv_1', '198.51.100.4'],
      ['invoice.paid', 'bob', 'success', 'inv_1', '198.51.100.4'],
      ['invoice.viewed', 'carol', 'success', 'inv_1', '198.51.100.4'],
    ]);
    expect(rows[0]!.body.metadata).toEqual({ amount: 100 });
    expect(rows[3]!.body.metadata).toMatchObject({ message: 'invoice viewed' });
    // The ordinary log line stays in the log only.
    expect(logs).toContain('"msg":"invoice read"');
    expect(rows.some((r) => r.body.metadata?.message === 'invoice read')).toBe(false);
    expect((await appDb.ownerSql`select count(*)::int as n from trailproof_outbox`)[0]!.n).toBe(0);
  });
});
