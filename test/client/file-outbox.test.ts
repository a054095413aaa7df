/** The file outbox: an app SIGKILLed while writing and relaying; afterwards every event whose write() returned arrives once. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileOutbox, OutboxRelay } from '../../packages/client/src/index.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
let t: TestApp;
let url: string;
let key: string;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-outbox-'));

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('file-a');
  url = await t.app.listen({ port: 0, host: '127.0.0.1' });
  key = await t.createKey('ingest', 'file-a');
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await t.close();
});

describe('FileOutbox', () => {
  it('after a SIGKILL mid-run, every written event arrives exactly once', async () => {
    const file = path.join(dir, 'outbox.jsonl');
    const client = path.join(ROOT, 'packages/client/dist/packages/client/src/index.js');
    const script = `
      import { FileOutbox, OutboxRelay } from ${JSON.stringify(client)};
      const outbox = new FileOutbox(${JSON.stringify(file)});
      new OutboxRelay(outbox, { url: ${JSON.stringify(url)}, apiKey: ${JSON.stringify(key)}, batchSize: 50, pollMs: 10 }).start();
      for (let n = 0; ; n++) {
        outbox.write({ action: 'file.event', actor: { type: 'service', id: 'app' }, metadata: { n } });
        process.stdout.write(n + '\\n');
        if (n % 20 === 0) await new Promise((r) => setTimeout(r, 1));
      }
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    // Kill mid-run once the app has written a good number, however slow the machine is.
    const deadline = Date.now() + 60_000;
    while (!/\n([2-9]\d\d|\d{4,})\n/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const lastReported = Math.max(...out.split('\n').filter(Boolean).map(Number));
    expect(lastReported).toBeGreaterThan(100);

    const outbox = new FileOutbox(file);
    await new OutboxRelay(outbox, { url, apiKey: key }).drain();
    outbox.close();
    const arrived = (
      await t.db.sql<{ n: number }[]>`select (body->'metadata'->>'n')::int as n from events where tenant_id = 'file-a' and action = 'file.event' order by 1`
    ).map((r) => r.n);
    // Each event once, none missing before the last one the app saw written.
    expect(arrived).toEqual(Array.from({ length: arrived.length }, (_, i) => i));
    expect(arrived.length).toBeGreaterThan(lastReported);
    expect(fs.statSync(file).size).toBe(0);
  });
});
