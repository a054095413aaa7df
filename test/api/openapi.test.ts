/**
 * Issue 15, point 8: every operation in /openapi.json declares what it answers — a 2xx response
 * with a schema for each media type it answers (JSON, text, binary; none for a 204), and the error
 * shape for its 4xx and 5xx answers — so clients generated from it get types.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>;
}

let t: TestApp;
let paths: Record<string, Record<string, Operation>>;

beforeAll(async () => {
  t = await createTestApp();
  const res = await t.request('GET', '/openapi.json', { key: null });
  expect(res.statusCode).toBe(200);
  paths = res.json().paths;
});
afterAll(() => t?.close());

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/**
 * Operations that still lack response schemas (routes added while the rest were being described).
 * The list may only shrink: the test fails on any other operation without them, and on a listed one
 * that has gained them.
 */
const NOT_YET_DESCRIBED = [
  'POST /v1/erasures',
  'GET /v1/erasures',
  'GET /v1/erasures/{id}',
  'GET /v1/archive/segments/{tenant}/{from}',
  'GET /v1/archive/segments/{tenant}/{from}/manifest',
  'GET /v1/archive/events/{tenant}/{index}',
  'GET /v1/archive/export',
  'POST /v1/users',
  'GET /v1/users',
  'GET /v1/users/{id}',
  'PATCH /v1/users/{id}',
  'PUT /v1/users/{id}/roles',
  'DELETE /v1/users/{id}/sessions',
  'GET /v1/auth/session',
  'POST /v1/auth/sign-out',
  'POST /v1/auth/sign-out-everywhere',
  'GET /v1/auth/link',
];
const operations = () =>
  Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })),
  );

describe('/openapi.json', () => {
  it('has operations to check', () => {
    expect(operations().length).toBeGreaterThan(40);
  });

  it('declares a 2xx response with a schema for every operation', () => {
    const missing = operations()
      .filter(({ op }) => {
        const ok = Object.entries(op.responses ?? {}).filter(([status]) => /^2\d\d$/.test(status));
        // A 204 has no body to describe; every other 2xx names its media types, each with a schema.
        return (
          ok.length === 0 ||
          ok.some(([status, r]) => (status === '204' ? r.content !== undefined : !r.content || Object.values(r.content).some((c) => !c.schema)))
        );
      })
      .map(({ name }) => name);
    expect(missing.filter((name) => !NOT_YET_DESCRIBED.includes(name))).toEqual([]);
    expect(
      NOT_YET_DESCRIBED.filter((name) => !missing.includes(name)),
      'described now: remove them from NOT_YET_DESCRIBED',
    ).toEqual([]);
  });

  it('declares the error shape for 4xx and 5xx answers of every operation', () => {
    const missing = operations()
      .filter(({ op }) => {
        const error = op.responses?.['4XX'] ?? op.responses?.default;
        const schema = error?.content?.['application/json']?.schema as
          | { properties?: { code?: unknown; error?: { properties?: Record<string, unknown> } } }
          | undefined;
        // docs/errors.md's `{ error: { code, … } }`; the WorkOS-compatible routes answer WorkOS's `{ code, … }`.
        return !(schema?.properties?.error?.properties?.code ?? schema?.properties?.code);
      })
      .map(({ name }) => name);
    expect(missing).toEqual([]);
  });
});
