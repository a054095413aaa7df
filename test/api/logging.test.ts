/** Logs never carry keys, event payloads or the personal data in query strings. */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
const lines: string[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  t = await createTestApp({}, { logger: createLogger('info', sink) });
  await t.createTenant('acme');
});
afterAll(() => t.close());

it('logs requests by path only, without keys, bodies or query strings', async () => {
  const ingest = await t.request('POST', '/v1/events', {
    body: {
      tenant: 'acme',
      action: 'user.login',
      actor: { type: 'user', id: 'alice.secret@example.com' },
      targets: [],
      metadata: { note: 'payload-marker-7f3a' },
    },
  });
  expect(ingest.statusCode).toBe(201);
  const read = await t.request('GET', '/v1/events?tenant=acme&actor=alice.secret%40example.com&q=payload-marker-7f3a');
  expect(read.statusCode).toBe(200);

  const log = lines.join('\n');
  expect(lines.some((l) => JSON.parse(l).req?.path === '/v1/events')).toBe(true);
  expect(log).not.toContain('alice.secret');
  expect(log).not.toContain('payload-marker-7f3a');
  expect(log).not.toContain(t.adminKey);
  expect(log).not.toContain(t.adminKey.slice(-20));
});
