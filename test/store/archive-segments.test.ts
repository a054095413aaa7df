/**
 * Issue 18 point 4: archive segments. A segment written from a tenant's trail verifies offline with
 * only the verifier keys (the tree against the signed checkpoint) and, in the service, every payload
 * against its commitment; a flipped byte, an altered leaf, a truncated segment or the wrong key each
 * fail with a finding that says what failed. Writing a range again gives the same bytes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSegment } from '../../src/lifecycle/archive/archive-service.ts';
import type { SegmentManifest } from '../../src/lifecycle/archive/segment-format.ts';
import { verifySegment } from '../../src/lifecycle/archive/segment-verify.ts';
import { generateSignerKey } from '../../src/ledger/note.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let dir: string;
let manifest: SegmentManifest;
let bytes: Buffer;
let keys: string[];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailproof-segments-'));
  t = await createTestApp({ TRAILPROOF_ARCHIVE_URL: `file://${dir}` });
  await t.createTenant('seg');
  const events = Array.from({ length: 12 }, (_, i) => ({
    action: 'document.read',
    actor: { type: 'user', id: `user-${i % 3}`, name: `User ${i % 3}` },
    targets: [{ type: 'document', id: `doc-${i}` }],
    metadata: { i },
  }));
  const res = await t.request('POST', '/v1/events', { body: { events: events.map((e) => ({ ...e, tenant: 'seg' })) } });
  expect(res.statusCode).toBeLessThan(300);
  manifest = (await t.services.archive.archiveRange('seg', 2, 9))[0]!;
  bytes = fs.readFileSync(path.join(dir, manifest.segment));
  keys = t.services.ledgerKeys.verifierKeysFor('seg');
});
afterAll(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a written segment', () => {
  it('verifies offline with the verifier keys and its manifest', () => {
    expect(manifest).toMatchObject({ tenant: 'seg', from: 2, to: 9, bytes: bytes.length });
    const report = verifySegment(bytes, { keys, manifest });
    expect(report).toMatchObject({ ok: true, tenant: 'seg', from: 2, to: 9, leaves: 7, problems: [] });
    expect(report.checkpointSize).toBeGreaterThanOrEqual(9);
  });

  it('verifies in the service with every payload checked against its commitment', async () => {
    const [segment] = await t.services.archive.list('seg');
    expect(segment).toMatchObject({ from: 2, to: 9, name: manifest.segment, sha256: manifest.sha256 });
    const report = await t.services.archive.verify(segment!);
    expect(report).toMatchObject({ ok: true, leaves: 7, payloadsChecked: 7 });
  });

  it('keeps payloads sealed: no actor name or id is readable in the segment', () => {
    const text = gunzipSync(bytes).toString('utf8');
    expect(text).not.toContain('User 1');
    expect(text).not.toContain('doc-3');
  });

  it('gives the same bytes when the range is archived again', async () => {
    const [again] = await t.services.archive.archiveRange('seg', 2, 9);
    expect(again!.sha256).toBe(manifest.sha256);
    expect(fs.readFileSync(path.join(dir, manifest.segment)).equals(bytes)).toBe(true);
  });

  it('opens one archived event, with the checkpoint that covers it', async () => {
    const found = await t.services.archive.archivedLeaf('seg', 4);
    expect(found?.leaf.index).toBe(4);
    expect(JSON.parse(found!.payload!.event)).toMatchObject({ actor: { id: 'user-1' }, metadata: { i: 4 } });
    expect(found!.checkpoint.note).toContain('/t/seg');
    expect(await t.services.archive.archivedLeaf('seg', 10)).toBeUndefined();
  });
});

describe('a segment that was changed', () => {
  it('fails when a byte is flipped, naming the digest and the stream', () => {
    const changed = Buffer.from(bytes);
    changed[Math.floor(changed.length / 2)]! ^= 0x01;
    const report = verifySegment(changed, { keys, manifest });
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatch(/SHA-256 .* is not the manifest's/);
    expect(report.problems.join('\n')).toMatch(/not a whole gzip stream|not JSON|root|commitment/);
  });

  it('fails when a leaf is altered inside a well-formed stream, naming the root', () => {
    const lines = gunzipSync(bytes).toString('utf8').split('\n');
    lines[3] = lines[3]!.replace(/"received_at":"(\d{4})/, (_m, year: string) => `"received_at":"${Number(year) - 1}`);
    const report = verifySegment(gzipSync(lines.join('\n')), { keys });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.stringMatching(/root that is not the one the checkpoint of size \d+ signs/)]);
  });

  it('fails when truncated', () => {
    const report = verifySegment(bytes.subarray(0, bytes.length - 9), { keys });
    expect(report).toMatchObject({ ok: false, problems: [expect.stringMatching(/truncated/)] });
    const lines = gunzipSync(bytes).toString('utf8').split('\n');
    const short = verifySegment(gzipSync(`${lines.slice(0, 4).join('\n')}\n`), { keys });
    expect(short).toMatchObject({ ok: false, problems: [expect.stringMatching(/end line|holds \d+ leaves/)] });
  });

  it('fails with a key that did not sign the checkpoint', () => {
    const other = generateSignerKey(t.services.ledgerKeys.origin('seg')).verifierKey;
    const report = verifySegment(bytes, { keys: [other] });
    expect(report).toMatchObject({ ok: false, problems: [expect.stringMatching(/checkpoint does not verify/)] });
  });

  it('fails in the service when a sealed payload was swapped for another leaf’s', async () => {
    const { header, leaves } = parseSegment(bytes);
    const swapped = [JSON.stringify(header), ...leaves.map((l, i) => JSON.stringify(i === 1 ? { ...l, sealed: leaves[2]!.sealed } : l))];
    const text = `${swapped.join('\n')}\n${JSON.stringify({ type: 'end', leaves: leaves.length })}\n`;
    const [segment] = await t.services.archive.list('seg');
    const opened = await t.services.archive.openerFor(segment!);
    const report = verifySegment(gzipSync(text), { keys, openPayload: opened });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.stringMatching(/^leaf 3: .*does not open/)]);
  });

  it('is refused by the service when the stored object differs from what was recorded', async () => {
    const file = path.join(dir, manifest.segment);
    const original = fs.readFileSync(file);
    try {
      fs.writeFileSync(file, original.subarray(0, original.length - 1));
      const [segment] = await t.services.archive.list('seg');
      await expect(t.services.archive.verify(segment!)).rejects.toMatchObject({ code: 'ARCHIVE_SEGMENT_INVALID' });
    } finally {
      fs.writeFileSync(file, original);
    }
  });
});
