/**
 * A target filter is answered from the targets index, event by event, whatever the statistics say.
 * On a 1M-event tenant, after ANALYZE, the plain join was hashed over every event (~900 ms p95);
 * the lateral lookup (src/query/event-repository.ts) cannot be.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keysetSelection } from '../../src/query/event-repository.ts';
import { parseEventQuery } from '../../src/query/filters.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  const events = Array.from({ length: 300 }, (_, i) => ({
    tenant: 'acme',
    action: 'document.read',
    occurred_at: new Date(Date.UTC(2026, 9, 1) + i * 60_000).toISOString(),
    actor: { type: 'user', id: `u${i % 7}` },
    targets: [{ type: 'document', id: `d${i % 3}` }],
  }));
  expect((await t.request('POST', '/v1/events', { body: { events } })).statusCode).toBe(200);
  await t.db.ownerSql`analyze`;
});
afterAll(async () => {
  await t.close();
});

it('looks each event up by key from the target rows, even when the planner would rather hash a join', async () => {
  for (const params of [
    { target_type: 'document', target_id: 'd1' },
    { target_type: 'document', target_id: 'd1', actor: 'u3', sort: 'asc' },
  ]) {
    const { from, where, order } = keysetSelection(t.db.sql, 'acme', parseEventQuery(params));
    // Nested loops priced out, as the misjudged statistics did on the 1M-event tenant.
    const plan = await t.db.sql.begin(async (tx) => {
      await tx`set local enable_nestloop = off`;
      const rows = await tx`explain select e.uid from ${from} where ${where} ${order} limit 101`;
      return rows.map((r) => r['QUERY PLAN'] as string).join('\n');
    });
    expect(plan).toMatch(/Nested Loop/);
    expect(plan).toMatch(/Index Cond: \(\(tenant_id = t\.tenant_id\) AND \(occurred_at = t\.occurred_at\) AND \(seq = t\.seq\)\)/);
    expect(plan).not.toMatch(/Hash Join|Merge Join/);
  }
});
