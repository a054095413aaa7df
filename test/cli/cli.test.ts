/**
 * The `trailproof` command line against a real database, next to a running `serve` process that
 * sees what the CLI did: tenants, keys (shown once, never listed, revocation honoured by the server
 * within the key cache's 5 s), migrate, demo data with consistent ledgers, and errors that exit
 * non-zero with a message. Also: the server's own log never carries a key secret or event payload.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killStartedProcesses, randomAdminKey, request, runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { expectContiguousLedger } from '../reliability/ledger-checks.ts';

/** Appears in event payloads only; must never reach the server's log. */
const MARKER = `zq-payload-marker-${Date.now().toString(36)}`;
const adminKey = randomAdminKey();
/** Every secret the test handled: none may appear in the server's log. */
const secrets: string[] = [adminKey];
let db: TestDatabase;
let server: ServerProcess;
let ingestSecret: string;
let revokedSecret: string;

const cli = (...args: string[]) => runCli(args, { DATABASE_URL: db.url });

beforeAll(async () => {
  db = await createTestDatabase();
  // The most verbose level: whatever the service can log, this test sees.
  server = await startServerProcess({ env: { DATABASE_URL: db.url, TRAILPROOF_ADMIN_KEY: adminKey, LOG_LEVEL: 'trace' } });
});

afterAll(async () => {
  await killStartedProcesses();
  await db?.drop();
});

describe('tenants', () => {
  it('creates tenants (plain and --json) and lists them as JSON', async () => {
    const plain = await cli('tenants', 'create', 'acme', '--name', 'Acme');
    expect(plain, plain.stderr).toMatchObject({ code: 0, stdout: 'created tenant acme\n' });
    const json = await runCli(['--database-url', db.url, 'tenants', 'create', 'globex', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: 'globex', name: 'globex', created_at: expect.any(String) });

    const list = await cli('tenants', 'list', '--json');
    expect(list.code, list.stderr).toBe(0);
    const tenants = JSON.parse(list.stdout) as { id: string; name: string }[];
    expect(tenants).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'acme', name: 'Acme' }), expect.objectContaining({ id: 'globex' })]));
    const [head] = await db.sql<{ size: number }[]>`select size from ledger_heads where tenant_id = 'acme'`;
    expect(head?.size).toBe(0);
  });

  it('refuses an invalid or existing tenant id with a message and a non-zero exit', async () => {
    const invalid = await cli('tenants', 'create', 'Not A Slug!');
    expect(invalid.code).not.toBe(0);
    expectCleanError(invalid.stderr, /tenant id must be .*REQUEST_INVALID/);
    const again = await cli('tenants', 'create', 'acme');
    expect(again.code).not.toBe(0);
    expectCleanError(again.stderr, /tenant "acme" already exists.*TENANT_EXISTS/);
  });
}, 60_000);

