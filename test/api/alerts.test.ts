/**
 * Alert rules end to end: CRUD with validation pointing at the field and tenant isolation; threshold,
 * first-seen and absence rules evaluated by racing followers under a sustained ingest stream, firing
 * exactly once per window and group, surviving a second process ("restart"); firings recorded as
 * `alert.fired` once and delivered to a real webhook receiver (signature checked), a Slack-format
 * receiver and a real SMTP server, with a failed channel retried alone.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertHandler } from '../../src/alert/alert-evaluator.ts';
import type { StoredEvent } from '../../src/event/types.ts';
import { createServices } from '../../src/http/services.ts';
import { CommittedFollower } from '../../src/query/committed-follower.ts';
import { startHttpReceiver, type HttpReceiver } from '../../src/stream/testing/http-receiver.ts';
import { webhookSignature } from '../../src/stream/webhook.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

const SECRET = 'alert-signing-secret-0123456789';
let t: TestApp;
let adminA: string;
let readA: string;
let ingestA: string;
let adminB: string;
let hooks: HttpReceiver;
let smtp: SMTPServer;
const mails: { to: string[]; raw: string }[] = [];

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  const { port } = smtp.server.address() as AddressInfo;
  t = await createTestApp({
    TRAILPROOF_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789',
    TRAILPROOF_SMTP_URL: `smtp://127.0.0.1:${port}`,
    TRAILPROOF_ALERT_EMAIL_FROM: 'alerts@trailproof.test',
  });
  hooks = await startHttpReceiver();
  await t.createTenant('acme');
  await t.createTenant('globex');
  adminA = await t.createKey('admin', 'acme');
  readA = await t.createKey('read', 'acme');
  ingestA = await t.createKey('ingest', 'acme');
  adminB = await t.createKey('admin', 'globex');
});
afterAll(async () => {
  await t.services.alerts.stop();
  await hooks.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  await t.close();
});

const ev = (action: string, actor: string, at: string, extra: Record<string, unknown> = {}) => ({
  action,
  occurred_at: at,
  actor: { type: 'user', id: actor },
  targets: [],
  ...extra,
});
async function ingest(key: string, events: unknown[]): Promise<void> {
  const res = await t.request('POST', '/v1/events', { key, body: { events } });
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`);
}
const createRule = (body: Record<string, unknown>, key = adminA) => t.request('POST', '/v1/alert-rules', { key, body });
const firingsOf = async (rule: string) => {
  const res = await t.request('GET', `/v1/alert-rules/${rule}/firings`, { key: readA });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data as { id: string; group: string; window_start: string; delivered_at: string | null; last_error: string | null }[];
};
const fired = async () => {
  const res = await t.request('GET', '/v1/events?action=alert.fired&limit=1000&sort=asc', { key: readA });
  return res.json().data as StoredEvent[];
};
const evaluate = () => t.services.alerts.follower.catchUp();

describe('/v1/alert-rules', () => {
  let ruleId: string;

  it('creates, lists, changes and deletes rules, recording every change; the secret is never shown', async () => {
    const res = await createRule({
      name: 'Logins from anywhere',
      kind: 'threshold',
      filter: { action: 'user.login' },
      params: { count: 5, window_seconds: 3600, group_by: 'actor' },
      channels: [{ type: 'webhook', url: `${hooks.url}/x` }],
      secret: SECRET,
    });
    expect(res.statusCode, res.body).toBe(201);
    ruleId = res.json().id;
    expect(res.json()).toMatchObject({ tenant: 'acme', kind: 'threshold', has_secret: true, enabled: true, cooldown_seconds: 0 });
    expect(res.body).not.toContain(SECRET);
    const listed = await t.request('GET', '/v1/alert-rules', { key: readA });
    expect(listed.json().data.map((r: { id: string }) => r.id)).toEqual([ruleId]);
    const patched = await t.request('PATCH', `/v1/alert-rules/${ruleId}`, { key: adminA, body: { enabled: false, cooldown_seconds: 600 } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ enabled: false, cooldown_seconds: 600, params: { count: 5 } });
    expect((await t.request('DELETE', `/v1/alert-rules/${ruleId}`, { key: adminA })).statusCode).toBe(204);
    expect((await t.request('GET', `/v1/alert-rules/${ruleId}`, { key: readA })).statusCode).toBe(404);
    const changes = await t.request('GET', '/v1/events?action=alert_rule.*&sort=asc', { key: readA });
    const records = changes.json().data as StoredEvent[];
    expect(records.map((e) => e.action)).toEqual(['alert_rule.created', 'alert_rule.updated', 'alert_rule.deleted']);
    expect(JSON.stringify(records)).not.toContain(SECRET);
  });

  it('refuses bad rules, pointing at the field', async () => {
    const ok = { name: 'r', kind: 'threshold', params: { count: 3, window_seconds: 60 } };
    const bad = async (body: Record<string, unknown>, pointer: string, code = 'REQUEST_INVALID') => {
      const res = await createRule({ ...ok, ...body });
      expect(res.json().error, JSON.stringify(body)).toMatchObject({ code });
      expect(res.json().error.details?.map((d: { pointer: string }) => d.pointer) ?? [], JSON.stringify(body)).toContain(pointer);
    };
    await bad({ kind: 'sometimes' }, '/kind');
    await bad({ params: { count: 0, window_seconds: 60 } }, '/params/count');
    await bad({ params: { count: 3, window_seconds: 10 } }, '/params/window_seconds');
    await bad({ params: { count: 3, window_seconds: 60, group_by: 'colour' } }, '/params/group_by');
    await bad({ params: { count: 3, window_seconds: 60, field: 'ip' } }, '/params/field');
    await bad({ kind: 'first_seen', params: { field: 'shoe_size' } }, '/params/field');
    await bad({ kind: 'absence', params: { period_seconds: 'long' } }, '/params/period_seconds');
    await bad({ filter: { action: 'not an action' } }, '/filter/action');
    await bad({ saved_search: 'ss_nosuchsearch' }, '/saved_search');
    await bad({ channels: [{ type: 'pager', url: 'https://x' }] }, '/channels/0/type');
    await bad({ channels: [{ type: 'slack', url: 'ftp://x' }] }, '/channels/0/url');
    await bad({ channels: [{ type: 'email', to: ['not-an-address'] }] }, '/channels/0/to/0');
    await bad({ channels: [{ type: 'webhook', url: 'https://hooks.test/a' }] }, '/secret');
    await bad({ cooldown_seconds: -1 }, '/cooldown_seconds');
    await bad({ name: '-x' }, '/name');
    expect((await createRule(ok)).statusCode).toBe(201);
    await bad({}, '/name', 'ALERT_RULE_EXISTS');
    expect((await createRule({ ...ok, name: 'by reader' }, readA)).statusCode).toBe(403);
  });

  it('takes working hours in a time zone, refusing a bad zone, day or time at its field', async () => {
    const base = { name: 'Night logins', kind: 'threshold', filter: { action: 'user.login' }, params: { count: 1, window_seconds: 60 } };
    const bad = async (outside_hours: unknown, pointer: string, code: string, extra: Record<string, unknown> = {}) => {
      const res = await createRule({ ...base, ...extra, outside_hours });
      expect(res.statusCode, JSON.stringify(outside_hours)).toBe(400);
      expect(res.json().error.details, JSON.stringify(outside_hours)).toContainEqual(expect.objectContaining({ pointer, code }));
    };
    await bad({ timezone: 'Mars/Olympus' }, '/outside_hours/timezone', 'invalid_timezone');
    await bad({ timezone: '+01:00' }, '/outside_hours/timezone', 'invalid_timezone');
    await bad({ timezone: 'UTC+3' }, '/outside_hours/timezone', 'invalid_timezone');
    await bad({ days: [0, 1] }, '/outside_hours/days', 'invalid_value');
    await bad({ days: [] }, '/outside_hours/days', 'invalid_value');
    await bad({ days: [1, 1] }, '/outside_hours/days', 'invalid_value');
    await bad({ start: '8am' }, '/outside_hours/start', 'pattern');
    await bad({ end: '24:01' }, '/outside_hours/end', 'pattern');
    await bad({ start: '18:00', end: '08:00' }, '/outside_hours/end', 'out_of_range');
    await bad({ colour: 'red' }, '/outside_hours/colour', 'unknown_field');
    await bad('always', '/outside_hours', 'invalid_type');
    await bad({}, '/outside_hours', 'conflict', { kind: 'absence', params: { period_seconds: 3600 } });
    const res = await createRule({ ...base, outside_hours: { timezone: 'europe/berlin', days: [5, 1], end: '24:00' } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().outside_hours).toEqual({ timezone: 'Europe/Berlin', days: [1, 5], start: '08:00', end: '24:00' });
    const cleared = await t.request('PATCH', `/v1/alert-rules/${res.json().id}`, { key: adminA, body: { outside_hours: null } });
    expect(cleared.json().outside_hours).toBeNull();
    const changed = await t.request('PATCH', `/v1/alert-rules/${res.json().id}`, { key: adminA, body: { outside_hours: { timezone: 'Nowhere/Land' } } });
    expect(changed.json().error.details).toContainEqual(expect.objectContaining({ pointer: '/outside_hours/timezone', code: 'invalid_timezone' }));
    expect((await t.request('DELETE', `/v1/alert-rules/${res.json().id}`, { key: adminA })).statusCode).toBe(204);
  });

  it("never shows or changes another tenant's rules or firings, nor counts its events", async () => {
    const [rule] = (await t.request('GET', '/v1/alert-rules', { key: readA })).json().data;
    expect((await t.request('GET', `/v1/alert-rules/${rule.id}`, { key: adminB })).statusCode).toBe(404);
    expect((await t.request('PATCH', `/v1/alert-rules/${rule.id}`, { key: adminB, body: { enabled: false } })).statusCode).toBe(404);
    expect((await t.request('DELETE', `/v1/alert-rules/${rule.id}`, { key: adminB })).statusCode).toBe(404);
    expect((await t.request('GET', `/v1/alert-rules/${rule.id}/firings`, { key: adminB })).statusCode).toBe(404);
    expect((await t.request('GET', '/v1/alert-rules', { key: adminB })).json().data).toEqual([]);
    expect((await t.request('GET', '/v1/alert-rules?tenant=acme', { key: adminB })).statusCode).toBe(403);
    expect((await t.request('GET', '/v1/alert-firings?tenant=acme', { key: adminB })).statusCode).toBe(403);
    expect((await createRule({ tenant: 'acme', name: 'z', kind: 'absence', params: { period_seconds: 60 } }, adminB)).statusCode).toBe(403);
    const search = await t.request('POST', '/v1/saved-searches', { key: adminA, body: { name: 'acme logins', filter: { action: 'user.login' } } });
    const theirs = await createRule({ name: 'theirs', kind: 'absence', saved_search: search.json().id, params: { period_seconds: 60 } }, adminB);
    expect(theirs.json().error).toMatchObject({ code: 'REQUEST_INVALID', details: [expect.objectContaining({ pointer: '/saved_search' })] });
    // A globex rule over the same actions never sees acme's events.
    const globexRule = await createRule(
      { name: 'g', kind: 'threshold', filter: { action: 'user.login_failed' }, params: { count: 1, window_seconds: 60 } },
      adminB,
    );
    expect(globexRule.statusCode, globexRule.body).toBe(201);
    await ingest(ingestA, [ev('user.login_failed', 'someone', '2025-03-01T00:00:00Z')]);
    await evaluate();
    expect((await t.request('GET', `/v1/alert-rules/${globexRule.json().id}/firings`, { key: adminB })).json().data).toEqual([]);
    await t.request('DELETE', `/v1/alert-rules/${globexRule.json().id}`, { key: adminB });
    await t.request('DELETE', `/v1/alert-rules/${rule.id}`, { key: adminA });
  });
});

describe('evaluation and delivery', () => {
  let burst: string;

  it('fires a threshold rule exactly once per window and group under a sustained stream, across racing followers and a second process', async () => {
    const search = await t.request('POST', '/v1/saved-searches', {
      key: adminA,
      body: { name: 'failed logins', filter: { action: 'user.login_failed', outcome: 'failure' } },
    });
    const res = await createRule({
      name: 'Failed-login burst',
      kind: 'threshold',
      saved_search: search.json().id,
      params: { count: 10, window_seconds: 3600, group_by: 'actor' },
      channels: [
        { type: 'webhook', url: `${hooks.url}/signed` },
        { type: 'slack', url: `${hooks.url}/slack` },
        { type: 'email', to: ['security@acme.test'] },
      ],
      secret: SECRET,
    });
    expect(res.statusCode, res.body).toBe(201);
    burst = res.json().id;
    const failedAt = (hour: number, i: number) =>
      ev('user.login_failed', '', new Date(Date.parse(`2025-06-01T0${hour}:00:00Z`) + i * 1000).toISOString(), { outcome: 'failure' });
    const as = (actor: string, e: ReturnType<typeof failedAt>) => ({ ...e, actor: { type: 'user', id: actor } });
    // 12 rounds: mallory 2 per round in hour 1 (24) and 1 per round in hour 2 (12), bob 1 per round in
    // hour 1 (12), carol 9 in hour 2 in all; successes never count.
    const rounds = Array.from({ length: 12 }, (_, r) => [
      as('mallory', failedAt(1, 2 * r)),
      as('mallory', failedAt(1, 2 * r + 1)),
      as('mallory', failedAt(2, r)),
      as('bob', failedAt(1, 100 + r)),
      ...(r < 9 ? [as('carol', failedAt(2, 200 + r))] : []),
      ev('user.login_failed', 'carol', '2025-06-01T02:30:00Z'),
    ]);
    const racers = [0, 1].map(() => new CommittedFollower({ sql: t.db.sql, handler: alertHandler, batchSize: 3 }));
    let streaming = true;
    const stream = (async () => {
      for (const round of rounds) await ingest(ingestA, round);
      streaming = false;
    })();
    const follow = async (f: CommittedFollower) => {
      while (streaming) await f.catchUp();
    };
    await Promise.all([stream, ...racers.map(follow), follow(t.services.alerts.follower)]);
    // A second process on the same database (a restart) catches up and repeats nothing.
    const other = createServices(t.db.sql, t.config);
    await other.alerts.follower.catchUp();
    await evaluate();
    const firings = await firingsOf(burst);
    expect(firings.map((f) => `${f.group} ${f.window_start}`).sort()).toEqual([
      'bob 2025-06-01T01:00:00.000Z',
      'mallory 2025-06-01T01:00:00.000Z',
      'mallory 2025-06-01T02:00:00.000Z',
    ]);

    // Delivery, from the second process; the webhook refuses once, so only it is retried.
    hooks.decide = (req) => (req.path === '/signed' && hooks.seen.filter((s) => s.path === '/signed').length <= 1 ? 'fail' : 'ok');
    await other.alerts.tick();
    expect((await firingsOf(burst)).filter((f) => f.last_error?.includes('webhook #0'))).toHaveLength(1);
    await t.db.sql`update alert_firings set next_attempt_at = now() where rule_id = ${burst} and delivered_at is null`;
    await t.services.alerts.tick();
    expect((await firingsOf(burst)).every((f) => f.delivered_at !== null)).toBe(true);
    await other.alerts.stop();
    await other.committer.close();

    const records = await fired();
    expect(records).toHaveLength(3);
    expect(new Set(records.map((e) => e.id))).toEqual(new Set(firings.map((f) => `alert-firing:${f.id}`)));
    const signed = hooks.accepted.filter((r) => r.path === '/signed');
    expect(signed).toHaveLength(3);
    for (const r of signed) {
      const expected = webhookSignature(SECRET, r.headers['trailproof-timestamp'] as string, r.body);
      expect(r.headers['trailproof-signature']).toBe(`v1=${expected}`);
      const body = JSON.parse(r.body.toString());
      expect(body).toMatchObject({ type: 'alert.fired', tenant: 'acme', rule: { id: burst, name: 'Failed-login burst' } });
      expect(records.map((e) => e.uid)).toContain(body.event_uid);
    }
    const slack = hooks.accepted.filter((r) => r.path === '/slack');
    expect(slack).toHaveLength(3);
    expect(JSON.parse(slack[0]!.body.toString()).text).toContain('Failed-login burst');
    expect(mails).toHaveLength(3);
    expect(mails.every((m) => m.to.join() === 'security@acme.test' && m.raw.includes('From: alerts@trailproof.test'))).toBe(true);
    hooks.decide = undefined;
  });

  it('records alert.fired once even when a crash after recording sends the firing again', async () => {
    const [firing] = await firingsOf(burst);
    // The state a crash between recording and marking leaves: nothing marked sent or delivered.
    await t.db.sql`update alert_firings set delivered_at = null, sent = '{}', next_attempt_at = now() where id = ${firing!.id}`;
    await t.services.alerts.tick();
    expect(await fired()).toHaveLength(3);
    const again = hooks.accepted.filter((r) => r.path === '/signed' && r.headers['trailproof-alert-id'] === firing!.id);
    expect(again).toHaveLength(2);
  });

  it('fires a first-seen rule for an actor seen with a new address, not for its first one', async () => {
    const res = await createRule({ name: 'New address', kind: 'first_seen', filter: { action: 'user.login' }, params: { field: 'ip' } });
    expect(res.statusCode, res.body).toBe(201);
    const at = '2025-07-01T00:00:00Z';
    await ingest(ingestA, [ev('user.login', 'alice', at, { context: { ip: '10.0.0.1' } })]);
    await evaluate();
    await ingest(ingestA, [ev('user.login', 'alice', at, { context: { ip: '10.0.0.1' } }), ev('user.login', 'alice', at, { context: { ip: '10.0.0.2' } })]);
    // A new actor with two addresses in one range: the first is learned, the second fires.
    await ingest(ingestA, [ev('user.login', 'dave', '2025-07-01T00:00:01Z', { context: { ip: '10.0.9.1' } })]);
    await ingest(ingestA, [ev('user.login', 'dave', '2025-07-01T00:00:02Z', { context: { ip: '10.0.9.2' } })]);
    await evaluate();
    const firings = await firingsOf(res.json().id);
    expect(firings.map((f) => f.group).sort()).toEqual(['alice', 'dave']);
  });

  it('matches a target filter against every target an event names, by type and id', async () => {
    const res = await createRule({
      name: 'Payroll read twice',
      kind: 'threshold',
      filter: { target_type: 'document', target_id: 'payroll' },
      params: { count: 2, window_seconds: 3600, group_by: 'actor' },
    });
    expect(res.statusCode, res.body).toBe(201);
    const at = '2025-08-01T10:00:00Z';
    const on = (...targets: [string, string][]) => ({ targets: targets.map(([type, id]) => ({ type, id })) });
    await ingest(ingestA, [
      ev('document.read', 'alice', at, on(['document', 'payroll'])),
      ev('document.read', 'alice', at, on(['document', 'payroll'])),
      ev('document.read', 'bob', at, on(['document', 'payroll'])),
      ev('document.read', 'bob', at, on(['document', 'plans'])),
      ev('document.read', 'carol', at, on(['document', 'plans'], ['document', 'payroll'])),
      ev('document.read', 'carol', at, on(['document', 'payroll'])),
      ev('folder.read', 'dave', at, on(['folder', 'payroll'])),
      ev('folder.read', 'dave', at, on(['folder', 'payroll'])),
    ]);
    await evaluate();
    expect((await firingsOf(res.json().id)).map((f) => f.group).sort()).toEqual(['alice', 'carol']);
  });

  it('installs rules of the built-in pack on request: a new reader of the audit log fires', async () => {
    const pack = (await t.request('GET', '/v1/alert-rules/builtin', { key: readA })).json().data as { id: string }[];
    expect(pack.map((b) => b.id)).toEqual(expect.arrayContaining(['failed_login_burst', 'audit_log_unusual_reader', 'mfa_disabled']));
    const unknown = await createRule({ builtin: 'everything' });
    expect(unknown.json().error.details[0].pointer).toBe('/builtin');
    const res = await createRule({ builtin: 'audit_log_unusual_reader', cooldown_seconds: 60 });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ builtin: 'audit_log_unusual_reader', kind: 'first_seen', params: { field: 'actor' } });
    await evaluate();
    await t.request('GET', '/v1/events?limit=1', { key: readA });
    await evaluate();
    expect(await firingsOf(res.json().id)).toEqual([]);
    const newcomer = await t.createKey('read', 'acme');
    await t.request('GET', '/v1/events?limit=1', { key: newcomer });
    await t.request('GET', '/v1/events?limit=1', { key: readA });
    await evaluate();
    const firings = await firingsOf(res.json().id);
    expect(firings).toHaveLength(1);
    const keyIds = ((await t.request('GET', '/v1/keys', { key: adminA })).json().data as { id: string; name: string }[]).map((k) => k.id);
    expect(keyIds).toContain(firings[0]!.group);
  });

  it('fires the built-in "settings changed outside working hours" only outside the hours of its time zone, across a DST change', async () => {
    const pack = (await t.request('GET', '/v1/alert-rules/builtin', { key: readA })).json().data as { id: string }[];
    expect(pack.map((b) => b.id)).toContain('settings_changed_outside_hours');
    const utc = await createRule({ builtin: 'settings_changed_outside_hours', name: 'Settings at night (UTC)' });
    expect(utc.statusCode, utc.body).toBe(201);
    expect(utc.json().outside_hours).toEqual({ timezone: 'UTC', days: [1, 2, 3, 4, 5], start: '08:00', end: '18:00' });
    await t.request('DELETE', `/v1/alert-rules/${utc.json().id}`, { key: adminA });
    const res = await createRule({ builtin: 'settings_changed_outside_hours', outside_hours: { timezone: 'Europe/Berlin' } });
    expect(res.statusCode, res.body).toBe(201);
    // Berlin: CET (UTC+1) until Sunday 2026-03-29 02:00, CEST (UTC+2) after. Each actor is one case.
    const cases: [actor: string, utcInstant: string, fires: boolean][] = [
      ['wednesday-1000', '2026-03-25T09:00:00Z', false],
      ['wednesday-1930', '2026-03-25T18:30:00Z', true],
      ['saturday-1100', '2026-03-28T10:00:00Z', true],
      ['friday-0800-cet', '2026-03-27T07:00:00Z', false],
      ['friday-0730-cet', '2026-03-27T06:30:00Z', true],
      ['friday-1730-cet', '2026-03-27T16:30:00Z', false],
      ['friday-1800-cet', '2026-03-27T17:00:00Z', true],
      ['monday-0830-cest', '2026-03-30T06:30:00Z', false],
      ['monday-0730-cest', '2026-03-30T05:30:00Z', true],
      ['monday-1830-cest', '2026-03-30T16:30:00Z', true],
      ['sunday-0300-cest', '2026-03-29T01:00:00Z', true],
    ];
    await ingest(ingestA, [
      ...cases.map(([actor, at]) => ev('settings.updated', actor, at)),
      ev('organization.settings_changed', 'tuesday-2300', '2026-03-24T22:00:00Z'),
      ev('document.read', 'reader-at-night', '2026-03-25T23:00:00Z'),
    ]);
    await evaluate();
    const groups = (await firingsOf(res.json().id)).map((f) => f.group).sort();
    expect(groups).toEqual([...cases.filter(([, , fires]) => fires).map(([actor]) => actor), 'tuesday-2300'].sort());
  });

  it('fires an absence rule once per silence, and not while events keep arriving', async () => {
    const res = await createRule({ name: 'Heartbeat', kind: 'absence', filter: { action: 'app.heartbeat' }, params: { period_seconds: 60 } });
    const id = res.json().id;
    await t.services.alerts.tick();
    expect(await firingsOf(id)).toEqual([]);
    await t.db.sql`update alert_heartbeats set last_match_at = now() - interval '2 minutes' where rule_id = ${id}`;
    // The rule's own alert_rule.created record puts the tenant behind until the follower applies it.
    await t.services.alerts.tick();
    expect(await firingsOf(id)).toEqual([]);
    await evaluate();
    await t.services.alerts.tick();
    await t.services.alerts.tick();
    expect(await firingsOf(id)).toHaveLength(1);
    await ingest(ingestA, [ev('app.heartbeat', 'svc', new Date().toISOString())]);
    // Not yet evaluated: the tenant is behind, so its silence is not judged.
    await t.db.sql`update alert_heartbeats set last_match_at = now() - interval '3 minutes' where rule_id = ${id}`;
    await t.services.alerts.tick();
    expect(await firingsOf(id)).toHaveLength(1);
    await evaluate();
    await t.services.alerts.tick();
    expect(await firingsOf(id)).toHaveLength(1);
    const all = await t.request('GET', '/v1/alert-firings?limit=2', { key: readA });
    expect(all.json().data).toHaveLength(2);
    expect(all.json().next).toBeDefined();
  });
});
