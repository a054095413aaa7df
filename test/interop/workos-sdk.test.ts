/**
 * The official `@workos-inc/node` SDK, unchanged, pointed at a real Trailproof server: every Audit
 * Logs method it has (createEvent with Idempotency-Key retries, createExport/getExport and the CSV
 * behind the URL, createSchema/listSchemas enforced on later events, the organization retention
 * get and update), WorkOS-style organization ids as tenants, and tenant isolation on every route.
 */
import net from 'node:net';
import { parse } from 'csv-parse/sync';
import { BadRequestException, ConflictException, GenericServerException, NotFoundException, UnauthorizedException, WorkOS } from '@workos-inc/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

const ORG = 'org_01EHZNVPK3SFK441A1RGBFSHRT';
const OTHER = 'org_01EHWNCE74X7JSDV0X3SZ3KJNY';
let t: TestApp;
let port: number;
/** The application's client: a Trailproof key bound to no tenant, used as the WorkOS API key. */
let workos: WorkOS;
/** A client whose key is bound to ORG with admin scope (schemas are per tenant in Trailproof). */
let orgAdmin: WorkOS;
/** A client whose key is bound to the other organization. */
let other: WorkOS;

const client = (key: string) => new WorkOS(key, { apiHostname: '127.0.0.1', port, https: false });

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant(ORG);
  await t.createTenant(OTHER);
  const url = await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = Number(new URL(url).port);
  workos = client(await t.createKey('admin'));
  orgAdmin = client(await t.createKey('admin', ORG));
  other = client(await t.createKey('admin', OTHER));
});
afterAll(() => t.close());

const signedIn = (overrides: Record<string, unknown> = {}) => ({
  action: 'user.signed_in',
  occurredAt: new Date('2026-12-01T10:00:00.000Z'),
  version: undefined as number | undefined,
  actor: { type: 'user', id: 'user_01GBNJC3MX9ZZJW1FSTF4C5938', name: 'Jon Smith', metadata: { role: 'admin' } },
  targets: [{ type: 'team', id: 'team_01GBNJD4MKHVKJGEWK42JNMBGS', name: 'Platform' }],
  context: { location: '123.123.123.123', userAgent: 'Chrome/104.0.0.0' },
  metadata: { owner: 'user_01GBTCQ2', seats: 3 },
  ...overrides,
});

const stored = (action: string, tenant = ORG) =>
  t.db.sql<{ body: any }[]>`select body from events where tenant_id = ${tenant} and action = ${action} order by seq`.then((rows) => rows.map((r) => r.body));

