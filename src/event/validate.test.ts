import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TrailproofError } from '../errors.ts';
import { EVENT_LIMITS as L, MAX_BATCH } from './limits.ts';
import type { EventBody } from './types.ts';
import { eventArb, metadataArb, testNow } from './test-arbitraries.ts';
import { EVENT_ERROR_CODES, validateBatch, validateEvent, type ValidateOptions } from './validate.ts';

const now = testNow;
const opts: ValidateOptions = { now };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests build deliberately malformed events
type Loose = Record<string, any>;

function minimal(): Loose {
  return { action: 'user.login', actor: { type: 'user', id: 'u_1' } };
}

/** `minimal()` with `value` set at `path` (created as needed; `undefined` deletes). */
function withValue(path: string, value: unknown): Loose {
  const event = minimal();
  const keys = path.split('.');
  let node: Loose = event;
  for (const key of keys.slice(0, -1)) {
    node[key] ??= /^\d+$/.test(keys[keys.indexOf(key) + 1] ?? '') ? [] : {};
    node = node[key];
  }
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return event;
}

/** An event with one valid target and one valid change, so their fields can be replaced. */
function rich(): Loose {
  return {
    ...minimal(),
    targets: [{ type: 'document', id: 'doc_1' }],
    changes: [{ field: 'title', before: 'a', after: 'b' }],
    context: {},
  };
}

function richWith(path: string, value: unknown): Loose {
  const event = rich();
  const keys = path.split('.');
  let node: Loose = event;
  for (const key of keys.slice(0, -1)) node = node[key];
  node[keys[keys.length - 1] as string] = value;
  return event;
}

function errorsOf(input: unknown, options: ValidateOptions = opts): { pointer: string; code: string }[] {
  const result = validateEvent(input, options);
  return result.ok ? [] : result.errors.map(({ pointer, code }) => ({ pointer, code }));
}

function expectOnly(input: unknown, pointer: string, code: string, options: ValidateOptions = opts): void {
  expect(errorsOf(input, options)).toEqual([{ pointer, code }]);
}

function expectOk(input: unknown, options: ValidateOptions = opts): { body: EventBody; tenant?: string; size: number } {
  const result = validateEvent(input, options);
  if (!result.ok) throw new Error(`expected a valid event, got ${JSON.stringify(result.errors)}`);
  return result;
}

function hasUndefined(value: unknown): boolean {
  if (value === undefined) return true;
  if (Array.isArray(value)) return value.some(hasUndefined);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(hasUndefined);
  return false;
}

const pointerOf = (path: string): string => `/${path.replaceAll('.', '/')}`;

describe('validateEvent: normalization', () => {
  it('fills defaults and returns a fresh body in model order', () => {
    const input = { actor: { id: 'u_1', type: 'user' }, action: 'user.login' };
    const result = expectOk(input);
    expect(result.body).toStrictEqual({
      action: 'user.login',
      occurred_at: '2026-11-22T10:00:00.000Z',
      actor: { type: 'user', id: 'u_1' },
      targets: [],
      outcome: 'success',
      context: {},
    });
    expect(Object.keys(result.body)).toEqual(['action', 'occurred_at', 'actor', 'targets', 'outcome', 'context']);
    expect(result.body.actor).not.toBe(input.actor);
    expect(result).not.toHaveProperty('tenant');
    expect(result.size).toBe(Buffer.byteLength(JSON.stringify(result.body)));
  });

  it('normalizes a complete event', () => {
    const input = {
      metadata: { plan: 'pro', nested: { list: [1, 'two', null, true, { deep: -0 }] }, dropped: undefined },
      changes: [{ field: 'email', before: 'a@example.com', after: null }, { field: 'name' }],
      context: { session_id: 's_1', ip: '2001:DB8::1', user_agent: 'Mozilla/5.0\n(X11)', location: 'Berlin, DE', request_id: 'req_1' },
      reason: 'wrong password',
      outcome: 'failure',
      targets: [{ type: 'billing.invoice', id: 'inv_9', name: 'Invoice 9', metadata: { amount: 12.5 } }],
      actor: { type: 'api_key', id: 'key_1', name: 'CI key', metadata: { scopes: ['read'] } },
      occurred_at: '2026-11-22T11:59:59.123456+02:00',
      action: 'document.exported',
      id: 'evt:2026/11@a-b_c.d',
    };
    const result = expectOk(input);
    expect(result.body).toStrictEqual({
      id: 'evt:2026/11@a-b_c.d',
      action: 'document.exported',
      occurred_at: '2026-11-22T09:59:59.123Z',
      actor: { type: 'api_key', id: 'key_1', name: 'CI key', metadata: { scopes: ['read'] } },
      targets: [{ type: 'billing.invoice', id: 'inv_9', name: 'Invoice 9', metadata: { amount: 12.5 } }],
      outcome: 'failure',
      reason: 'wrong password',
      context: { ip: '2001:db8::1', user_agent: 'Mozilla/5.0\n(X11)', location: 'Berlin, DE', request_id: 'req_1', session_id: 's_1' },
      changes: [{ field: 'email', before: 'a@example.com', after: null }, { field: 'name' }],
      metadata: { plan: 'pro', nested: { list: [1, 'two', null, true, { deep: 0 }] } },
    });
    expect(Object.is((result.body.metadata as Loose).nested.list[4].deep, 0)).toBe(true);
    // Metadata keeps the client's key order.
    expect(Object.keys(result.body.metadata ?? {})).toEqual(['plan', 'nested']);
    expect(hasUndefined(result.body)).toBe(false);
  });

  it('copies metadata and change values instead of aliasing the input', () => {
    const input = { ...minimal(), metadata: { a: { b: [1] } }, changes: [{ field: 'f', after: { x: [1] } }] };
    const { body } = expectOk(input);
    input.metadata.a.b.push(2);
    input.changes[0]?.after.x.push(2);
    expect(body.metadata).toEqual({ a: { b: [1] } });
    expect(body.changes?.[0]?.after).toEqual({ x: [1] });
  });

  it('treats optional fields set to undefined as absent', () => {
    const { body } = expectOk({ ...minimal(), id: undefined, reason: undefined, targets: undefined, metadata: undefined, context: { ip: undefined } });
    expect(body).toStrictEqual(expectOk(minimal()).body);
  });

  it('keeps reason with either outcome', () => {
    expect(expectOk({ ...minimal(), reason: 'x' }).body).toMatchObject({ outcome: 'success', reason: 'x' });
    expect(expectOk({ ...minimal(), outcome: 'failure', reason: 'x' }).body).toMatchObject({ outcome: 'failure', reason: 'x' });
  });

  it('keeps change before/after absent, null or set as given', () => {
    const { body } = expectOk({ ...minimal(), changes: [{ field: 'a' }, { field: 'b', before: null }, { field: 'c', after: 0 }] });
    expect(body.changes).toStrictEqual([{ field: 'a' }, { field: 'b', before: null }, { field: 'c', after: 0 }]);
  });

  it.each(L.actorTypes)('accepts actor type %s', (type) => {
    expect(expectOk(withValue('actor.type', type)).body.actor.type).toBe(type);
  });
});

