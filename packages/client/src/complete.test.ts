import { describe, expect, it } from 'vitest';
import { completeEvent } from './complete.ts';
import { runWithContext } from './context.ts';

describe('completeEvent', () => {
  const actor = { type: 'user' as const, id: 'u_1' };

  it('fills id, occurred_at and tenant where absent and leaves the caller’s object alone', () => {
    const event = { action: 'invoice.paid', actor, targets: [{ type: 'invoice', id: 'inv_7' }] };
    const full = completeEvent(event, 'acme');
    expect(full.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(full.occurred_at!)).toBeGreaterThan(Date.now() - 60_000);
    expect(full).toMatchObject({ ...event, tenant: 'acme' });
    expect(event).toEqual({ action: 'invoice.paid', actor, targets: [{ type: 'invoice', id: 'inv_7' }] });
    expect(completeEvent(event).id).not.toBe(full.id);
  });

  it('keeps the fields the event sets, and fills the ones set to undefined', () => {
    const given = completeEvent({ action: 'a.b', actor, id: 'my-id', occurred_at: '2026-01-02T03:04:05.000Z', tenant: 'own' }, 'default');
    expect(given).toMatchObject({ id: 'my-id', occurred_at: '2026-01-02T03:04:05.000Z', tenant: 'own' });
    const undefinedFields = completeEvent({ action: 'a.b', actor, id: undefined, tenant: undefined }, 'default');
    expect(undefinedFields.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(undefinedFields.tenant).toBe('default');
    expect(JSON.parse(JSON.stringify(undefinedFields))).toEqual(undefinedFields);
  });

  it('takes actor, tenant and request context from the running request', () => {
    const full = runWithContext({ actor, tenant: 'ctx', ip: '10.0.0.1', requestId: 'r1' }, () =>
      completeEvent({ action: 'a.b', context: { user_agent: 'ua' } }, 'default'),
    );
    expect(full).toMatchObject({ actor, tenant: 'ctx', context: { ip: '10.0.0.1', request_id: 'r1', user_agent: 'ua' } });
  });
});
