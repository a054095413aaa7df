/** The example app with the SDK as users get it: `npm pack` tarball installed into an empty directory, run against a real Trailproof. */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { freePort } from '../helpers/server-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
let t: TestApp;
let url: string;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-example-'));

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('example');
  url = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await t.close();
});

describe('examples/node-app with the packed SDK', () => {
  it('records its events in Trailproof', { timeout: 120_000 }, async () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: path.join(ROOT, 'packages/client'), encoding: 'utf8' }),
    );
    expect(pack.files.map((f: { path: string }) => f.path)).toContain('dist/packages/client/src/index.js');
    expect(pack.files.some((f: { path: string }) => f.path.endsWith('.test.js') || (f.path.endsWith('.ts') && !f.path.endsWith('.d.ts')))).toBe(false);
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.copyFileSync(path.join(ROOT, 'examples/node-app/server.js'), path.join(app, 'server.js'));
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // The SDK has no dependencies: the install needs no registry.
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', path.join(dir, pack.filename)], { cwd: app });

    const port = await freePort();
    const key = await t.createKey('ingest', 'example');
    const child = spawn(process.execPath, ['server.js'], {
      cwd: app,
      env: { ...process.env, TRAILPROOF_URL: url, TRAILPROOF_KEY: key, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('listening') && resolve()));
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/invoices/inv_1/pay`, { method: 'POST', headers: { 'x-user': 'alice', 'x-forwarded-for': '198.51.100.4' } })).status).toBe(204);
    expect((await fetch(`${base}/invoices/inv_1`, { method: 'DELETE', headers: { 'x-user': 'eve' } })).status).toBe(403);
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.on('exit', r))).toBe(0);

    const rows = await t.db.sql<{ body: any }[]>`select body from events where tenant_id = 'example' and action like 'invoice.%' order by seq`;
    expect(rows.map((r) => [r.body.action, r.body.actor.id, r.body.outcome, r.body.targets[0].id])).toEqual([
      ['invoice.paid', 'alice', 'success', 'inv_1'],
      ['invoice.delete', 'eve', 'failure', 'inv_1'],
    ]);
    expect(rows[0]!.body.context.ip).toBe('198.51.100.4');
  });
});
