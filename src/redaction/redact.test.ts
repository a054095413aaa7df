import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EventBody } from '../event/types.ts';
import { containsCardNumber, redactEvent, rulesInForce } from './redact.ts';
import { DEFAULT_RULES, parseSettings } from './rules.ts';
import { TrailproofError } from '../errors.ts';

const hash = (text: string) => createHmac('sha256', 'k').update(text).digest('hex');
const hmac = (text: string) => `hmac:${hash(text).slice(0, 32)}`;

function event(extra: Partial<EventBody> = {}): EventBody {
  return {
    action: 'user.login',
    occurred_at: '2026-12-01T00:00:00.000Z',
    actor: { type: 'user', id: 'alice', name: 'Alice' },
    targets: [{ type: 'doc', id: 'd1', name: 'Plan' }],
    outcome: 'success',
    context: { ip: '203.0.113.7', session_id: 'sess-123' },
    ...extra,
  };
}

describe('redactEvent with the default rules', () => {
  it('removes credentials, hashes session ids and card numbers anywhere in the free-form parts', () => {
    const input = event({
      reason: 'paid with 4111 1111 1111 1111',
      metadata: { password: 'hunter2', nested: { 'X-Auth-Token': 't0k', list: ['5500-0000-0000-0004', 'ok'] }, note: 'fine' },
      changes: [
        { field: 'password', before: 'old', after: 'new' },
        { field: 'plan', before: 'free', after: 'pro' },
      ],
      actor: { type: 'user', id: 'alice', metadata: { Authorization: 'Bearer abc' } },
      targets: [{ type: 'doc', id: 'd1', metadata: { api_key: 'k1' } }],
    });
    const { body, redacted } = redactEvent(input, DEFAULT_RULES, hash);
    expect(redacted).toEqual([
      '/context/session_id',
      '/metadata/password',
      '/metadata/nested/X-Auth-Token',
      '/metadata/nested/list/0',
      '/actor/metadata/Authorization',
      '/targets/0/metadata/api_key',
      '/reason',
      '/changes/0/before',
      '/changes/0/after',
    ]);
    expect(body.context).toEqual({ ip: '203.0.113.7', session_id: hmac('sess-123') });
    expect(body.metadata).toEqual({ nested: { list: [null, 'ok'] }, note: 'fine' });
    expect(body.reason).toBeUndefined();
    expect(body.changes).toEqual([{ field: 'password' }, { field: 'plan', before: 'free', after: 'pro' }]);
    expect(input.metadata?.password).toBe('hunter2');
    expect(input.context.session_id).toBe('sess-123');
  });

  it('leaves an event with nothing to redact as it is', () => {
    const input = event({ context: { ip: '203.0.113.7' }, metadata: { plan: 'pro', count: 12 } });
    expect(redactEvent(input, DEFAULT_RULES, hash)).toEqual({ body: input, redacted: [] });
  });
});

describe('redactEvent with path rules', () => {
  it('hashes required fields even under remove, and removes what must keep its form', () => {
    const rules = [
      { path: 'actor.id', action: 'hash' as const },
      { path: 'targets.*.name', action: 'remove' as const },
      { path: 'context.ip', action: 'remove' as const },
      { path: 'metadata.user.email', action: 'hash' as const },
    ];
    const { body, redacted } = redactEvent(event({ metadata: { user: { email: 'a@example.com' } } }), rules, hash);
    expect(body.actor.id).toBe(hmac('alice'));
    expect(body.targets[0]).toEqual({ type: 'doc', id: 'd1' });
    expect(body.context.ip).toBeUndefined();
    expect(body.metadata).toEqual({ user: { email: hmac('a@example.com') } });
    expect(redacted).toEqual(['/actor/id', '/targets/0/name', '/context/ip', '/metadata/user/email']);
  });

  it('puts the tenant rules before the defaults, or alone', () => {
    const own = { defaults: true, rules: [{ key: 'password', action: 'hash' as const }] };
    const { body } = redactEvent(event({ metadata: { password: 'p' } }), rulesInForce(own), hash);
    expect(body.metadata).toEqual({ password: hmac('p') });
    const alone = redactEvent(event({ metadata: { token: 't' } }), rulesInForce({ defaults: false, rules: [] }), hash);
    expect(alone.body.metadata).toEqual({ token: 't' });
  });
});

describe('redactEvent with key rules', () => {
  it('matches each glob whole and literally, and the first rule that matches decides', () => {
    const rules = [
      { key: 'a|b', action: 'remove' as const },
      { key: 'x.y', action: 'remove' as const },
      { key: 'user*', action: 'hash' as const },
      { key: '*name', action: 'remove' as const },
    ];
    const metadata = { a: 1, b: 2, 'a|b': 3, xzy: 4, 'x.y': 5, username: 'u', nickname: 'n', 'the user': 6 };
    const { body } = redactEvent(event({ metadata }), rules, hash);
    expect(body.metadata).toEqual({ a: 1, b: 2, xzy: 4, username: hmac('u'), 'the user': 6 });
  });
});

describe('containsCardNumber', () => {
  it('takes Luhn-valid runs of 13-19 digits, with spaces or dashes', () => {
    expect(containsCardNumber('4111111111111111')).toBe(true);
    expect(containsCardNumber('card 4012-8888-8888-1881 declined')).toBe(true);
    expect(containsCardNumber(4111111111111111)).toBe(true);
    expect(containsCardNumber('4111111111111112')).toBe(false);
    expect(containsCardNumber('order 12345')).toBe(false);
  });
});

describe('parseSettings', () => {
  const refused = (body: unknown) => {
    try {
      parseSettings(body);
    } catch (err) {
      expect(err).toBeInstanceOf(TrailproofError);
      return (err as TrailproofError).details?.map((d) => `${d.pointer} ${d.code}`);
    }
    throw new Error('accepted');
  };

  it('accepts rules and fills in defaults', () => {
    expect(parseSettings({ rules: [{ path: 'metadata.email', action: 'hash' }] })).toEqual({
      defaults: true,
      rules: [{ path: 'metadata.email', action: 'hash' }],
    });
  });

  it('names each bad rule by its pointer', () => {
    expect(
      refused({
        defaults: 'yes',
        rules: [
          { path: 'action', action: 'remove' },
          { path: 'actor.id', action: 'remove' },
          { path: 'context.ip', action: 'hash' },
          { key: 'a', path: 'b', action: 'hash' },
          { detect: 'ssn', action: 'remove' },
          { path: 'metadata.a b', action: 'hash' },
          { key: 'x', action: 'drop' },
        ],
        extra: 1,
      }),
    ).toEqual([
      '/extra unknown_field',
      '/defaults invalid_type',
      '/rules/0/path reserved',
      '/rules/1/action invalid_enum',
      '/rules/2/action invalid_enum',
      '/rules/3 required',
      '/rules/4/detect invalid_enum',
      '/rules/5/path pattern',
      '/rules/6/action invalid_enum',
    ]);
  });
});
