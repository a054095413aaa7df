/** `trailproof export`: the same records as GET /v1/exports, to a file or stdout, with clear errors. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { runCli } from '../helpers/server-process.ts';

let t: TestApp;
let dir: string;
const cli = (...args: string[]) => runCli(args, { DATABASE_URL: t.db.url });

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  const events = Array.from({ length: 25 }, (_, i) => ({
    tenant: 'acme',
    action: i % 2 ? 'user.login' : 'document.read',
    occurred_at: new Date(Date.UTC(2026, 10, 1, 0, i)).toISOString(),
    actor: { type: 'user', id: `u${i}`, name: i === 3 ? '=SUM(A1:A9)' : `User ${i}` },
    targets: [],
  }));
  expect((await t.request('POST', '/v1/events', { body: { events } })).statusCode).toBe(200);
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trailproof-export-'));
});
afterAll(async () => {
  await t.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('trailproof export', () => {
  it('writes the API export byte for byte to a file, and says how many events', async () => {
    const file = path.join(dir, 'acme.csv');
    const run = await cli('export', '--tenant', 'acme', '--format', 'csv', '--action', 'user.*', '--out', file);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/exported 12 events in [\d.]+ s to /);
    const api = await t.request('GET', '/v1/exports?tenant=acme&format=csv&action=user.*');
    expect(await fs.readFile(file, 'utf8')).toBe(api.body);
  });

  it('streams to stdout, oldest first', async () => {
    const run = await cli('export', '--tenant', 'acme', '--format', 'jsonl', '--action', 'document.read');
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { occurred_at: string; action: string });
    expect(lines).toHaveLength(13);
    expect(lines.map((l) => l.occurred_at)).toEqual(lines.map((l) => l.occurred_at).sort());
  });

  it('refuses an unknown format, a bad filter or a missing tenant with a message', async () => {
    const format = await cli('export', '--tenant', 'acme', '--format', 'xlsx');
    expect(format.code).toBe(1);
    expect(format.stderr).toMatch(/unknown format "xlsx": format must be one of jsonl, csv/);
    const filter = await cli('export', '--tenant', 'acme', '--format', 'csv', '--since', 'yesterday');
    expect(filter.code).toBe(1);
    expect(filter.stderr).toMatch(/\/since/);
    const tenant = await cli('export', '--tenant', 'nope', '--format', 'csv');
    expect(tenant.code).toBe(1);
    expect(tenant.stderr).toMatch(/tenant "nope" does not exist/);
  });
}, 90_000);