describe('validateEvent: structure', () => {
  it.each([null, 0, 'event', true, [], [minimal()]])('rejects a non-object event %j', (input) => {
    expectOnly(input, '', 'invalid_type');
  });

  it.each([
    ['action', '/action'],
    ['actor', '/actor'],
    ['actor.type', '/actor/type'],
    ['actor.id', '/actor/id'],
  ])('reports a missing %s as required', (path, pointer) => {
    expectOnly(withValue(path, undefined), pointer, 'required');
  });

  it.each([
    ['targets.0.type', '/targets/0/type'],
    ['targets.0.id', '/targets/0/id'],
    ['changes.0.field', '/changes/0/field'],
  ])('reports a missing %s as required', (path, pointer) => {
    const event = rich();
    const [array, index, key] = path.split('.') as [string, string, string];
    delete event[array][Number(index)][key];
    expectOnly(event, pointer, 'required');
  });

  it('reports a required field set to undefined as required, once', () => {
    expectOnly({ ...minimal(), action: undefined }, '/action', 'required');
  });

  it.each([
    ['action', 1],
    ['action', null],
    ['id', 7],
    ['occurred_at', 1700000000000],
    ['actor', 'user:1'],
    ['actor', []],
    ['actor.id', 42],
    ['actor.name', null],
    ['actor.metadata', []],
    ['actor.metadata', 'x'],
    ['actor.metadata', null],
    ['targets', {}],
    ['targets', 'doc'],
    ['outcome', true],
    ['reason', 5],
    ['context', []],
    ['context.ip', 3232235777],
    ['context.user_agent', {}],
    ['changes', {}],
    ['metadata', []],
    ['metadata', null],
    ['tenant', 5],
  ])('reports %s = %j as invalid_type', (path, value) => {
    expectOnly(withValue(path, value), pointerOf(path), 'invalid_type', { now, allowTenantField: true });
  });

  it.each([
    ['targets.0', 'doc'],
    ['targets.0.name', false],
    ['changes.0', null],
    ['changes.0.field', ['a']],
  ])('reports %s = %j as invalid_type', (path, value) => {
    expectOnly(richWith(path, value), pointerOf(path), 'invalid_type');
  });

  it('reports an actor type that is not a string as invalid_type', () => {
    expectOnly(withValue('actor.type', 1), '/actor/type', 'invalid_type');
  });

  it.each([
    ['actor.type', 'robot'],
    ['actor.type', 'User'],
    ['actor.type', ''],
    ['outcome', 'error'],
    ['outcome', 'Success'],
  ])('reports %s = %j as invalid_enum', (path, value) => {
    expectOnly(withValue(path, value), pointerOf(path), 'invalid_enum');
  });

  it.each([
    ['', '/tenantId'],
    ['', '/events_'],
    ['actor.', '/actor/email'],
    ['targets.0.', '/targets/0/kind'],
    ['context.', '/context/country'],
    ['changes.0.', '/changes/0/old'],
  ])('rejects unknown field %s → %s', (prefix, pointer) => {
    const key = pointer.split('/').pop() as string;
    expectOnly(richWith(`${prefix}${key}`.replace(/^\./, ''), 1), pointer, 'unknown_field');
  });

  it('escapes unknown field names in the pointer (RFC 6901)', () => {
    expectOnly({ ...minimal(), 'a/b~c': 1 }, '/a~1b~0c', 'unknown_field');
  });

  it('reports every problem, one per pointer, in a stable order', () => {
    const input = {
      action: 'User.Login',
      actor: { type: 'robot', id: '' },
      targets: [{ type: 'doc', id: 'a\nb', extra: true }],
      occurred_at: '2026-02-30T00:00:00Z',
      context: { ip: '10.0.0.1:443' },
      bogus: 1,
    };
    expect(errorsOf(input)).toEqual([
      { pointer: '/bogus', code: 'unknown_field' },
      { pointer: '/actor/type', code: 'invalid_enum' },
      { pointer: '/targets/0/extra', code: 'unknown_field' },
      { pointer: '/action', code: 'pattern' },
      { pointer: '/occurred_at', code: 'invalid_timestamp' },
      { pointer: '/actor/id', code: 'required' },
      { pointer: '/targets/0/id', code: 'control_character' },
      { pointer: '/context/ip', code: 'invalid_ip' },
    ]);
  });

  it(`stops at ${L.maxErrorsPerEvent} errors`, () => {
    const input: Loose = minimal();
    for (let i = 0; i < 30; i++) input[`extra_${i}`] = i;
    const errors = errorsOf(input);
    expect(errors).toHaveLength(L.maxErrorsPerEvent);
    expect(errors[0]).toEqual({ pointer: '/extra_0', code: 'unknown_field' });
    expect(errors[L.maxErrorsPerEvent - 1]).toEqual({ pointer: `/extra_${L.maxErrorsPerEvent - 1}`, code: 'unknown_field' });
  });

  it('writes messages that name the field and the limit', () => {
    const result = validateEvent(withValue('actor.name', 'x'.repeat(257)), opts);
    expect(result).toEqual({
      ok: false,
      errors: [{ pointer: '/actor/name', code: 'too_long', message: 'actor.name must be at most 256 characters (got 257)' }],
    });
    const meta = validateEvent({ ...minimal(), metadata: { 'a/b': { 'x\ny': 1 } } }, opts);
    expect(meta.ok ? [] : meta.errors).toEqual([
      {
        pointer: '/metadata/a~1b/x\ny',
        code: 'control_character',
        message: 'metadata["a/b"]["x\\ny"] must not contain control characters (U+000A at index 1)',
      },
    ]);
  });
});