describe('keys', () => {
  let readKey: { id: string; secret: string };

  it('creates a key whose secret, printed once, works against the running server', async () => {
    const created = await cli('keys', 'create', '--scope', 'read', '--tenant', 'acme', '--json');
    expect(created.code, created.stderr).toBe(0);
    readKey = JSON.parse(created.stdout);
    secrets.push(readKey.secret);
    expect(readKey).toMatchObject({ id: expect.any(String), scope: 'read', tenant: 'acme', revoked_at: null, secret: expect.stringMatching(/^tpk_/) });

    const human = await cli('keys', 'create', '--scope', 'ingest', '--tenant', 'acme', '--name', 'app server');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^created key \S+ \(ingest, tenant acme\); secret, shown once:\ntpk_\S+\n$/);
    ingestSecret = human.stdout.trim().split('\n').at(-1)!;
    secrets.push(ingestSecret);

    const written = await request(`${server.url}/v1/events`, ingestSecret, 'POST', { events: [payloadEvent('e-1'), payloadEvent('e-2')] });
    expect(written.status, written.text).toBe(200);
    expect(written.body.accepted).toHaveLength(2);
    const read = await request(`${server.url}/v1/events?action=invoice.paid`, readKey.secret);
    expect(read.status, read.text).toBe(200);
    expect(read.body.data.map((e: { id: string }) => e.id).sort()).toEqual(['e-1', 'e-2']);
    // Scopes hold: the read key cannot write, the ingest key cannot read.
    expect((await request(`${server.url}/v1/events`, readKey.secret, 'POST', payloadEvent('e-3'))).status).toBe(403);
    expect((await request(`${server.url}/v1/events`, ingestSecret)).status).toBe(403);
  });

  it('lists keys without their secrets or hashes', async () => {
    const list = await cli('keys', 'list', '--json');
    expect(list.code, list.stderr).toBe(0);
    const keys = JSON.parse(list.stdout) as Record<string, unknown>[];
    expect(keys.map((k) => k.id)).toContain(readKey.id);
    for (const k of keys) expect(Object.keys(k).sort()).toEqual(['created_at', 'id', 'name', 'revoked_at', 'scope', 'tenant']);
    for (const secret of secrets) expect(list.stdout).not.toContain(secret.slice(-20));
    const hashes = await db.sql<{ h: string }[]>`select encode(secret_hash, 'hex') as h from api_keys`;
    const b64 = await db.sql<{ h: string }[]>`select encode(secret_hash, 'base64') as h from api_keys`;
    for (const { h } of [...hashes, ...b64]) expect(list.stdout).not.toContain(h);

    const table = await cli('keys', 'list', '--tenant', 'acme');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+SCOPE\s+TENANT\s+CREATED_AT\s+REVOKED_AT\n/);
    expect(table.stdout).toContain(readKey.id);
    for (const secret of secrets) expect(table.stdout).not.toContain(secret.slice(-20));
  });

  it('revokes a key, and the running server refuses it within the cache TTL', async () => {
    expect((await request(`${server.url}/v1/events`, readKey.secret)).status).toBe(200); // cached as valid
    const revoke = await cli('keys', 'revoke', readKey.id);
    expect(revoke, revoke.stderr).toMatchObject({ code: 0, stdout: `revoked key ${readKey.id}\n` });
    const revokedAt = Date.now();
    revokedSecret = readKey.secret;
    let status = 0;
    while (Date.now() - revokedAt < 8000) {
      status = (await request(`${server.url}/v1/events`, readKey.secret)).status;
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const elapsed = Date.now() - revokedAt;
    expect(status).toBe(401);
    expect(elapsed).toBeLessThanOrEqual(6000);
    const listed = JSON.parse((await cli('keys', 'list', '--tenant', 'acme', '--json')).stdout) as { id: string; revoked_at: string | null }[];
    expect(listed.find((k) => k.id === readKey.id)?.revoked_at).toEqual(expect.any(String));

    const twice = await cli('keys', 'revoke', readKey.id);
    expect(twice.code).not.toBe(0);
    expectCleanError(twice.stderr, new RegExp(`no live key ${readKey.id}.*NOT_FOUND`));
  });

  it('refuses bad input with a message and a non-zero exit', async () => {
    const unknownTenant = await cli('keys', 'create', '--scope', 'read', '--tenant', 'nosuch', '--json');
    expect(unknownTenant.code).not.toBe(0);
    expect(unknownTenant.stdout).toBe('');
    expectCleanError(unknownTenant.stderr, /tenant "nosuch" does not exist.*TENANT_NOT_FOUND/);

    const bogusScope = await cli('keys', 'create', '--scope', 'bogus', '--tenant', 'acme');
    expect(bogusScope.code).not.toBe(0);
    expect(bogusScope.stdout).toBe('');
    expectCleanError(bogusScope.stderr, /'bogus' is invalid.*ingest, read, admin/);

    const noScope = await cli('keys', 'create', '--tenant', 'acme');
    expect(noScope.code).not.toBe(0);
    expectCleanError(noScope.stderr, /--scope/);
    // None of the refused commands created a key.
    const [count] = await db.sql<{ n: number }[]>`select count(*)::int as n from api_keys where tenant_id = 'acme' or tenant_id = 'nosuch'`;
    expect(count!.n).toBe(2);
  });
}, 60_000);

describe('migrate', () => {
  it('is idempotent', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await cli('migrate');
      expect(res, res.stderr).toMatchObject({ code: 0, stdout: 'database is up to date\n' });
    }
  });

  it('says what is wrong with a bad DATABASE_URL', async () => {
    const res = await runCli(['migrate'], { DATABASE_URL: 'mysql://nope' });
    expect(res.code).not.toBe(0);
    expectCleanError(res.stderr, /DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL.*CONFIG_INVALID/);
  });
}, 60_000);

