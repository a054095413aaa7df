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
        // A browser sign-in route answers only a redirect, which it declares instead.
        if (Object.keys(op.responses ?? {}).some((status) => /^3\d\d$/.test(status))) return false;
        const ok = Object.entries(op.responses ?? {}).filter(([status]) => /^2\d\d$/.test(status));
        // A 204 has no body to describe; every other 2xx names its media types, each with a schema.
        return (
          ok.length === 0 ||
          ok.some(([status, r]) => (status === '204' ? r.content !== undefined : !r.content || Object.values(r.content).some((c) => !c.schema)))
        );
      })
      .map(({ name }) => name);
    expect(missing).toEqual([]);
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