describe('validateEvent: tenant', () => {
  it('rejects tenant unless allowed, whatever its type', () => {
    expectOnly({ ...minimal(), tenant: 'acme' }, '/tenant', 'tenant_not_allowed');
    expectOnly({ ...minimal(), tenant: 5 }, '/tenant', 'tenant_not_allowed');
    expectOnly({ ...minimal(), tenant: 'acme' }, '/tenant', 'tenant_not_allowed', { now, allowTenantField: false });
  });

  it('returns an allowed tenant beside the body, not in it', () => {
    const result = expectOk({ ...minimal(), tenant: 'acme' }, { now, allowTenantField: true });
    expect(result.tenant).toBe('acme');
    expect(result.body).not.toHaveProperty('tenant');
  });

  it('validates an allowed tenant as an identifier', () => {
    const allow = { now, allowTenantField: true };
    expectOnly({ ...minimal(), tenant: '' }, '/tenant', 'required', allow);
    expectOnly({ ...minimal(), tenant: 'ac\rme' }, '/tenant', 'control_character', allow);
    expect(expectOk({ ...minimal(), tenant: 't'.repeat(L.idMaxLength) }, allow).tenant).toHaveLength(256);
    expectOnly({ ...minimal(), tenant: 't'.repeat(L.idMaxLength + 1) }, '/tenant', 'too_long', allow);
  });
});

describe('validateEvent: string lengths (code points), both sides of each limit', () => {
  const cases: [string, number, string][] = [
    ['action', L.actionMaxLength, 'a'],
    ['id', L.clientIdMaxLength, 'A'],
    ['actor.id', L.idMaxLength, 'x'],
    ['actor.name', L.nameMaxLength, 'n'],
    ['targets.0.type', L.typeMaxLength, 't'],
    ['targets.0.id', L.idMaxLength, 'x'],
    ['targets.0.name', L.nameMaxLength, 'n'],
    ['changes.0.field', L.changeFieldMaxLength, 'f'],
    ['reason', L.reasonMaxLength, 'r'],
    ['context.user_agent', L.userAgentMaxLength, 'u'],
    ['context.location', L.locationMaxLength, 'l'],
    ['context.request_id', L.requestIdMaxLength, 'q'],
    ['context.session_id', L.sessionIdMaxLength, 's'],
  ];

  it.each(cases)('%s: %i characters ok, one more too_long', (path, max, char) => {
    expectOk(richWith(path, char.repeat(max)));
    expectOnly(richWith(path, char.repeat(max + 1)), pointerOf(path), 'too_long');
  });

  it.each([
    ['actor.name', L.nameMaxLength],
    ['reason', L.reasonMaxLength],
    ['targets.0.id', L.idMaxLength],
  ])('%s counts an emoji as one character', (path, max) => {
    expectOk(richWith(path, '😀'.repeat(max)));
    expectOnly(richWith(path, '😀'.repeat(max + 1)), pointerOf(path), 'too_long');
  });

  it(`metadata keys: ${L.metadataKeyMaxLength} characters ok, one more too_long`, () => {
    const ok = 'k'.repeat(L.metadataKeyMaxLength);
    const long = 'k'.repeat(L.metadataKeyMaxLength + 1);
    expectOk({ ...minimal(), metadata: { [ok]: 1 } });
    expectOnly({ ...minimal(), metadata: { [long]: 1 } }, `/metadata/${long}`, 'too_long');
    expectOnly({ ...minimal(), actor: { type: 'user', id: 'u', metadata: { n: { [long]: 1 } } } }, `/actor/metadata/n/${long}`, 'too_long');
  });
});

describe('validateEvent: empty strings', () => {
  it.each(['action', 'actor.id', 'targets.0.type', 'targets.0.id', 'changes.0.field'])('rejects an empty %s as required', (path) => {
    expectOnly(richWith(path, ''), pointerOf(path), 'required');
  });

  it('rejects an empty client id as pattern', () => {
    expectOnly(richWith('id', ''), '/id', 'pattern');
  });

  it('keeps empty optional names and context strings', () => {
    const { body } = expectOk({ ...rich(), actor: { type: 'user', id: 'u', name: '' }, reason: '', context: { location: '', request_id: '', user_agent: '' } });
    expect(body.actor.name).toBe('');
    expect(body.context).toEqual({ location: '', request_id: '', user_agent: '' });
  });
});

