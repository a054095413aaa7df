/**
 * /v1/schemas: versions of an action's schema, events checked against the newest one with field
 * pointers and stable codes (single and batch), schema validation of the schema itself, and tenant
 * isolation: one tenant's schemas neither apply to nor are visible from another.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let adminA: string;
let ingestA: string;
let readA: string;
let adminB: string;
let ingestB: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  await t.createTenant('globex');
  adminA = await t.createKey('admin', 'acme');
  ingestA = await t.createKey('ingest', 'acme');
  readA = await t.createKey('read', 'acme');
  adminB = await t.createKey('admin', 'globex');
  ingestB = await t.createKey('ingest', 'globex');
});
afterAll(() => t.close());

const invoicePaid = {
  metadata: {
    type: 'object',
    properties: { amount: { type: 'integer', minimum: 0 }, currency: { enum: ['EUR', 'USD'] } },
    required: ['amount', 'currency'],
    additionalProperties: false,
  },
  // As in docs/schemas.md: `properties` without `type: "object"` is ordinary JSON Schema.
  targets: { type: 'array', minItems: 1, items: { properties: { type: { const: 'invoice' } } } },
};
const event = (metadata: Record<string, unknown>, targets = [{ type: 'invoice', id: 'inv_1' }]) => ({
  action: 'invoice.paid',
  actor: { type: 'user', id: 'alice' },
  targets,
  metadata,
});

describe('/v1/schemas', () => {
  it('adds versions, answers the same version for the same definition, and records each change', async () => {
    const first = await t.request('PUT', '/v1/schemas/invoice.paid', { key: adminA, body: { metadata: { type: 'object' } } });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({ tenant: 'acme', action: 'invoice.paid', version: 1, metadata: { type: 'object' } });
    const second = await t.request('PUT', '/v1/schemas/invoice.paid', { key: adminA, body: invoicePaid });
    expect(second.statusCode).toBe(201);
    expect(second.json().version).toBe(2);
    const again = await t.request('PUT', '/v1/schemas/invoice.paid', { key: adminA, body: invoicePaid });
    expect(again.statusCode).toBe(200);
    expect(again.json().version).toBe(2);

    expect((await t.request('GET', '/v1/schemas/invoice.paid', { key: readA })).json()).toMatchObject({ version: 2, ...invoicePaid });
    const versions = await t.request('GET', '/v1/schemas/invoice.paid/versions', { key: readA });
    expect(versions.json().data.map((s: { version: number }) => s.version)).toEqual([2, 1]);
    expect((await t.request('GET', '/v1/schemas', { key: readA })).json().data).toHaveLength(1);
    const records = await t.db.sql<{ metadata: unknown }[]>`
      select body->'metadata' as metadata from events where tenant_id = 'acme' and action = 'tenant.schema_updated' order by seq`;
    expect(records.map((r) => r.metadata)).toEqual([
      { action: 'invoice.paid', version: 1 },
      { action: 'invoice.paid', version: 2 },
    ]);
  });

  it("takes docs/schemas.md's example as it is", async () => {
    const doc = readFileSync(new URL('../../docs/schemas.md', import.meta.url), 'utf8');
    const body = JSON.parse(/PUT \/v1\/schemas\/invoice\.paid\n[^\n]*\n\n([\s\S]*?)\n```/.exec(doc)![1]!);
    expect(body).toEqual(invoicePaid);
    expect((await t.request('PUT', '/v1/schemas/invoice.paid', { key: adminA, body })).statusCode).toBe(200);
  });

  it('accepts conforming events and rejects others with field pointers and stable codes', async () => {
    expect((await t.request('POST', '/v1/events', { key: ingestA, body: event({ amount: 100, currency: 'EUR' }) })).statusCode).toBe(201);
    const bad = await t.request('POST', '/v1/events', { key: ingestA, body: event({ amount: -1, currency: 'GBP', note: 'x' }, [{ type: 'user', id: 'u' }]) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('EVENT_INVALID');
    expect(
      bad
        .json()
        .error.details.map((d: { pointer: string; code: string }) => [d.pointer, d.code])
        .sort(),
    ).toEqual(
      [
        ['/metadata/amount', 'out_of_range'],
        ['/metadata/currency', 'invalid_enum'],
        ['/metadata/note', 'unknown_field'],
        ['/targets/0/type', 'invalid_enum'],
      ].sort(),
    );
    const missing = await t.request('POST', '/v1/events', { key: ingestA, body: event({ amount: 1 }) });
    expect(missing.json().error.details).toEqual([expect.objectContaining({ pointer: '/metadata/currency', code: 'required' })]);
  });

  it('rejects only the violating events of a batch', async () => {
    const res = await t.request('POST', '/v1/events', {
      key: ingestA,
      body: { events: [event({ amount: 5, currency: 'USD' }), event({ amount: 'five', currency: 'USD' })] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().accepted.map((a: { index: number }) => a.index)).toEqual([0]);
    expect(res.json().rejected).toEqual([{ index: 1, errors: [expect.objectContaining({ pointer: '/events/1/metadata/amount', code: 'invalid_type' })] }]);
  });

  it('refuses a schema that does not compile, an unknown part, a bad action, and non-admin keys', async () => {
    const typo = await t.request('PUT', '/v1/schemas/invoice.voided', { key: adminA, body: { metadata: { type: 'object', propertees: {} } } });
    expect(typo.statusCode).toBe(400);
    expect(typo.json().error).toMatchObject({ code: 'REQUEST_INVALID', details: [{ pointer: '/metadata', code: 'invalid_schema' }] });
    const format = await t.request('PUT', '/v1/schemas/invoice.voided', { key: adminA, body: { targets: { items: { format: 'iban' } } } });
    expect(format.json().error.details).toEqual([expect.objectContaining({ pointer: '/targets', code: 'invalid_schema' })]);
    const part = await t.request('PUT', '/v1/schemas/invoice.voided', { key: adminA, body: { context: {} } });
    expect(part.json().error.details).toEqual([expect.objectContaining({ pointer: '/context', code: 'unknown_field' })]);
    const remote = await t.request('PUT', '/v1/schemas/invoice.voided', { key: adminA, body: { metadata: { $ref: 'https://example.com/s.json' } } });
    expect(remote.json().error.details).toEqual([expect.objectContaining({ pointer: '/metadata', code: 'invalid_schema' })]);
    const action = await t.request('PUT', '/v1/schemas/Invoice%20Paid', { key: adminA, body: invoicePaid });
    expect(action.json().error.details).toEqual([expect.objectContaining({ pointer: '/action', code: 'pattern' })]);
    const reserved = await t.request('PUT', '/v1/schemas/tenant.created', { key: adminA, body: invoicePaid });
    expect(reserved.json().error.details).toEqual([expect.objectContaining({ pointer: '/action', code: 'reserved' })]);
    expect((await t.request('PUT', '/v1/schemas/invoice.voided', { key: ingestA, body: invoicePaid })).statusCode).toBe(403);
    expect((await t.request('GET', '/v1/schemas/invoice.voided', { key: readA })).statusCode).toBe(404);
  });

  it("keeps tenants apart: another tenant's key neither sees nor is bound by the schema", async () => {
    expect((await t.request('GET', '/v1/schemas/invoice.paid', { key: adminB })).statusCode).toBe(404);
    expect((await t.request('GET', '/v1/schemas', { key: adminB })).json().data).toEqual([]);
    expect((await t.request('GET', '/v1/schemas?tenant=acme', { key: adminB })).statusCode).toBe(403);
    expect((await t.request('PUT', '/v1/schemas/invoice.paid?tenant=acme', { key: adminB, body: { metadata: { type: 'object' } } })).statusCode).toBe(403);
    expect((await t.request('POST', '/v1/events', { key: ingestB, body: event({ anything: true }) })).statusCode).toBe(201);
    // An unbound admin key names the tenant.
    const unbound = await t.request('GET', '/v1/schemas/invoice.paid?tenant=acme');
    expect(unbound.json().version).toBe(2);
    expect((await t.request('GET', '/v1/schemas/invoice.paid')).json().error.code).toBe('TENANT_REQUIRED');
  });
});
