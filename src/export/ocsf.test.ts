/**
 * OCSF output against the JSON Schemas of the classes it uses (test/fixtures/ocsf, written from the
 * ocsf/ocsf-schema 1.3.0 definitions; README.md there names the sources): every demo action, every
 * default mapping, hostile values, and events with the optional parts missing.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { demoEvents } from '../demo/generator.ts';
import type { EventBody, StoredEvent } from '../event/types.ts';
import { ocsfEvent, ocsfFormat, OCSF_VERSION } from './ocsf.ts';
import { DEFAULT_OCSF_MAPPING } from './ocsf-mapping.ts';

const fixture = (name: string) => JSON.parse(readFileSync(fileURLToPath(new URL(`../../test/fixtures/ocsf/${name}`, import.meta.url)), 'utf8')) as object;

const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
addFormats.default(ajv);
ajv.addSchema(fixture('base.schema.json'));
const SCHEMAS: Record<number, ReturnType<typeof ajv.compile>> = {
  3001: ajv.compile(fixture('account_change.schema.json')),
  3002: ajv.compile(fixture('authentication.schema.json')),
  3004: ajv.compile(fixture('entity_management.schema.json')),
  6003: ajv.compile(fixture('api_activity.schema.json')),
};

function expectValid(doc: Record<string, unknown>): void {
  const validate = SCHEMAS[doc.class_uid as number];
  expect(validate, `no schema for class ${String(doc.class_uid)}`).toBeDefined();
  const ok = validate!(doc);
  expect(ok ? [] : validate!.errors, JSON.stringify(doc)).toEqual([]);
  // Base event rules the schema cannot state across attributes (OCSF base_event.json).
  expect(doc.category_uid).toBe(Math.floor((doc.class_uid as number) / 1000));
  expect(doc.type_uid).toBe((doc.class_uid as number) * 100 + (doc.activity_id as number));
}

let n = 0;
function stored(body: EventBody, overrides: Partial<StoredEvent> = {}): StoredEvent {
  n++;
  return {
    ...body,
    uid: `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    tenant: 'acme',
    seq: n,
    received_at: '2026-11-22T10:00:01.000Z',
    ...overrides,
  };
}

const HOSTILE = 'quote " backslash \\ ] = | \n\r\t ünïcødé 東京 🙂 \u2028 =HYPERLINK("x") <script>';

describe('OCSF export', () => {
  const demo = [...demoEvents(2000, { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z'), seed: 7 })].map((b) => stored(b));

  it('covers every demo action and validates each against its class schema', () => {
    const seen = new Map<string, number>();
    for (const e of demo) {
      const doc = ocsfEvent(e);
      expectValid(doc);
      seen.set(e.action, doc.class_uid as number);
    }
    expect(Object.fromEntries(seen)).toEqual({
      'user.login': 3002,
      'user.login_failed': 3002,
      'document.read': 3004,
      'document.updated': 3004,
      'document.exported': 3004,
      'member.role_changed': 3001,
      'api.called': 6003,
    });
  });

  it('validates an event of every default mapping entry, with hostile values and without optional parts', () => {
    for (const pattern of [...DEFAULT_OCSF_MAPPING.keys(), 'unknown.thing']) {
      const action = pattern.replace(/^\*/, 'thing').replace(/\*$/, 'whatever');
      for (const full of [true, false]) {
        const body: EventBody = full
          ? {
              action,
              occurred_at: '2026-11-22T10:00:00.123Z',
              actor: { type: 'service', id: HOSTILE, name: HOSTILE, metadata: { x: HOSTILE } },
              targets: [
                { type: 'user', id: HOSTILE, name: HOSTILE },
                { type: 'document', id: 'doc_1' },
              ],
              outcome: 'failure',
              reason: HOSTILE,
              context: { ip: '2001:db8::1', user_agent: HOSTILE, location: HOSTILE, request_id: HOSTILE, session_id: HOSTILE },
              changes: [{ field: HOSTILE, before: { nested: [HOSTILE] }, after: null }],
              metadata: { [HOSTILE]: HOSTILE },
              id: HOSTILE,
            }
          : { action, occurred_at: '2026-11-22T10:00:00.000Z', actor: { type: 'anonymous', id: 'anon' }, targets: [], outcome: 'success', context: {} };
        const e = stored(body);
        const doc = ocsfEvent(e);
        expectValid(doc);
        // One line per event whatever the values hold, and it parses back to the same document.
        const line = ocsfFormat(new Map()).record(e);
        expect(line.indexOf('\n')).toBe(line.length - 1);
        expect(JSON.parse(line)).toEqual(doc);
      }
    }
  });

  it('states outcome, times and identity the OCSF way', () => {
    const e = demo.find((d) => d.action === 'user.login_failed')!;
    const doc = ocsfEvent(e) as Record<string, any>;
    expect(doc).toMatchObject({
      class_uid: 3002,
      activity_id: 1,
      activity_name: 'Logon',
      type_uid: 300201,
      status_id: 2,
      status: 'Failure',
      status_detail: e.reason,
      severity_id: 3,
    });
    expect(doc.time).toBe(Date.parse(e.occurred_at));
    expect(doc.metadata).toMatchObject({
      version: OCSF_VERSION,
      uid: e.uid,
      tenant_uid: 'acme',
      original_time: e.occurred_at,
      logged_time: Date.parse(e.received_at),
      event_code: e.action,
    });
    expect(doc.user).toEqual({ uid: e.actor.id, name: e.actor.name, type_id: 1, type: 'User' });
    expect(doc.src_endpoint).toEqual({ ip: e.context.ip });
  });

  it('puts the changed account in user for Account Change and before/after in entity data for updates', () => {
    const role = ocsfEvent(demo.find((d) => d.action === 'member.role_changed')!) as Record<string, any>;
    expect(role).toMatchObject({ class_uid: 3001, activity_id: 7, activity_name: 'Attach Policy' });
    expect(role.user.uid).not.toBe(role.actor.user.uid);
    const update = demo.find((d) => d.action === 'document.updated')!;
    const doc = ocsfEvent(update) as Record<string, any>;
    const change = update.changes![0]!;
    expect(doc.entity).toMatchObject({ uid: update.targets[0]!.id, type: 'document', data: { [change.field]: change.before } });
    expect(doc.entity_result).toMatchObject({ uid: update.targets[0]!.id, data: { [change.field]: change.after } });
  });

  it('names the action as the activity of API Activity "Other"', () => {
    const doc = ocsfEvent(demo.find((d) => d.action === 'api.called')!) as Record<string, any>;
    expect(doc).toMatchObject({ class_uid: 6003, activity_id: 99, activity_name: 'api.called', api: { operation: 'api.called' } });
  });

  it('follows the override table', () => {
    const e = demo.find((d) => d.action === 'document.read')!;
    const doc = ocsfEvent(e, new Map([['document.*', { class_uid: 6003, activity_id: 2 }]]));
    expect(doc).toMatchObject({ class_uid: 6003, activity_id: 2, type_uid: 600302 });
    expectValid(doc);
  });

  it('fails the schema when a required attribute is missing or an id is outside the enum (the schemas can fail)', () => {
    const doc = ocsfEvent(demo.find((d) => d.action === 'user.login')!);
    const { user: _user, ...noUser } = doc;
    expect(SCHEMAS[3002]!(noUser)).toBe(false);
    expect(SCHEMAS[3002]!({ ...doc, activity_id: 7, type_uid: 300207 })).toBe(false);
    expect(SCHEMAS[3002]!({ ...doc, invented: 1 })).toBe(false);
    expect(SCHEMAS[3002]!({ ...doc, src_endpoint: { ip: 'not an ip' } })).toBe(false);
  });
});