describe('validateEvent: patterns', () => {
  it.each(['a', 'user.login_failed', 'document.exported', 'a.b.c.d', '0', '_._', 'v2.api_key.created'])('accepts action %j', (action) => {
    expect(expectOk(withValue('action', action)).body.action).toBe(action);
  });

  it.each(['User.login', 'user..login', '.user', 'user.', 'user-login', 'user login', 'user/login', 'usér', 'user.Login'])(
    'rejects action %j as pattern',
    (action) => {
      expectOnly(withValue('action', action), '/action', 'pattern');
    },
  );

  it.each(['document', 'billing.invoice', 'a-b', '_x', '0', 'x.', 'x-'])('accepts target type %j', (type) => {
    expectOk(richWith('targets.0.type', type));
  });

  it.each(['.doc', '-doc', 'Doc', 'doc/x', 'doc x', 'doc:x', 'dóc'])('rejects target type %j as pattern', (type) => {
    expectOnly(richWith('targets.0.type', type), '/targets/0/type', 'pattern');
  });

  it.each(['a', '01JD8X3V0000000000000000000', '6f1c8b0e-3c4a-4e0b-9a55-0f6f1b5c2d9e', 'urn:app:evt/1', 'a@b.c', 'x_y-z.0:1/2@3'])(
    'accepts client id %j',
    (id) => {
      expect(expectOk(withValue('id', id)).body.id).toBe(id);
    },
  );

  it.each(['a b', 'a#b', 'a?b', 'é', 'a+b', 'a,b', 'a"b'])('rejects client id %j as pattern', (id) => {
    expectOnly(withValue('id', id), '/id', 'pattern');
  });
});

describe('validateEvent: control characters in identifiers and names', () => {
  const identifierPaths = [
    'action',
    'id',
    'actor.id',
    'actor.name',
    'targets.0.type',
    'targets.0.id',
    'targets.0.name',
    'changes.0.field',
    'context.location',
    'context.request_id',
    'context.session_id',
  ];

  it.each(identifierPaths)('rejects a line feed in %s', (path) => {
    expectOnly(richWith(path, 'ab\ncd'), pointerOf(path), 'control_character');
  });

  it.each([
    ['U+0000', '\u0000'],
    ['U+0009 tab', '\t'],
    ['U+000D CR', '\r'],
    ['U+001B ESC', '\u001b'],
    ['U+001F', '\u001f'],
    ['U+007F DEL', '\u007f'],
    ['U+0080', '\u0080'],
    ['U+0085 NEL', '\u0085'],
    ['U+009F', '\u009f'],
    ['U+2028', '\u2028'],
    ['U+2029', '\u2029'],
  ])('rejects %s in a name', (_name, char) => {
    expectOnly(withValue('actor.name', `Al${char}ice`), '/actor/name', 'control_character');
  });

  it.each([
    ['space', ' '],
    ['tilde', '~'],
    ['U+00A0', '\u00a0'],
    ['U+00E9', 'é'],
    ['U+2027', '\u2027'],
    ['U+202A', '\u202a'],
    ['emoji', '😀'],
  ])('accepts %s in a name', (_name, char) => {
    expect(expectOk(withValue('actor.name', `Al${char}ice`)).body.actor.name).toBe(`Al${char}ice`);
  });

  it('rejects control characters in metadata keys at every level', () => {
    expectOnly({ ...minimal(), metadata: { 'a\u001bb': 1 } }, '/metadata/a\u001bb', 'control_character');
    expectOnly({ ...rich(), targets: [{ type: 't', id: 'i', metadata: { ok: { 'x\u2028': 1 } } }] }, '/targets/0/metadata/ok/x\u2028', 'control_character');
  });

  it.each([
    ['a high surrogate', 'a\ud800b'],
    ['a low surrogate', 'a\udc00b'],
    ['a trailing high surrogate', 'ab\ud83d'],
    ['swapped halves', '\ude00\ud83d'],
  ])('rejects %s in an identifier as invalid_string', (_name, value) => {
    expectOnly(withValue('actor.id', value), '/actor/id', 'invalid_string');
  });
});

describe('validateEvent: free text', () => {
  const freeTextPaths = ['reason', 'context.user_agent', 'metadata.note', 'changes.0.before', 'changes.0.after'];

  it.each(freeTextPaths)('keeps newlines, tabs, ESC and U+2028 in %s', (path) => {
    const text = 'line 1\r\nline 2\tend\u001b[0m\u2028';
    const event = path.startsWith('metadata') ? { ...rich(), metadata: { note: text } } : richWith(path, text);
    expect(JSON.stringify(expectOk(event).body)).toContain(JSON.stringify(text).slice(1, -1));
  });

  it.each(freeTextPaths)('rejects U+0000 in %s as invalid_string', (path) => {
    const event = path.startsWith('metadata') ? { ...rich(), metadata: { note: 'a\u0000b' } } : richWith(path, 'a\u0000b');
    expectOnly(event, pointerOf(path), 'invalid_string');
  });

  it.each(freeTextPaths)('rejects a lone surrogate in %s as invalid_string', (path) => {
    const event = path.startsWith('metadata') ? { ...rich(), metadata: { note: 'x\udfff' } } : richWith(path, 'x\udfff');
    expectOnly(event, pointerOf(path), 'invalid_string');
  });

  it('accepts surrogate pairs in free text', () => {
    expectOk({ ...minimal(), reason: '😀 𝄞' });
  });

  it('checks strings nested anywhere in metadata and change values, keys included', () => {
    expectOnly({ ...minimal(), metadata: { a: [{ b: ['ok', 'bad\u0000'] }] } }, '/metadata/a/0/b/1', 'invalid_string');
    expectOnly({ ...rich(), changes: [{ field: 'f', after: { x: [[{ y: '\ud800' }]] } }] }, '/changes/0/after/x/0/0/y', 'invalid_string');
    expectOnly({ ...rich(), changes: [{ field: 'f', before: { 'k\u0000': 1 } }] }, '/changes/0/before/k\u0000', 'invalid_string');
    expectOnly({ ...rich(), changes: [{ field: 'f', before: { 'k\udc00': 1 } }] }, '/changes/0/before/k\udc00', 'invalid_string');
    expectOnly({ ...minimal(), metadata: { 'k\ud800': 1 } }, '/metadata/k\ud800', 'invalid_string');
  });

  it('allows control characters other than U+0000 in change value keys (free text)', () => {
    expect(expectOk({ ...rich(), changes: [{ field: 'f', before: { 'a\nb': 1 } }] }).body.changes?.[0]?.before).toEqual({ 'a\nb': 1 });
  });
});