describe('@workos-inc/node auditLogs against Trailproof', () => {
  it('createEvent stores the event with its fields mapped, once per Idempotency-Key', async () => {
    await workos.auditLogs.createEvent(ORG, signedIn(), { idempotencyKey: 'signin-1' });
    // The same request again, as the SDK's own retry or the application's sends it.
    await workos.auditLogs.createEvent(ORG, signedIn(), { idempotencyKey: 'signin-1' });
    // Without a key the SDK makes one (`workos-node-<uuid>`) per call.
    await workos.auditLogs.createEvent(ORG, signedIn({ occurredAt: new Date('2026-12-01T11:00:00.000Z') }));
    const events = await stored('user.signed_in');
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      id: 'signin-1',
      occurred_at: '2026-12-01T10:00:00.000Z',
      actor: { type: 'user', id: 'user_01GBNJC3MX9ZZJW1FSTF4C5938', name: 'Jon Smith', metadata: { role: 'admin' } },
      targets: [{ type: 'team', id: 'team_01GBNJD4MKHVKJGEWK42JNMBGS', name: 'Platform' }],
      context: { ip: '123.123.123.123', user_agent: 'Chrome/104.0.0.0' },
      metadata: { owner: 'user_01GBTCQ2', seats: 3 },
    });
    expect(events[1].id).toMatch(/^workos-node-[0-9a-f-]{36}$/);
    // The organization id is the tenant everywhere: queries, the ledger's status and checkpoints.
    expect((await t.request('GET', `/v1/events?tenant=${ORG}&action=user.signed_in`)).json().data).toHaveLength(2);
    await t.services.checkpointer.issue(ORG);
    expect((await t.request('GET', `/v1/ledger/status?tenant=${ORG}`)).statusCode).toBe(200);
    expect((await t.request('GET', `/t/${ORG}/checkpoint`)).body).toContain(`/${ORG}\n`);

    const reused = workos.auditLogs.createEvent(ORG, signedIn({ metadata: { owner: 'someone else' } }), { idempotencyKey: 'signin-1' });
    await expect(reused).rejects.toBeInstanceOf(ConflictException);
    expect(await stored('user.signed_in')).toHaveLength(2);
  });

  it("the SDK's own retry after a lost response stores the event once", { timeout: 20_000 }, async () => {
    // A proxy that lets the first request reach Trailproof but drops its response: the SDK sees a
    // network error and retries with the same Idempotency-Key.
    let connections = 0;
    const proxy = net.createServer((socket) => {
      const first = ++connections === 1;
      const upstream = net.connect(port, '127.0.0.1');
      socket.pipe(upstream);
      upstream.on('data', (chunk) => (first ? socket.destroy() : socket.write(chunk)));
      upstream.on('end', () => socket.end());
      socket.on('close', () => upstream.destroy());
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxied = new WorkOS((workos as unknown as { key: string }).key, {
      apiHostname: '127.0.0.1',
      port: (proxy.address() as net.AddressInfo).port,
      https: false,
    });
    try {
      await proxied.auditLogs.createEvent(ORG, signedIn({ action: 'user.retried' }));
    } finally {
      proxy.close();
    }
    expect(connections).toBeGreaterThanOrEqual(2);
    const events = await stored('user.retried');
    expect(events).toHaveLength(1);
    expect(events[0].id).toMatch(/^workos-node-/);
  });

  it('keeps a location that is not an IP address as the location, and rejects invalid events with pointers', async () => {
    await workos.auditLogs.createEvent(ORG, signedIn({ action: 'user.moved', context: { location: 'Berlin, DE' } }));
    expect((await stored('user.moved'))[0].context).toEqual({ location: 'Berlin, DE' });

    const invalid = await workos.auditLogs.createEvent(ORG, signedIn({ action: 'User Signed In', actor: { type: 'robot', id: '' } })).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(BadRequestException);
    const { code, errors } = invalid as BadRequestException;
    expect(code).toBe('EVENT_INVALID');
    expect((errors as unknown as { pointer: string; code: string }[]).map((e) => [e.pointer, e.code]).sort()).toEqual(
      [
        ['/event/action', 'pattern'],
        ['/event/actor/id', 'required'],
        ['/event/actor/type', 'invalid_enum'],
      ].sort(),
    );
    await expect(workos.auditLogs.createEvent('org_unknown', signedIn())).rejects.toBeInstanceOf(NotFoundException);
    await expect(client('tpk_wrong').auditLogs.createEvent(ORG, signedIn())).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it('createSchema versions are enforced on later events and listed by listSchemas', async () => {
    const schema = await orgAdmin.auditLogs.createSchema({
      action: 'document.updated',
      actor: { metadata: { role: 'string' } },
      targets: [{ type: 'document', metadata: { pages: 'number' } }],
      metadata: { reason: 'string', urgent: 'boolean' },
    });
    expect(schema).toMatchObject({ object: 'audit_log_schema', version: 1, metadata: { reason: 'string', urgent: 'boolean' } });
    expect(schema.targets).toEqual([{ type: 'document', metadata: { pages: 'number' } }]);

    const ok = {
      action: 'document.updated',
      occurredAt: new Date(),
      actor: { type: 'user', id: 'u1', metadata: { role: 'editor' } },
      targets: [{ type: 'document', id: 'd1', metadata: { pages: 3 } }],
      context: { location: '10.0.0.1' },
      metadata: { reason: 'typo', urgent: false },
    };
    await workos.auditLogs.createEvent(ORG, ok);
    const violation = await workos.auditLogs
      .createEvent(ORG, { ...ok, targets: [{ type: 'document', id: 'd1', metadata: { pages: 'three' } }], metadata: { reason: 1, extra: 'x' } })
      .catch((e: unknown) => e);
    expect(violation).toBeInstanceOf(BadRequestException);
    expect(((violation as BadRequestException).errors as unknown as { pointer: string; code: string }[]).map((e) => [e.pointer, e.code]).sort()).toEqual(
      [
        ['/event/metadata/extra', 'unknown_field'],
        ['/event/metadata/reason', 'invalid_type'],
        ['/event/targets/0/metadata/pages', 'invalid_type'],
      ].sort(),
    );
    const wrongTarget = workos.auditLogs.createEvent(ORG, { ...ok, targets: [{ type: 'folder', id: 'f1' }] });
    await expect(wrongTarget).rejects.toBeInstanceOf(BadRequestException);

    await orgAdmin.auditLogs.createSchema({ action: 'document.updated', targets: [{ type: 'document' }, { type: 'folder' }] });
    // Version 2 lists no metadata keys, so none are accepted.
    const v2 = { ...ok, actor: { type: 'user', id: 'u1' }, targets: [{ type: 'folder', id: 'f1' }], metadata: {} };
    await workos.auditLogs.createEvent(ORG, v2);
    // An event may name the version it was written for.
    const oldVersion = workos.auditLogs.createEvent(ORG, { ...v2, version: 1 });
    await expect(oldVersion).rejects.toBeInstanceOf(BadRequestException);
    const missingVersion = await workos.auditLogs.createEvent(ORG, { ...ok, version: 9 }).catch((e: unknown) => e);
    expect((missingVersion as BadRequestException).errors).toEqual([expect.objectContaining({ pointer: '/event/version', code: 'not_found' })]);

    const list = await orgAdmin.auditLogs.listSchemas('document.updated');
    expect(list.data.map((s) => s.version)).toEqual([2, 1]);
    expect(list.data[0]!.targets.map((x) => x.type)).toEqual(['document', 'folder']);
    expect((await stored('document.updated')).map((e) => e.targets[0].type)).toEqual(['document', 'folder']);

    // A schema is the tenant's: the other organization is not bound by it and cannot see it.
    await other.auditLogs.createEvent(OTHER, { ...ok, metadata: { anything: 1 } });
    await expect(other.auditLogs.createEvent(ORG, ok)).rejects.toMatchObject({ status: 403 });
    expect((await other.auditLogs.listSchemas('document.updated')).data).toEqual([]);
    const badType = orgAdmin.auditLogs.createSchema({ action: 'document.updated', targets: [], metadata: { n: 'date' as 'string' } });
    await expect(badType).rejects.toBeInstanceOf(BadRequestException);
  });

  it('createExport and getExport give a URL that downloads the CSV of the range', async () => {
    const created = await workos.auditLogs.createExport({
      organizationId: ORG,
      rangeStart: new Date('2026-12-01T00:00:00Z'),
      rangeEnd: new Date('2026-12-02T00:00:00Z'),
      actions: ['user.signed_in'],
    });
    expect(created).toMatchObject({ object: 'audit_log_export', state: 'ready' });
    expect(created.id).toMatch(/^audit_log_export_/);
    const fetched = await workos.auditLogs.getExport(created.id);
    expect(fetched.state).toBe('ready');
    const res = await fetch(fetched.url!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const rows = parse(await res.text(), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.action, r.actor_id, r.ip])).toEqual([
      ['user.signed_in', 'user_01GBNJC3MX9ZZJW1FSTF4C5938', '123.123.123.123'],
      ['user.signed_in', 'user_01GBNJC3MX9ZZJW1FSTF4C5938', '123.123.123.123'],
    ]);
    // The link is the credential: a wrong token, or the token on another export, opens nothing.
    const url = new URL(fetched.url!);
    url.searchParams.set('token', 'x'.repeat(43));
    expect((await fetch(url)).status).toBe(404);
    const exported = await stored('audit_log.exported');
    expect(exported.at(-1).metadata).toMatchObject({ format: 'csv', export: created.id });

    const bad = workos.auditLogs.createExport({ organizationId: ORG, rangeStart: new Date(), rangeEnd: new Date(), actorNames: ['Jon'] });
    await expect(bad).rejects.toBeInstanceOf(BadRequestException);
    // Another organization's key cannot read the export, nor export this organization.
    await expect(other.auditLogs.getExport(created.id)).rejects.toBeInstanceOf(NotFoundException);
    const foreign = other.auditLogs.createExport({ organizationId: ORG, rangeStart: new Date(0), rangeEnd: new Date() });
    await expect(foreign).rejects.toMatchObject({ status: 403 });
  });

  it('reads and sets the organization retention as the tenant retention policy', async () => {
    expect(await workos.auditLogs.getOrganizationAuditLogsRetention({ id: ORG })).toEqual({ retentionPeriodInDays: 365 });
    expect(await workos.auditLogs.updateOrganizationAuditLogsRetention({ id: ORG, retentionPeriod: '3_MONTHS' })).toEqual({ retentionPeriodInDays: 90 });
    expect((await t.request('GET', `/v1/tenants/${ORG}/retention`)).json()).toMatchObject({ days: 90, source: 'tenant' });
    expect((await stored('retention.updated')).at(-1).metadata).toMatchObject({ days: 90 });
    const invalid = workos.auditLogs.updateOrganizationAuditLogsRetention({ id: ORG, retentionPeriod: '12_MONTHS' as '1_MONTH' });
    await expect(invalid).rejects.toBeInstanceOf(BadRequestException);
    await expect(other.auditLogs.getOrganizationAuditLogsRetention({ id: ORG })).rejects.toMatchObject({ status: 403 });
    await expect(other.auditLogs.updateOrganizationAuditLogsRetention({ id: ORG, retentionPeriod: '1_YEAR' })).rejects.toBeInstanceOf(GenericServerException);
    expect((await t.request('GET', `/v1/tenants/${ORG}/retention`)).json().days).toBe(90);
  });
});
