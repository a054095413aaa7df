/** The pino tee: audit records reach a real Trailproof, ordinary ones do not, and a flush acknowledged before a SIGKILL lost nothing. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrailproofClient, auditTee, logRecordToEvent, runWithContext } from '../../packages/client/src/index.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
let t: TestApp;
let url: string;
let key: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('pino-a');
  url = await t.app.listen({ port: 0, host: '127.0.0.1' });
  key = await t.createKey('ingest', 'pino-a');
});
afterAll(() => t.close());

const actions = async (prefix: string) =>
  (await t.db.sql<{ action: string }[]>`select action from events where tenant_id = 'pino-a' and action like ${`${prefix}%`} order by seq`).map(
    (r) => r.action,
  );

describe('auditTee', () => {
  it('maps a log record onto an event', () => {
    expect(logRecordToEvent({ level: 35, time: 0, pid: 1, hostname: 'h', msg: 'paid', action: 'invoice.paid', amount: 5, metadata: { k: 1 } })).toEqual({
      action: 'invoice.paid',
      occurred_at: '1970-01-01T00:00:00.000Z',
      metadata: { k: 1, amount: 5, message: 'paid' },
    });
  });

  it('records audit-level and audit:true lines, passes every line on, and flush waits for storage', async () => {
    const audit = new TrailproofClient({ url, apiKey: key });
    const lines: string[] = [];
    const logger = pino({ customLevels: { audit: 35 } }, auditTee(audit, { to: { write: (l) => lines.push(l) } }));
    runWithContext({ actor: { type: 'user', id: 'carol' } }, () => {
      logger.info({ action: 'tee.ordinary' }, 'not audit');
      logger.audit({ action: 'tee.level' }, 'by level');
      logger.warn({ action: 'tee.flag', audit: true }, 'by flag');
    });
    await new Promise<void>((resolve, reject) => logger.flush((err) => (err ? reject(err) : resolve())));
    expect(lines).toHaveLength(3);
    expect(await actions('tee.')).toEqual(['tee.level', 'tee.flag']);
    await audit.close();
  });

  it('an app SIGKILLed right after logger.flush() called back lost none of its audit records', async () => {
    const client = path.join(ROOT, 'packages/client/dist/packages/client/src/index.js');
    const script = `
      import pino from 'pino';
      import { TrailproofClient, auditTee } from ${JSON.stringify(client)};
      const audit = new TrailproofClient({ url: ${JSON.stringify(url)}, apiKey: ${JSON.stringify(key)}, batchSize: 50 });
      const logger = pino({ customLevels: { audit: 35 } }, auditTee(audit, { to: { write() {} } }));
      for (let i = 0; i < 300; i++) {
        logger.audit({ action: 'crash.audit', actor: { type: 'service', id: 'app' }, n: i });
        logger.info({ action: 'crash.ordinary' });
      }
      logger.flush(() => { process.stdout.write('flushed\\n'); process.kill(process.pid, 'SIGKILL'); });
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const signal = await new Promise((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    expect(signal).toBe('SIGKILL');
    expect(out).toContain('flushed');
    const stored = await t.db.sql<{ n: number }[]>`select (body->'metadata'->>'n')::int as n from events where tenant_id = 'pino-a' and action = 'crash.audit'`;
    expect(stored.map((r) => r.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(await actions('crash.ordinary')).toEqual([]);
  });
});