describe('validateEvent: occurred_at', () => {
  it('defaults to options.now', () => {
    expect(expectOk(minimal(), { now: new Date('2026-01-02T03:04:05.678Z') }).body.occurred_at).toBe('2026-01-02T03:04:05.678Z');
  });

  it.each([
    ['2026-11-22T09:00:00Z', '2026-11-22T09:00:00.000Z'],
    ['2026-11-22t09:00:00z', '2026-11-22T09:00:00.000Z'],
    ['2026-11-22T11:00:00+02:00', '2026-11-22T09:00:00.000Z'],
    ['2026-11-22T03:30:00-05:30', '2026-11-22T09:00:00.000Z'],
    ['2026-11-22T09:00:00.1Z', '2026-11-22T09:00:00.100Z'],
    ['2026-11-22T09:00:00.123456789Z', '2026-11-22T09:00:00.123Z'],
    ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
    ['1970-01-01T01:00:00+01:00', '1970-01-01T00:00:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
  ])('normalizes %s to %s', (value, expected) => {
    expect(expectOk(withValue('occurred_at', value)).body.occurred_at).toBe(expected);
  });

  it.each([
    '2026-11-22',
    '2026-11-22T09:00:00',
    '2026-11-22T09:00:00.000',
    '2026-02-30T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2026-11-22T24:00:00Z',
    '2026-11-22T09:60:00Z',
    '2026-11-22T09:00:60Z',
    '2026-11-22 09:00:00Z',
    '2026-11-22T09:00:00+0100',
    '2026-11-22T09:00:00+24:00',
    'Sun, 22 Nov 2026 09:00:00 GMT',
    '1732266000',
    '',
    '2026-11-22T09:00:00Z\n',
  ])('rejects %j as invalid_timestamp', (value) => {
    expectOnly(withValue('occurred_at', value), '/occurred_at', 'invalid_timestamp');
  });

  it('rejects instants before 1970-01-01', () => {
    expectOnly(withValue('occurred_at', '1969-12-31T23:59:59.999Z'), '/occurred_at', 'invalid_timestamp');
    expectOnly(withValue('occurred_at', '1970-01-01T00:30:00+01:00'), '/occurred_at', 'invalid_timestamp');
    expectOnly(withValue('occurred_at', '0001-01-01T00:00:00Z'), '/occurred_at', 'invalid_timestamp');
  });

  it(`accepts up to ${L.maxFutureSkewMs} ms in the future by default, not one ms more`, () => {
    expectOk(withValue('occurred_at', '2026-11-22T10:05:00.000Z'));
    expectOk(withValue('occurred_at', '2026-11-22T12:05:00.000+02:00'));
    expectOnly(withValue('occurred_at', '2026-11-22T10:05:00.001Z'), '/occurred_at', 'future_timestamp');
    expectOnly(withValue('occurred_at', '2026-11-22T12:05:00.001+02:00'), '/occurred_at', 'future_timestamp');
    expectOnly(withValue('occurred_at', '9999-12-31T23:59:59Z'), '/occurred_at', 'future_timestamp');
  });

  it('takes the skew from options.maxFutureSkewMs', () => {
    const strict = { now, maxFutureSkewMs: 0 };
    expectOk(withValue('occurred_at', '2026-11-22T10:00:00.000Z'), strict);
    expectOnly(withValue('occurred_at', '2026-11-22T10:00:00.001Z'), '/occurred_at', 'future_timestamp', strict);
    const lenient = { now, maxFutureSkewMs: 3_600_000 };
    expectOk(withValue('occurred_at', '2026-11-22T11:00:00.000Z'), lenient);
    expectOnly(withValue('occurred_at', '2026-11-22T11:00:00.001Z'), '/occurred_at', 'future_timestamp', lenient);
  });
});

describe('validateEvent: context.ip', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['::1', '::1'],
    ['::', '::'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8:0:0:0:0:0:1'],
    ['FE80::ABCD', 'fe80::abcd'],
    ['::FFFF:192.0.2.1', '::ffff:192.0.2.1'],
    ['0000:0000:0000:0000:0000:ffff:255.255.255.255', '0000:0000:0000:0000:0000:ffff:255.255.255.255'],
  ])('accepts %s as %s', (ip, expected) => {
    expect(expectOk(withValue('context.ip', ip)).body.context.ip).toBe(expected);
  });

  it.each([
    '',
    'localhost',
    '192.0.2.1:443',
    '[::1]',
    '[::1]:443',
    'fe80::1%eth0',
    'fe80::1%25eth0',
    '192.0.2',
    '192.0.2.256',
    '01.2.3.4',
    ' 192.0.2.1',
    '192.0.2.1\n',
    '1:2:3:4:5:6:7:8:9',
    '192.0.2.1/24',
    `${'0'.repeat(40)}::1`,
  ])('rejects %j as invalid_ip', (ip) => {
    expectOnly(withValue('context.ip', ip), '/context/ip', 'invalid_ip');
  });
});

