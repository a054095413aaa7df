/**
 * Issue 18 points 2 and 4: a lifecycle run archives each expiring range before it purges it. The
 * purge record names the segments; the segments (in s3rver, and in a local directory) verify, with
 * every payload against its commitment; an archived event stays readable after its purge. With the
 * archive unavailable nothing is purged, and the next run does it all.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendReceivedAgo } from '../helpers/aged-events.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { startS3, type S3Server } from '../helpers/s3rver.ts';
import { runLifecycle } from '../helpers/lifecycle-run.ts';

const event = (actor: string, n: number) => ({ action: 'document.read', actor: { type: 'user', id: actor }, targets: [{ type: 'document', id: `doc-${n}` }] });
const old = [event('alice', 1), event('bob', 2), event('carol', 3), event('alice', 4)];

async function runPurge(t: TestApp, tenant: string) {
  const key = await t.createKey('admin', tenant);
  expect((await t.request('PUT', `/v1/tenants/${tenant}/retention`, { key, body: { days: 10 } })).statusCode).toBe(200);
  return (await runLifecycle(t, { key })) as {
    tenants: { removed: number; records: { index: number; range: [number, number] }[] }[];
    failed: { tenant: string; error: string }[];
  };
}

async function purgeRecordOf(t: TestApp, tenant: string) {
  const res = await t.request('GET', `/v1/events?tenant=${tenant}&action=retention.purged`);
  return (res.json().data as { metadata: { archive_segment?: string; range_start: number; range_end: number } }[])[0];
}

describe('archiving to S3 (s3rver) before the purge', () => {
  let s3: S3Server;
  let t: TestApp;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  beforeAll(async () => {
    s3 = await startS3(['cold']);
    // Credentials the usual AWS way: the SDK's provider chain reads the environment.
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    t = await createTestApp({ TRAILPROOF_ARCHIVE_URL: `s3://cold/trail?endpoint=${encodeURIComponent(s3.endpoint)}&path_style=true&region=us-east-1` });
    await t.createTenant('arc');
    await appendReceivedAgo(t.db.sql, 'arc', 20, old);
  });
  afterAll(async () => {
    await t.close();
    await s3.close();
    process.env.AWS_ACCESS_KEY_ID = saved.id;
    process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
  });

  it('archives the expired range, names it in the purge record, and the segment verifies', async () => {
    const run = await runPurge(t, 'arc');
    expect(run.failed).toEqual([]);
    expect(run.tenants[0]).toMatchObject({ removed: 4, records: [{ range: [0, 4] }] });
    const [segment] = await t.services.archive.list('arc');
    expect(segment).toMatchObject({ from: 0, to: 4 });
    expect((await purgeRecordOf(t, 'arc'))?.metadata.archive_segment).toBe(segment!.sha256);
    const objects = (await s3.objects('cold', 'trail/arc/')).map((o) => o.key);
    expect(objects).toEqual([`trail/${segment!.name.replace('.tpseg.jsonl.gz', '.manifest.json')}`, `trail/${segment!.name}`]);
    expect(await t.services.archive.verify(segment!)).toMatchObject({ ok: true, leaves: 4, payloadsChecked: 4 });
  });

  it('keeps a purged event readable from the archive', async () => {
    const left = (await t.request('GET', '/v1/events?tenant=arc&actor=carol')).json().data;
    expect(left).toEqual([]);
    const archived = await t.services.archive.archivedLeaf('arc', 2);
    expect(JSON.parse(archived!.payload!.event)).toMatchObject({ actor: { id: 'carol' } });
  });
});

describe('an unavailable archive', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailproof-archive-down-'));
    // A file where the archive's directory should be: every write fails.
    fs.writeFileSync(path.join(dir, 'store'), 'not a directory');
    t = await createTestApp({ TRAILPROOF_ARCHIVE_URL: `file://${path.join(dir, 'store')}` });
    await t.createTenant('down');
    await appendReceivedAgo(t.db.sql, 'down', 20, old);
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('purges nothing, and the next run archives and purges it all', async () => {
    const failed = await runPurge(t, 'down');
    expect(failed.failed).toEqual([{ tenant: 'down', error: expect.any(String) }]);
    expect(await purgeRecordOf(t, 'down')).toBeUndefined();
    const [kept] = await t.db.ownerSql<{ count: number }[]>`select count(*)::int as count from events where tenant_id = 'down' and action = 'document.read'`;
    expect(kept?.count).toBe(4);

    fs.rmSync(path.join(dir, 'store'));
    const again = await runLifecycle(t, { body: { tenant: 'down' } });
    expect(again.failed).toEqual([]);
    expect(again.tenants[0]).toMatchObject({ removed: 4 });
    const [segment] = await t.services.archive.list('down');
    expect(await t.services.archive.verify(segment!)).toMatchObject({ ok: true, payloadsChecked: 4 });
  });
});
