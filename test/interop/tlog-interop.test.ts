/**
 * Acceptance 3 of issue 3: what the service publishes over HTTP (checkpoints, tiles, entry bundles,
 * tlog-proofs, consistency proofs) checks out with test/independent/spec-verifier.ts, written from
 * the specification texts and sharing no code with the prover. Leaves are recomputed here from the
 * events and salts with node:crypto and the `canonicalize` package (RFC 8785), not src/ledger.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import {
  hashChildren,
  hashLeaf,
  hashesFromTile,
  parseCheckpoint,
  tilePath,
  verifyConsistency,
  verifySignedNote,
  verifyTlogProof,
  type Checkpoint,
} from '../independent/spec-verifier.ts';

const TENANT = 'interop';
const ORIGIN = `test.trailproof/t/${TENANT}`;
let t: TestApp;
let reader: string;
let vkey: string;
const uids: string[] = [];
const seqs: number[] = [];

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant(TENANT);
  reader = await t.createKey('read', TENANT);
  const ingestKey = await t.createKey('ingest', TENANT);
  await ingest(ingestKey, 700);
  const keys = await t.app.inject({ method: 'GET', url: `/v1/ledger/key?tenant=${TENANT}` });
  vkey = keys.body.split('\n')[0]!;
}, 120_000);
afterAll(() => t.close());

async function ingest(key: string, n: number): Promise<void> {
  for (let done = 0; done < n; done += 250) {
    const events = Array.from({ length: Math.min(250, n - done) }, (_, i) => ({
      action: 'document.updated',
      actor: { type: 'user', id: `user-${(done + i) % 13}`, name: 'Zoë Ünicode' },
      targets: [{ type: 'document', id: `doc-${done + i}` }],
      changes: [{ field: 'title', before: 'a', after: 'b' }],
      metadata: { n: done + i, ratio: 0.1 * i },
    }));
    const res = await t.request('POST', '/v1/events', { key, body: { events } });
    expect(res.statusCode).toBe(200);
    for (const { uid, seq } of res.json().accepted as { uid: string; seq: number }[]) {
      uids.push(uid);
      seqs.push(seq);
    }
  }
}

const get = (url: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${reader}`, ...headers } });

async function signedCheckpoint(): Promise<{ note: string; checkpoint: Checkpoint }> {
  const res = await get(`/t/${TENANT}/checkpoint`);
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
  const checkpoint = parseCheckpoint(verifySignedNote(res.body, vkey).text);
  expect(checkpoint.origin).toBe(ORIGIN);
  return { note: res.body, checkpoint };
}

/** RFC 6962 MTH, recursively, over leaf hashes. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return hashChildren(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

const sha256 = (...parts: Uint8Array[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();

describe('the published log verifies with an independent implementation', () => {
  it('tiles and entry bundles rebuild the signed root', async () => {
    const { checkpoint } = await signedCheckpoint();
    const size = Number(checkpoint.size);
    expect(size).toBeGreaterThanOrEqual(700);
    const leaves: Buffer[] = [];
    for (let n = 0; n * 256 < size; n++) {
      const width = Math.min(256, size - n * 256);
      const tile = await get(`/t/${TENANT}/${tilePath(0, n, width)}`);
      expect(tile.statusCode, tilePath(0, n, width)).toBe(200);
      expect(tile.headers['content-type']).toBe('application/octet-stream');
      const hashes = hashesFromTile(tile.rawPayload, width);
      const bundle = await get(`/t/${TENANT}/${tilePath('entries', n, width)}`);
      expect(bundle.statusCode).toBe(200);
      const entries = splitBundle(bundle.rawPayload);
      expect(entries.map((e) => hashLeaf(e).toString('hex'))).toEqual(hashes.map((h) => h.toString('hex')));
      leaves.push(...hashes);
    }
    expect(mth(leaves).equals(checkpoint.rootHash)).toBe(true);
    // Level 1: the MTH of each full level-0 tile.
    const full = Math.floor(size / 256);
    const level1 = hashesFromTile((await get(`/t/${TENANT}/${tilePath(1, 0, full)}`)).rawPayload, full);
    expect(level1.map((h) => h.toString('hex'))).toEqual(Array.from({ length: full }, (_, i) => mth(leaves.slice(i * 256, (i + 1) * 256)).toString('hex')));
    // Entries are the envelopes: JCS objects binding tenant, index and uid.
    const entry = JSON.parse(splitBundle((await get(`/t/${TENANT}/${tilePath('entries', 0)}`)).rawPayload)[seqs[0]!]!.toString('utf8'));
    expect(entry).toMatchObject({ v: 1, tenant: TENANT, index: seqs[0], uid: uids[0] });
  });

  it('tlog-proofs of events verify, from the event and salt up to the signed checkpoint', async () => {
    for (const uid of [uids[0]!, uids[255]!, uids[256]!, uids[699]!]) {
      const res = await get(`/v1/events/${uid}/proof`);
      expect(res.statusCode).toBe(200);
      const { event, salt, envelope, leaf_index, proof } = res.json();
      // The commitment is SHA-256(salt || JCS(event)); the leaf is the hash of JCS(envelope).
      expect(sha256(Buffer.from(salt, 'hex'), Buffer.from(canonicalize(event)!, 'utf8')).toString('hex')).toBe(envelope.commitment);
      expect(envelope).toMatchObject({ uid, tenant: TENANT, index: leaf_index });
      const leaf = hashLeaf(Buffer.from(canonicalize(envelope)!, 'utf8'));
      const result = verifyTlogProof(proof, vkey, leaf, { origin: ORIGIN });
      expect(result.index).toBe(BigInt(leaf_index));
      const file = await get(`/v1/events/${uid}/proof?format=tlog-proof`);
      expect(file.headers['content-type']).toBe('text/plain; charset=utf-8');
      verifyTlogProof(file.body, vkey, leaf, { origin: ORIGIN });
    }
  });

  it('consistency proofs between two signed checkpoints verify', async () => {
    const older = await signedCheckpoint();
    await ingest(await t.createKey('ingest', TENANT), 300);
    // A proof request makes the service sign a checkpoint covering the new events.
    expect((await get(`/v1/events/${uids.at(-1)}/proof`)).statusCode).toBe(200);
    const newer = await signedCheckpoint();
    expect(newer.checkpoint.size).toBeGreaterThan(older.checkpoint.size);
    const res = await get(`/v1/ledger/consistency?from=${older.checkpoint.size}&to=${newer.checkpoint.size}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const proof = (body.proof as string[]).map((h) => Buffer.from(h, 'base64'));
    expect(verifyConsistency(older.checkpoint.size, newer.checkpoint.size, proof, older.checkpoint.rootHash, newer.checkpoint.rootHash)).toBe(true);
    expect(body.from_checkpoint).toBe(older.note);
    expect(body.to_checkpoint).toBe(newer.note);
    // And a forged root does not pass.
    const forged = Buffer.from(older.checkpoint.rootHash);
    forged[0]! ^= 1;
    expect(verifyConsistency(older.checkpoint.size, newer.checkpoint.size, proof, forged, newer.checkpoint.rootHash)).toBe(false);
  });
});

/** tlog-tiles entry bundle: big-endian uint16 length-prefixed entries. */
function splitBundle(bytes: Buffer): Buffer[] {
  const entries: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = bytes.readUInt16BE(at);
    entries.push(bytes.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return entries;
}