describe('validateEvent: counts', () => {
  const targets = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'doc', id: `d${i}` }));
  const changes = (n: number) => Array.from({ length: n }, (_, i) => ({ field: `f${i}`, after: i }));
  const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

  it(`targets: ${L.maxTargets} ok, one more too_many_items`, () => {
    expect(expectOk({ ...minimal(), targets: targets(L.maxTargets) }).body.targets).toHaveLength(32);
    expectOnly({ ...minimal(), targets: targets(L.maxTargets + 1) }, '/targets', 'too_many_items');
  });

  it(`changes: ${L.maxChanges} ok, one more too_many_items`, () => {
    expect(expectOk({ ...minimal(), changes: changes(L.maxChanges) }).body.changes).toHaveLength(100);
    expectOnly({ ...minimal(), changes: changes(L.maxChanges + 1) }, '/changes', 'too_many_items');
  });

  it.each([
    ['metadata', (m: unknown) => ({ ...minimal(), metadata: m }), '/metadata'],
    ['actor.metadata', (m: unknown) => ({ ...minimal(), actor: { type: 'user', id: 'u', metadata: m } }), '/actor/metadata'],
    ['targets.0.metadata', (m: unknown) => ({ ...minimal(), targets: [{ type: 't', id: 'i', metadata: m }] }), '/targets/0/metadata'],
    ['nested metadata object', (m: unknown) => ({ ...minimal(), metadata: { outer: m } }), '/metadata/outer'],
  ])(`%s: ${L.metadataMaxKeys} keys ok, one more too_many_keys`, (_name, make, pointer) => {
    expectOk(make(keys(L.metadataMaxKeys)));
    expectOnly(make(keys(L.metadataMaxKeys + 1)), pointer, 'too_many_keys');
  });

  it('does not count undefined-valued metadata keys', () => {
    const { body } = expectOk({ ...minimal(), metadata: { ...keys(L.metadataMaxKeys), gone: undefined } });
    expect(Object.keys(body.metadata ?? {})).toHaveLength(L.metadataMaxKeys);
  });
});

describe('validateEvent: nesting depth', () => {
  it(`metadata: depth ${L.metadataMaxDepth} ok, ${L.metadataMaxDepth + 1} too_deep (objects and arrays)`, () => {
    expectOk({ ...minimal(), metadata: { a: { b: { c: { d: 1 } } } } });
    expectOk({ ...minimal(), metadata: { a: { b: { c: {} } } } });
    expectOk({ ...minimal(), metadata: { a: [[[1]]] } });
    expectOnly({ ...minimal(), metadata: { a: { b: { c: { d: {} } } } } }, '/metadata/a/b/c/d', 'too_deep');
    expectOnly({ ...minimal(), metadata: { a: [[[[1]]]] } }, '/metadata/a/0/0/0', 'too_deep');
    expectOnly({ ...minimal(), actor: { type: 'user', id: 'u', metadata: { a: { b: { c: { d: [] } } } } } }, '/actor/metadata/a/b/c/d', 'too_deep');
  });

  it(`change values: depth ${L.changeValueMaxDepth} ok, ${L.changeValueMaxDepth + 1} too_deep`, () => {
    const nest = (depth: number): unknown => (depth === 0 ? 'leaf' : { n: nest(depth - 1) });
    expectOk({ ...minimal(), changes: [{ field: 'f', before: nest(L.changeValueMaxDepth) }] });
    const pointer = `/changes/0/after${'/n'.repeat(L.changeValueMaxDepth)}`;
    expectOnly({ ...minimal(), changes: [{ field: 'f', after: nest(L.changeValueMaxDepth + 1) }] }, pointer, 'too_deep');
  });

  it('does not overflow the stack on hostile nesting', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expectOnly({ ...minimal(), changes: [{ field: 'f', after: deep }] }, `/changes/0/after${'/0'.repeat(L.changeValueMaxDepth)}`, 'too_deep');
    expectOnly({ ...minimal(), metadata: { deep } }, `/metadata/deep${'/0'.repeat(L.metadataMaxDepth - 1)}`, 'too_deep');
  });
});

