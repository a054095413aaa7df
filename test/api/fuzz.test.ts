/**
 * Issue 16, point 4: generated query strings, path parameters and bodies at every operation of the
 * API (walked from its OpenAPI document) never get a 5xx, nor fail after their answer started
 * (an export cut short answers 200: the error log shows it). FUZZ_RUNS sets the requests per
 * operation (a few by default, to keep the suite fast; bench/probe.ts sends many).
 */
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { edgeSweep, operations, requestArbitrary, type FuzzRequest, type Operation } from '../helpers/request-fuzz.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 4);

let t: TestApp;
let keys: string[];
let ops: Operation[];
/** Error-level log lines: a failure after the answer started (a stream cut short) shows only here. */
const errors: string[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      errors.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  t = await createTestApp({}, { logger: createLogger('error', sink) });
  await t.createTenant('acme');
  keys = [t.adminKey, await t.createKey('admin', 'acme'), await t.createKey('read', 'acme')];
  const ingest = await t.createKey('ingest', 'acme');
  await t.request('POST', '/v1/events', { key: ingest, body: { action: 'doc.read', actor: { type: 'user', id: 'u' }, targets: [{ type: 'doc', id: 'd' }] } });
  ops = operations(t.app);
});
afterAll(() => t.close());

const send = (req: FuzzRequest, key: string) =>
  t.app.inject({
    method: req.method,
    url: req.url,
    headers: { authorization: `Bearer ${key}`, ...(req.payload === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(req.payload === undefined ? {} : { payload: req.payload }),
  });

const describeFailure = (req: FuzzRequest, res: { statusCode: number; body: string }) =>
  `${res.statusCode} ${req.method} ${req.url} ${JSON.stringify(req.payload ?? '')}: ${res.body.slice(0, 200)}`;

describe('no generated request gets a 5xx', () => {
  it('the OpenAPI document lists the operations to fuzz', () => {
    expect(ops.length).toBeGreaterThan(50);
  });

  it('every path and query parameter of every operation, set to each edge value in turn', async () => {
    const failures: string[] = [];
    for (const op of ops) {
      for (const req of edgeSweep(op, 'acme')) {
        const res = await send(req, keys[1]!);
        if (res.statusCode >= 500) failures.push(describeFailure(req, res));
      }
    }
    expect(failures).toEqual([]);
    expect(errors.map((line) => JSON.parse(line).err?.message ?? line)).toEqual([]);
  }, 120_000);

  it(`every operation, ${RUNS} generated requests each`, async () => {
    const failures: string[] = [];
    for (const op of ops) {
      await fc.assert(
        fc.asyncProperty(requestArbitrary(op, ['acme']), fc.constantFrom(...keys), async (req, key) => {
          const res = await send(req, key);
          if (res.statusCode >= 500) failures.push(describeFailure(req, res));
        }),
        { numRuns: RUNS },
      );
    }
    expect(failures).toEqual([]);
    expect(errors.map((line) => JSON.parse(line).err?.message ?? line)).toEqual([]);
  }, 120_000);
});