describe('demo', () => {
  it('fills demo tenants with events whose ledgers are contiguous', async () => {
    const res = await runCli(['--database-url', db.url, 'demo', '--events', '5000', '--tenants', '2'], {}, 90_000);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/5000 events in [\d.]+ s across demo-1, demo-2/);
    const rows = await db.sql<{ tenant_id: string; n: number }[]>`
      select tenant_id, count(*)::int as n from events where tenant_id like 'demo-%' group by tenant_id order by tenant_id`;
    expect(rows.map((r) => r.tenant_id)).toEqual(['demo-1', 'demo-2']);
    expect(rows.reduce((n, r) => n + r.n, 0)).toBe(5000);
    for (const r of rows) {
      expect(r.n).toBe(2500);
      expect((await expectContiguousLedger(db.sql, r.tenant_id)).size).toBe(r.n);
    }
    // Each tenant's trail is continuous over the default 730 days, up to now: no gap between two
    // events longer than twice the mean spacing, the newest inside the console's default 24 hours.
    const meanGapMs = (730 * 86_400_000) / 2500;
    const trails = await db.sql<{ tenant_id: string; oldest_days: number; newest_hours: number; widest_gap_ms: number }[]>`
      select tenant_id,
             extract(epoch from now() - min(occurred_at))::float8 / 86400 as oldest_days,
             extract(epoch from now() - max(occurred_at))::float8 / 3600 as newest_hours,
             max(gap_ms)::float8 as widest_gap_ms
      from (select tenant_id, occurred_at,
                   extract(epoch from occurred_at - lag(occurred_at) over (partition by tenant_id order by occurred_at)) * 1000 as gap_ms
            from events where tenant_id like 'demo-%') gaps
      group by tenant_id order by tenant_id`;
    for (const trail of trails) {
      expect(trail.oldest_days, trail.tenant_id).toBeGreaterThan(729);
      expect(trail.newest_hours, trail.tenant_id).toBeLessThan(24);
      expect(trail.widest_gap_ms, trail.tenant_id).toBeLessThan(2 * meanGapMs);
    }
    // The running server serves them.
    const page = await request(`${server.url}/v1/events?tenant=demo-2&limit=5`, adminKey);
    expect(page.status, page.text).toBe(200);
    expect(page.body.data).toHaveLength(5);
    const bad = await cli('demo', '--events', '0');
    expect(bad.code).not.toBe(0);
    expectCleanError(bad.stderr, /--events must be a positive whole number/);
  }, 120_000);
});

describe('server log', () => {
  it('never contains a key secret or an event payload', async () => {
    // More payload through the paths that log: a duplicate, a conflict, a rejected event, a bad key.
    const ingest = ingestSecret;
    expect((await request(`${server.url}/v1/events`, ingest, 'POST', payloadEvent('e-1'))).status).toBe(200);
    expect((await request(`${server.url}/v1/events`, ingest, 'POST', { ...payloadEvent('e-1'), outcome: 'failure' })).status).toBe(409);
    expect((await request(`${server.url}/v1/events`, ingest, 'POST', { ...payloadEvent('e-4'), action: `Bad ${MARKER}` })).status).toBe(400);
    const malformed = await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingest}`, 'content-type': 'application/json' },
      body: `{"action": "${MARKER}`,
    });
    expect(malformed.status).toBe(400);
    expect((await request(`${server.url}/v1/events`, `${ingest}x`, 'POST', payloadEvent('e-5'))).status).toBe(401);
    expect((await request(`${server.url}/v1/events`, revokedSecret, 'POST', payloadEvent('e-6'))).status).toBe(401);
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    const log = server.output();
    expect(log.length).toBeGreaterThan(0); // the log was captured at all (trace level logs requests)
    expect(log).toContain('"path":"/v1/events"');
    for (const secret of secrets) {
      expect(log).not.toContain(secret);
      expect(log).not.toContain(secret.slice(-24));
    }
    expect(log).not.toContain(MARKER);
  });
}, 60_000);

function payloadEvent(id: string) {
  return {
    id,
    action: 'invoice.paid',
    occurred_at: '2026-01-15T10:00:00Z',
    actor: { type: 'user', id: 'dana', name: `Dana ${MARKER}` },
    targets: [{ type: 'invoice', id: 'inv-7', name: `Invoice ${MARKER}` }],
    context: { ip: '203.0.113.9', user_agent: `agent ${MARKER}` },
    metadata: { note: MARKER },
  };
}

/** A refusal a person can act on: one `error:` line naming the problem, no stack trace. */
function expectCleanError(stderr: string, message: RegExp): void {
  expect(stderr).toMatch(/^error: /m);
  expect(stderr).toMatch(message);
  expect(stderr).not.toMatch(/\n\s+at \S+ \(/);
}