describe('validateEvent: JSON values', () => {
  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['a function', () => 1],
    ['a bigint', 1n],
    ['a symbol', Symbol('s')],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
    ['a class instance', new (class Point {})()],
  ])('rejects %s in metadata and change values as invalid_type', (_name, value) => {
    expectOnly({ ...minimal(), metadata: { x: value } }, '/metadata/x', 'invalid_type');
    expectOnly({ ...minimal(), changes: [{ field: 'f', after: [0, value] }] }, '/changes/0/after/1', 'invalid_type');
  });

  it('rejects undefined array items and sparse arrays', () => {
    expectOnly({ ...minimal(), metadata: { x: [1, undefined] } }, '/metadata/x/1', 'invalid_type');
    // biome-ignore lint/suspicious/noSparseArray: a sparse array is the input under test
    expectOnly({ ...minimal(), metadata: { x: [1, , 3] } }, '/metadata/x/1', 'invalid_type');
  });

  it('accepts metadata objects without a prototype', () => {
    const metadata = Object.assign(Object.create(null) as object, { a: 1 });
    expect(expectOk({ ...minimal(), metadata }).body.metadata).toEqual({ a: 1 });
  });

  it('rejects "__proto__" keys and never changes a prototype', () => {
    const input = JSON.parse(
      '{"action":"a","actor":{"type":"user","id":"u"},"metadata":{"__proto__":{"polluted":true}},"changes":[{"field":"f","after":{"__proto__":{"polluted":true}}}]}',
    );
    expect(errorsOf(input)).toEqual([
      { pointer: '/changes/0/after/__proto__', code: 'pattern' },
      { pointer: '/metadata/__proto__', code: 'pattern' },
    ]);
    expect(({} as Loose).polluted).toBeUndefined();
  });

  it('escapes metadata keys in pointers (RFC 6901)', () => {
    expectOnly({ ...minimal(), metadata: { 'a/b': { '~x': 'bad\u0000' } } }, '/metadata/a~1b/~0x', 'invalid_string');
    expectOnly({ ...minimal(), metadata: { '': { '': 'bad\u0000' } } }, '/metadata//', 'invalid_string');
  });
});

describe('validateEvent: serialized sizes', () => {
  /** Metadata whose JSON is exactly `bytes` long, built around `seed` so the byte count covers escapes and multi-byte UTF-8. */
  function metadataOfSize(bytes: number, seed: Record<string, unknown>): Record<string, unknown> {
    const withPad = { ...seed, pad: '' };
    const base = Buffer.byteLength(JSON.stringify(withPad));
    return { ...seed, pad: 'p'.repeat(bytes - base) };
  }

  const seeds: [string, Record<string, unknown>][] = [
    ['ASCII', { a: 'b' }],
    ['escapes and multi-byte text', { 'quote"key': 'tab\t, nl\n, esc\u001b, bs\\, é, 中, 😀, \u2028', n: [-1.5e-7, 0, 1e21, true, null, false], o: {} }],
  ];

  it.each(seeds)(`metadata (%s): ${L.metadataMaxBytes} bytes ok, one more too_large`, (_name, seed) => {
    expectOk({ ...minimal(), metadata: metadataOfSize(L.metadataMaxBytes, seed) });
    expectOnly({ ...minimal(), metadata: metadataOfSize(L.metadataMaxBytes + 1, seed) }, '/metadata', 'too_large');
    expectOnly({ ...minimal(), actor: { type: 'user', id: 'u', metadata: metadataOfSize(L.metadataMaxBytes + 1, seed) } }, '/actor/metadata', 'too_large');
    expectOnly(
      {
        ...minimal(),
        targets: [
          { type: 't', id: 'i' },
          { type: 't', id: 'i', metadata: metadataOfSize(L.metadataMaxBytes + 1, seed) },
        ],
      },
      '/targets/1/metadata',
      'too_large',
    );
  });

  it('counts metadata size exactly for arbitrary metadata', () => {
    fc.assert(
      fc.property(metadataArb, (metadata) => {
        const seed = metadata as Record<string, unknown>;
        if (Buffer.byteLength(JSON.stringify({ ...seed, pad: '' })) > L.metadataMaxBytes) return;
        expectOk({ ...minimal(), metadata: metadataOfSize(L.metadataMaxBytes, seed) });
        expectOnly({ ...minimal(), metadata: metadataOfSize(L.metadataMaxBytes + 1, seed) }, '/metadata', 'too_large');
      }),
      { numRuns: 200 },
    );
  });

  it(`whole event: ${L.eventMaxBytes} bytes ok, one more too_large at the root`, () => {
    const event = (padding: number) => ({ ...minimal(), changes: [{ field: 'f', after: 'x'.repeat(padding) }] });
    const base = expectOk(event(0)).size;
    const fits = expectOk(event(L.eventMaxBytes - base));
    expect(fits.size).toBe(L.eventMaxBytes);
    expectOnly(event(L.eventMaxBytes - base + 1), '', 'too_large');
  });
});

