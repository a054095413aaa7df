/**
 * Issue 18 point 4, `trailproof archive` as a process: `verify` passes on a segment a lifecycle run
 * archived (from a file, and from S3 by URL) and fails, naming what failed, on a modified or
 * truncated segment and with the wrong key; `list`, `get` and `export` reach the archived period,
 * and the event `get` prints (purged from the database) passes `trailproof verify-proof`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArchiveStore } from '../../src/lifecycle/archive/s3-store.ts';
import { generateSignerKey } from '../../src/ledger/note.ts';
import { appendReceivedAgo } from '../helpers/aged-events.ts';
import { createTestApp, TEST_LEDGER_KEY, type TestApp } from '../helpers/app.ts';
import { startS3, type S3Server } from '../helpers/s3rver.ts';
import { killStartedProcesses, runCli } from '../helpers/server-process.ts';
import { runLifecycle } from '../helpers/lifecycle-run.ts';

const SECRET = 'archive-cli-test-secret-0123456789abcdef';
const event = (actor: string, n: number) => ({ action: 'document.read', actor: { type: 'user', id: actor }, targets: [{ type: 'document', id: `doc-${n}` }] });

let t: TestApp;
let archiveDir: string;
let dir: string;
let keyFile: string;
let segmentFile: string;
let serviceEnv: Record<string, string>;
const file = (name: string, content: string | Buffer) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
};

beforeAll(async () => {
  archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-archive-cli-store-'));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-archive-cli-'));
  serviceEnv = { TRAILPROOF_ARCHIVE_URL: `file://${archiveDir}`, TRAILPROOF_SECRET_KEY: SECRET };
  t = await createTestApp(serviceEnv);
  serviceEnv = { ...serviceEnv, DATABASE_URL: t.db.url, TRAILPROOF_LEDGER_KEY: TEST_LEDGER_KEY };
  await t.createTenant('arc');
  await appendReceivedAgo(t.db.sql, 'arc', 20, [event('alice', 1), event('bob', 2), event('carol', 3), event('dave', 4)]);
  await t.request('PUT', '/v1/tenants/arc/retention', { body: { days: 10 } });
  const run = await runLifecycle(t, { body: { tenant: 'arc' } });
  expect(run.tenants[0]).toMatchObject({ removed: 4, records: [{ range: [0, 4] }] });
  keyFile = file('arc.vkey', (await t.request('GET', '/v1/ledger/key?tenant=arc')).body);
  segmentFile = path.join(archiveDir, (await t.services.archive.list('arc'))[0]!.name);
}, 120_000);

afterAll(async () => {
  await killStartedProcesses();
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(archiveDir, { recursive: true, force: true });
});

describe('trailproof archive verify', () => {
  it('passes on an archived segment, checked against the manifest beside it (exit 0)', async () => {
    const run = await runCli(['archive', 'verify', segmentFile, '--key', keyFile]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^OK: segment arc \[0, 4\): 4 leaves in the checkpoint of size \d+, as its manifest says/);
  }, 60_000);

  it('fails on a segment whose leaf was modified, naming it (exit 1)', async () => {
    const lines = gunzipSync(fs.readFileSync(segmentFile)).toString('utf8').split('\n');
    const leaf = JSON.parse(lines[2]!) as { received_at: string };
    leaf.received_at = leaf.received_at.replace(/\d\dZ$/, '59Z');
    lines[2] = JSON.stringify(leaf);
    const modified = file('modified.tpseg.jsonl.gz', gzipSync(lines.join('\n')));
    const run = await runCli(['archive', 'verify', modified, '--key', keyFile, '--json']);
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as { ok: boolean; problems: string[]; manifest_checked: boolean };
    expect(report).toMatchObject({ ok: false, manifest_checked: false });
    expect(report.problems.join('\n')).toMatch(/a leaf was altered/);
  }, 60_000);

  it('fails on a flipped byte against the manifest, and on a truncated segment (exit 1)', async () => {
    const bytes = fs.readFileSync(segmentFile);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 12]! ^= 0x01;
    const manifest = segmentFile.replace('.tpseg.jsonl.gz', '.manifest.json');
    const changed = await runCli(['archive', 'verify', file('flipped.tpseg.jsonl.gz', flipped), '--manifest', manifest, '--key', keyFile]);
    expect(changed.code, changed.stderr).toBe(1);
    expect(changed.stdout).toMatch(/^FAILED/);
    expect(changed.stdout).toMatch(/SHA-256 .* is not the manifest's/);

    const truncated = await runCli(['archive', 'verify', file('cut.tpseg.jsonl.gz', bytes.subarray(0, bytes.length - 40)), '--key', keyFile]);
    expect(truncated.code, truncated.stderr).toBe(1);
    expect(truncated.stdout).toMatch(/not a whole gzip stream \(truncated or altered\)/);

    // Whole gzip, but the last leaves and the end line are gone.
    const text = gunzipSync(bytes).toString('utf8').split('\n');
    const short = await runCli(['archive', 'verify', file('short.tpseg.jsonl.gz', gzipSync(`${text.slice(0, 3).join('\n')}\n`)), '--key', keyFile]);
    expect(short.code, short.stderr).toBe(1);
    expect(short.stdout).toMatch(/no end line \(truncated\)/);
  }, 60_000);

  it('fails with a key that did not sign the checkpoint (exit 1), and cannot run without a readable segment (exit 2)', async () => {
    const other = generateSignerKey('test.trailproof').verifierKey;
    const wrong = await runCli(['archive', 'verify', segmentFile, '--key', other]);
    expect(wrong.code, wrong.stderr).toBe(1);
    expect(wrong.stdout).toMatch(/the checkpoint does not verify with the keys given/);
    const missing = await runCli(['archive', 'verify', path.join(dir, 'nope.tpseg.jsonl.gz'), '--key', keyFile]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.tpseg\.jsonl\.gz: ENOENT \(REQUEST_INVALID\)/);
  }, 60_000);

  describe('from S3 (s3rver)', () => {
    let s3: S3Server;
    beforeAll(async () => {
      s3 = await startS3(['evidence']);
    });
    afterAll(() => s3.close());

    it('reads s3://bucket/key and the manifest beside it, with credentials the usual AWS way', async () => {
      const store = new S3ArchiveStore({
        bucket: 'evidence',
        endpoint: s3.endpoint,
        forcePathStyle: true,
        region: 'us-east-1',
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      });
      const name = path.relative(archiveDir, segmentFile);
      await store.put(`cold/${name}`, fs.readFileSync(segmentFile));
      await store.put(`cold/${name.replace('.tpseg.jsonl.gz', '.manifest.json')}`, fs.readFileSync(segmentFile.replace('.tpseg.jsonl.gz', '.manifest.json')));
      await store.close();
      const url = `s3://evidence/cold/${name}?endpoint=${encodeURIComponent(s3.endpoint)}&path_style=true&region=us-east-1`;
      const run = await runCli(['archive', 'verify', url, '--key', keyFile], { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/as its manifest says/);
    }, 60_000);
  });
});

describe('trailproof archive list, get and export', () => {
  it('lists the segments of the tenant', async () => {
    const run = await runCli(['archive', 'list', '--tenant', 'arc', '--json'], serviceEnv);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject([{ tenant: 'arc', from: 0, to: 4, name: path.relative(archiveDir, segmentFile) }]);
  }, 60_000);

  it('gets a purged event from the archive with a proof that `verify-proof` accepts', async () => {
    expect((await t.request('GET', '/v1/events?tenant=arc&actor=carol')).json().data).toEqual([]);
    const run = await runCli(['archive', 'get', '--tenant', 'arc', '2'], serviceEnv);
    expect(run.code, run.stderr).toBe(0);
    const archived = JSON.parse(run.stdout) as { event: { actor: { id: string } }; leaf_index: number; erased: boolean };
    expect(archived).toMatchObject({ leaf_index: 2, erased: false, event: { actor: { id: 'carol' } } });
    const verified = await runCli(['verify-proof', file('archived-proof.json', run.stdout), '--key', keyFile]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^OK: leaf 2 .* the event matches its commitment/);
  }, 60_000);

  it('exports an archived range as JSON Lines, and refuses an unknown tenant', async () => {
    const out = path.join(dir, 'export.jsonl');
    const run = await runCli(['archive', 'export', '--tenant', 'arc', '--from', '1', '--to', '3', '--out', out], serviceEnv);
    expect(run.code, run.stderr).toBe(0);
    const lines = fs
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { envelope: { index: number }; event: { actor: { id: string } } });
    expect(lines.map((l) => [l.envelope.index, l.event.actor.id])).toEqual([
      [1, 'bob'],
      [2, 'carol'],
    ]);
    const unknown = await runCli(['archive', 'list', '--tenant', 'nobody'], serviceEnv);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/tenant "nobody" does not exist \(TENANT_NOT_FOUND\)/);
  }, 60_000);
});