describe('validateBatch', () => {
  const valid = (n: number) => ({ ...minimal(), id: `e${n}` });

  it('validates a single event object in single mode', () => {
    const result = validateBatch(valid(1), opts);
    expect(result).toEqual({ mode: 'single', accepted: [{ index: 0, body: expectOk(valid(1)).body, size: expectOk(valid(1)).size }], rejected: [] });
  });

  it('rejects a single invalid event with pointers relative to the body', () => {
    const result = validateBatch({ ...minimal(), action: 'Bad' }, opts);
    expect(result.mode).toBe('single');
    expect(result.accepted).toEqual([]);
    expect(result.rejected).toEqual([{ index: 0, errors: [expect.objectContaining({ pointer: '/action', code: 'pattern' })] }]);
  });

  it('accepts the valid events of a batch and prefixes the errors of the others', () => {
    const result = validateBatch({ events: [valid(0), { ...minimal(), actor: { type: 'user' } }, valid(2), 'junk'] }, opts);
    expect(result.mode).toBe('batch');
    expect(result.accepted.map((a) => [a.index, a.body.id])).toEqual([
      [0, 'e0'],
      [2, 'e2'],
    ]);
    expect(result.rejected).toEqual([
      { index: 1, errors: [{ pointer: '/events/1/actor/id', code: 'required', message: 'actor.id is required' }] },
      { index: 3, errors: [{ pointer: '/events/3', code: 'invalid_type', message: 'the event must be an object' }] },
    ]);
  });

  it('returns per-event tenants when allowed', () => {
    const result = validateBatch({ events: [{ ...minimal(), tenant: 'a' }, minimal()] }, { now, allowTenantField: true });
    expect(result.accepted.map((a) => a.tenant)).toEqual(['a', undefined]);
    expect(result.accepted[1]).not.toHaveProperty('tenant');
  });

  it(`accepts ${MAX_BATCH} events`, () => {
    const result = validateBatch({ events: Array.from({ length: MAX_BATCH }, (_, i) => valid(i)) }, opts);
    expect(result.accepted).toHaveLength(MAX_BATCH);
    expect(result.accepted[MAX_BATCH - 1]?.index).toBe(MAX_BATCH - 1);
  });

  function envelopeError(input: unknown): TrailproofError {
    try {
      validateBatch(input, opts);
    } catch (err) {
      if (err instanceof TrailproofError) return err;
      throw err;
    }
    throw new Error('expected validateBatch to throw');
  }

  it.each([
    ['null', null, '', 'invalid_type'],
    ['an array', [minimal()], '', 'invalid_type'],
    ['a string', 'event', '', 'invalid_type'],
    ['events not an array', { events: { 0: minimal() } }, '/events', 'invalid_type'],
    ['events null', { events: null }, '/events', 'invalid_type'],
    ['no events', { events: [] }, '/events', 'required'],
    [`${MAX_BATCH + 1} events`, { events: Array.from({ length: MAX_BATCH + 1 }, () => minimal()) }, '/events', 'too_many_items'],
    ['other keys beside events', { events: [minimal()], tenant: 'acme' }, '/tenant', 'unknown_field'],
  ])('throws EVENT_INVALID for %s', (_name, input, pointer, code) => {
    const err = envelopeError(input);
    expect(err.code).toBe('EVENT_INVALID');
    expect(err.status).toBe(400);
    expect(err.details?.map((d) => ({ pointer: d.pointer, code: d.code }))).toEqual([{ pointer, code }]);
  });
});

describe('validateEvent: properties', () => {
  it('accepts every valid event, and normalizing twice changes nothing', () => {
    fc.assert(
      fc.property(eventArb, ({ input, expectedOccurredAt }) => {
        const first = expectOk(input);
        expect(first.body.occurred_at).toBe(expectedOccurredAt);
        expect(first.body.action).toBe(input.action);
        expect(first.body.outcome).toBe(input.outcome ?? 'success');
        expect(first.body.targets).toHaveLength(input.targets?.length ?? 0);
        expect(hasUndefined(first.body)).toBe(false);
        // The body is plain JSON: a round trip through JSON.stringify/parse is the identity.
        expect(JSON.parse(JSON.stringify(first.body))).toStrictEqual(first.body);
        expect(first.size).toBe(Buffer.byteLength(JSON.stringify(first.body)));
        const second = expectOk(first.body);
        expect(second.body).toStrictEqual(first.body);
        expect(second.size).toBe(first.size);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary input, and reports well-formed errors', () => {
    const junk = fc.anything({
      maxDepth: 4,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    });
    fc.assert(
      fc.property(junk, fc.boolean(), (input, allowTenantField) => {
        checkWellFormed(validateEvent(input, { now, allowTenantField }));
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws when one field of a valid event is replaced by junk', () => {
    const paths = [
      'id',
      'action',
      'occurred_at',
      'actor',
      'actor.type',
      'actor.id',
      'actor.name',
      'actor.metadata',
      'targets',
      'targets.0',
      'targets.0.type',
      'targets.0.metadata',
      'outcome',
      'reason',
      'context',
      'context.ip',
      'context.location',
      'changes',
      'changes.0',
      'changes.0.field',
      'changes.0.before',
      'metadata',
      'tenant',
      'extra',
    ];
    const junk = fc.anything({
      maxDepth: 3,
      withBigInt: true,
      withDate: true,
      withMap: true,
      withNullPrototype: true,
      withSparseArray: true,
      withUnicodeString: true,
    });
    fc.assert(
      fc.property(fc.constantFrom(...paths), junk, (path, value) => {
        checkWellFormed(validateEvent(richWith(path, value), opts));
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws from validateBatch except with EVENT_INVALID', () => {
    const junkEvent = fc.oneof(
      eventArb.map((e) => e.input as unknown),
      fc.anything({ maxDepth: 3 }),
    );
    const body = fc.oneof(fc.anything({ maxDepth: 3 }), fc.record({ events: fc.array(junkEvent, { maxLength: 5 }) }), junkEvent);
    fc.assert(
      fc.property(body, (input) => {
        try {
          const result = validateBatch(input, opts);
          for (const r of result.rejected) {
            expect(r.errors.length).toBeGreaterThan(0);
            if (result.mode === 'batch') for (const e of r.errors) expect(e.pointer.startsWith(`/events/${r.index}`)).toBe(true);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(TrailproofError);
          expect((err as TrailproofError).code).toBe('EVENT_INVALID');
        }
      }),
      { numRuns: 500 },
    );
  });
});

function checkWellFormed(result: ReturnType<typeof validateEvent>): void {
  if (result.ok) {
    expect(JSON.parse(JSON.stringify(result.body))).toStrictEqual(result.body);
    return;
  }
  expect(result.errors.length).toBeGreaterThan(0);
  expect(result.errors.length).toBeLessThanOrEqual(L.maxErrorsPerEvent);
  const pointers = result.errors.map((e) => e.pointer);
  expect(new Set(pointers).size).toBe(pointers.length);
  for (const e of result.errors) {
    expect(EVENT_ERROR_CODES).toContain(e.code);
    expect(e.pointer === '' || e.pointer.startsWith('/')).toBe(true);
    expect(e.message.length).toBeGreaterThan(0);
  }
}
