import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint } from '../ledger/checkpoint.ts';
import { sha256 } from '../ledger/crypto.ts';
import { commitment, eventLeafHash, newSalt } from '../ledger/envelope.ts';
import { canonicalJson } from '../ledger/jcs.ts';
import { TreeBuilder } from '../ledger/merkle.ts';
import { formatVerifierKey, parseVerifierKey as parseKeyText } from '../ledger/key-text.ts';
import { parseSignerKey, signNote, ED25519_SIGNATURE_TYPE } from '../ledger/note.ts';
import { BundleVerifier, type VerifierOptions } from './bundle-verifier.ts';
import { compareUids, LeafHasher, uidOf } from './leaf-hasher.ts';
import { parseLeafLine, type LeafOffsets } from './leaf-line.ts';
import { verifyStream } from './verify-stream.ts';
import { buildLog, bundleLines, type TestLog } from './testing/bundle-builder.ts';
import { leafLine, type BundleLeaf } from '../export/bundle-format.ts';

const events = Array.from({ length: 40 }, (_, i) => ({
  action: 'user.login',
  actor: { type: 'user', id: `u${i}` },
  targets: [],
  outcome: 'success',
  context: {},
  occurred_at: '2026-11-01T00:00:00.000Z',
  metadata: { n: i, note: 'é ✓' },
}));
const sizes = [0, 5, 10, 16, 20, 30, 40];

/** Verifies as text lines and as bytes (the fast path for the writer's leaf lines): both must agree. */
function verify(lines: string[], options: Partial<VerifierOptions> & { log: TestLog }) {
  const asText = new BundleVerifier({ keys: [options.log.verifierKey], ...options });
  const asBytes = new BundleVerifier({ keys: [options.log.verifierKey], ...options });
  for (const line of lines) {
    asText.line(line);
    const bytes = Buffer.from(`x${line}\n`);
    asBytes.lineBytes(bytes, 1, bytes.length - 1);
  }
  const report = asText.finish();
  expect(asBytes.finish()).toEqual(report);
  return report;
}

function reindexed(leaves: BundleLeaf[]): BundleLeaf[] {
  return leaves.map((leaf, index) => ({ ...leaf, index }));
}

describe('BundleVerifier', () => {
  const log = buildLog(events, sizes);

  it('accepts an untampered bundle and counts what it checked', () => {
    const report = verify(bundleLines(log), { log });
    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({ ok: true, leaves: 40, unsigned_leaves: 0, checkpoints: { total: 7, verified: 7, latest: { size: 40 } } });
  });

  it("reads leaf lines spelled otherwise (key order, spaces) exactly like the writer's", () => {
    const lines = bundleLines(log).map((line) => {
      const value = JSON.parse(line) as Record<string, unknown>;
      return value.type === 'leaf'
        ? JSON.stringify({ event: JSON.parse(value.event === null ? 'null' : JSON.stringify(value.event)), ...value }, null, 0).replace(
            '"event":',
            '"event" : ',
          )
        : line;
    });
    expect(verify(lines, { log }).findings).toEqual([]);
    const tampered = lines.map((line) => line.replace('"n":7,', '"n":8,'));
    expect(verify(tampered, { log }).first).toMatchObject({ kind: 'modified', index: 7 });
  });

  it("trusts a key given under the server's own name for the tenant's origin", () => {
    const { publicKey } = parseKeyText(log.verifierKey, [ED25519_SIGNATURE_TYPE]);
    const hostKey = formatVerifierKey('trailproof.test', ED25519_SIGNATURE_TYPE, publicKey);
    expect(verify(bundleLines(log), { log, keys: [hostKey] }).ok).toBe(true);
  });

  it('names an edited event body as modified at its index', () => {
    const leaves = log.leaves.map((leaf) => (leaf.index === 12 ? { ...leaf, event: leaf.event!.replace('"u12"', '"u99"') } : leaf));
    const report = verify(bundleLines(log, { leaves }), { log });
    expect(report.first).toMatchObject({ kind: 'modified', index: 12 });
    expect(report.findings).toHaveLength(1);
  });

  it('finds a rewritten envelope (event and commitment both replaced) between the checkpoints around it', () => {
    const salt = newSalt();
    const forged = { ...events[12], actor: { type: 'user', id: 'mallory' } };
    const leaves = log.leaves.map((leaf) =>
      leaf.index === 12 ? { ...leaf, salt: salt.toString('hex'), event: canonicalJson(forged), commitment: commitment(salt, forged).toString('hex') } : leaf,
    );
    const report = verify(bundleLines(log, { leaves }), { log });
    expect(report.first).toMatchObject({ kind: 'modified', index: 10, range: [10, 16], checkpoint_size: 16 });
  });

  it('names a deleted leaf as missing', () => {
    const leaves = log.leaves.filter((leaf) => leaf.index !== 21);
    const report = verify(bundleLines(log, { leaves }), { log });
    expect(report.first).toMatchObject({ kind: 'missing', index: 21 });
  });

  it('names a repeated index as inserted', () => {
    const leaves = [...log.leaves.slice(0, 8), { ...log.leaves[7]!, uid: log.leaves[7]!.uid.replace(/.$/, 'f') }, ...log.leaves.slice(8)];
    expect(verify(bundleLines(log, { leaves }), { log }).first).toMatchObject({ kind: 'inserted', index: 7 });
  });

  it('names a forged leaf inserted with the later ones renumbered', () => {
    const salt = newSalt();
    const forged = { ...events[0], actor: { type: 'user', id: 'ghost' } };
    const fake: BundleLeaf = {
      index: 0,
      uid: '019a9a9a-0000-7000-8000-000000000000',
      received_at: '2026-11-20T00:00:00.000Z',
      commitment: commitment(salt, forged).toString('hex'),
      salt: salt.toString('hex'),
      event: canonicalJson(forged),
    };
    const leaves = reindexed([...log.leaves.slice(0, 13), fake, ...log.leaves.slice(13)]);
    const report = verify(bundleLines(log, { leaves }), { log });
    expect(report.first).toMatchObject({ kind: 'inserted', index: 13 });
  });

  it('names two swapped leaves as reordered at the first', () => {
    for (const [i, j] of [
      [11, 14],
      [11, 12],
      [3, 25],
    ] as const) {
      const swapped = [...log.leaves];
      [swapped[i], swapped[j]] = [swapped[j]!, swapped[i]!];
      const report = verify(bundleLines(log, { leaves: reindexed(swapped) }), { log });
      expect(report.first, `swap ${i} ${j}`).toMatchObject({ kind: 'reordered', index: i });
    }
  });

  it('names a cut tail as truncated at the first absent index', () => {
    const report = verify(bundleLines(log, { leaves: log.leaves.slice(0, 33) }), { log });
    expect(report.first).toMatchObject({ kind: 'truncated', index: 33, checkpoint_size: 40 });
    const noEnd = verify(bundleLines(log, { end: false }), { log });
    expect(noEnd.first).toMatchObject({ kind: 'truncated', index: 40 });
  });

  it('rejects a checkpoint signed by another key, or with an altered root', () => {
    const attacker = buildLog(events, sizes);
    const forged = new Map(log.checkpoints).set(20, attacker.checkpoints.get(20)!);
    expect(verify(bundleLines(log, { checkpoints: forged }), { log }).first).toMatchObject({ kind: 'bad_signature', index: null, checkpoint_size: 20 });
    const note = log.checkpoints.get(20)!;
    const lines = note.split('\n');
    lines[2] = Buffer.alloc(32, 7).toString('base64');
    const altered = new Map(log.checkpoints).set(20, lines.join('\n'));
    expect(verify(bundleLines(log, { checkpoints: altered }), { log }).first).toMatchObject({ kind: 'bad_signature', checkpoint_size: 20 });
  });

  it('rejects a whole log rebuilt with another key, and a bundle without any trusted checkpoint', () => {
    const attacker = buildLog(events, sizes);
    const report = verify(bundleLines(attacker), { log });
    expect(report.first).toMatchObject({ kind: 'bad_signature' });
    expect(report.checkpoints.verified).toBe(0);
    expect(verify(bundleLines(log, { checkpoints: new Map() }), { log }).first).toMatchObject({
      kind: 'bad_signature',
      detail: expect.stringContaining('no checkpoint'),
    });
  });

  it('names a log that signed two different roots for one size as forked', () => {
    const signer = parseSignerKey(log.signerKey);
    const other = signNote(formatCheckpoint({ origin: log.origin, size: 16, root: Buffer.alloc(32, 1) }), [signer]);
    const lines = bundleLines(log);
    const at = lines.findIndex((line) => line.includes(JSON.stringify(log.checkpoints.get(16)!)));
    lines.splice(at + 1, 0, JSON.stringify({ type: 'checkpoint', note: other, issued_at: 'x', cosignatures: [] }));
    expect(verify(lines, { log }).first).toMatchObject({ kind: 'forked', checkpoint_size: 16 });
    // Signed before the true one: it disagrees with the leaves, and a later signed root agrees with them.
    const lines2 = bundleLines(log);
    lines2.splice(at, 0, JSON.stringify({ type: 'checkpoint', note: other, issued_at: 'x', cosignatures: [] }));
    expect(verify(lines2, { log }).first).toMatchObject({ kind: 'forked', checkpoint_size: 16 });
  });

  it('checks a saved checkpoint: a different tree at its size is a fork, a shorter bundle is truncated', () => {
    expect(verify(bundleLines(log), { log, since: log.checkpoints.get(20)! })).toMatchObject({ ok: true, since: { size: 20, ok: true } });
    // The same key signed another history (a rollback to a rebuilt tree): the saved checkpoint shows it.
    const rebuilt = buildLog(
      events.map((e, i) => (i === 3 ? { ...e, outcome: 'failure' } : e)),
      sizes,
      { signerKey: log.signerKey },
    );
    const report = verify(bundleLines(rebuilt), { log, since: log.checkpoints.get(20)! });
    expect(report.first).toMatchObject({ kind: 'forked', index: 0, range: [0, 20] });
    const short = verify(bundleLines(log, { leaves: log.leaves.slice(0, 18), checkpoints: new Map([...log.checkpoints].filter(([s]) => s <= 18)) }), {
      log,
      since: log.checkpoints.get(20)!,
    });
    expect(short.first).toMatchObject({ kind: 'truncated', index: 18, checkpoint_size: 20 });
  });

  it('a rewritten leaf the log went on signing: the leaf range, and a fork between the old and new checkpoints', () => {
    const salt = newSalt();
    const forged = { ...events[12], outcome: 'failure' };
    const leaves = log.leaves.map((leaf) =>
      leaf.index === 12 ? { ...leaf, salt: salt.toString('hex'), event: canonicalJson(forged), commitment: commitment(salt, forged).toString('hex') } : leaf,
    );
    // Old checkpoints up to 20 (issued before the rewrite), then new ones over the rewritten leaves.
    const signer = parseSignerKey(log.signerKey);
    const tree = new TreeBuilder();
    const checkpoints = new Map([...log.checkpoints].filter(([size]) => size <= 20));
    for (const leaf of leaves) {
      tree.push(
        eventLeafHash({ tenant: log.tenant, index: leaf.index, uid: leaf.uid, received_at: leaf.received_at, commitment: Buffer.from(leaf.commitment, 'hex') }),
      );
      if (tree.size > 20 && sizes.includes(tree.size))
        checkpoints.set(tree.size, signNote(formatCheckpoint({ origin: log.origin, size: tree.size, root: tree.root() }), [signer]));
    }
    const report = verify(bundleLines(log, { leaves, checkpoints }), { log });
    expect(report.first).toMatchObject({ kind: 'modified', index: 10, range: [10, 16] });
    expect(report.findings.map((f) => f.kind)).toContain('forked');
  });

  it("reads a byte stream in any chunking exactly like lines (the CLI's path)", async () => {
    const tampered = log.leaves.map((leaf) => (leaf.index === 12 ? { ...leaf, event: leaf.event!.replace('"u12"', '"u99"') } : leaf));
    for (const lines of [bundleLines(log), bundleLines(log, { leaves: tampered })]) {
      const bytes = Buffer.from(`${lines.join('\n')}\n`);
      const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, (i + 1) * 7));
      const streamed = await verifyStream(
        (async function* () {
          yield* chunks;
        })(),
        { keys: [log.verifierKey] },
      );
      expect(streamed).toEqual(verify(lines, { log }));
    }
  });

  it('reports a purged payload without a tombstone as missing', () => {
    const leaves = log.leaves.map((leaf) => (leaf.index === 4 ? { ...leaf, event: null, salt: null } : leaf));
    const report = verify(bundleLines(log, { leaves }), { log });
    expect(report.first).toMatchObject({ kind: 'missing', index: 4 });
    expect(report.purged).toBe(1);
  });

  it('says what a line that is not part of the format is', () => {
    expect(verify(['not json'], { log }).first).toMatchObject({ kind: 'malformed' });
    const lines = bundleLines(log);
    lines.splice(3, 0, '{"type":"leaf","index":"x"}');
    expect(verify(lines, { log }).ok).toBe(false);
  });
});

describe('LeafHasher and the byte-level leaf line reader', () => {
  it("equal the ledger library's commitment and leaf hash, from fields and from the writer's lines", () => {
    const uidArb = fc.uuid().map((u) => u.toLowerCase());
    const timeArb = fc.date({ min: new Date(0), max: new Date(8.6e15), noInvalidDate: true }).map((d) => d.toISOString());
    const uidLikeArb = fc.oneof(fc.string(), fc.string({ minLength: 36, maxLength: 36 }), fc.constant('"uid":"'.repeat(6)));
    fc.assert(
      fc.property(
        fc.string(),
        uidLikeArb,
        fc.string(),
        fc.nat(),
        fc.dictionary(fc.string(), fc.jsonValue()),
        uidArb,
        timeArb,
        (tenant, uid, receivedAt, index, body, lineUid, lineTime) => {
          const salt = newSalt();
          const hasher = new LeafHasher(tenant);
          const c = commitment(salt, body);
          expect(hasher.commitment(salt.toString('hex'), canonicalJson(body)).equals(c)).toBe(true);
          const key = hasher.keyFromFields(uid, receivedAt, c.toString('hex'));
          expect(hasher.leafHash(index, key).equals(eventLeafHash({ tenant, index, uid, received_at: receivedAt, commitment: c }))).toBe(true);
          // The same leaf read from its line's bytes.
          const line = Buffer.from(
            leafLine({
              index,
              uid: lineUid,
              received_at: lineTime,
              commitment: c.toString('hex'),
              salt: salt.toString('hex'),
              event: canonicalJson(body),
            }).slice(0, -1),
          );
          const offsets = {} as LeafOffsets;
          expect(parseLeafLine(line, 0, line.length, offsets)).toBe(true);
          expect(offsets.index).toBe(index);
          expect(hasher.keyFromLine(line, offsets)).toEqual(hasher.keyFromFields(lineUid, lineTime, c.toString('hex')));
          // The two-step writer of the workers: the same hash and key, within exactly the room it asks for.
          const keyLength = hasher.keyLength(offsets);
          const room = Buffer.alloc(7 + hasher.leafSlotLength(offsets));
          const [start, end] = hasher.leafMessage(line, offsets, room, 7);
          expect(end).toBe(room.length);
          const digest = Buffer.concat([Buffer.alloc(3), sha256(room.subarray(start, end))]);
          expect(hasher.leafFromMessage(offsets, room, 7, end, digest, 3)).toBe(7 + 32 + keyLength);
          expect(room.subarray(7, 39)).toEqual(hasher.leafHash(index, hasher.keyFromLine(line, offsets)));
          expect(room.subarray(39, 39 + keyLength)).toEqual(hasher.keyFromLine(line, offsets));
          expect(hasher.commitmentMatches(line, offsets)).toBe(true);
          // What the commitment hashes, written out, and the digest checked against the line's.
          const committed = Buffer.alloc(2 + hasher.committedLength(offsets));
          expect(hasher.writeCommitted(line, offsets, committed, 2)).toBe(committed.length);
          expect(hasher.isCommitment(line, offsets, sha256(committed.subarray(2)), 0)).toBe(true);
          expect(hasher.isCommitment(line, offsets, Buffer.concat([Buffer.alloc(1), c]), 1)).toBe(true);
          expect(hasher.isCommitment(line, offsets, sha256(committed), 0)).toBe(false);
          // The uid is read from a key without searching when it has the writer's 36 characters, and found otherwise.
          expect(uidOf(key).toString()).toBe(JSON.stringify(uid).slice(1, -1));
          expect(uidOf(hasher.keyFromLine(line, offsets)).toString()).toBe(lineUid);
          expect(Math.sign(compareUids(Buffer.from(uid), Buffer.from(lineUid)))).toBe(Buffer.compare(Buffer.from(uid), Buffer.from(lineUid)));
          const other = newSalt().toString('hex');
          const wrongSalt = Buffer.from(line.toString().replace(salt.toString('hex'), other));
          expect(parseLeafLine(wrongSalt, 0, wrongSalt.length, offsets) && hasher.commitmentMatches(wrongSalt, offsets)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('leaves every other spelling to the full parser', () => {
    const log = buildLog(events.slice(0, 1), [1]);
    const line = leafLine(log.leaves[0]!).slice(0, -1);
    const offsets = {} as LeafOffsets;
    const accepts = (text: string) => parseLeafLine(Buffer.from(text), 0, Buffer.byteLength(text), offsets);
    expect(accepts(line)).toBe(true);
    // A line cut inside its event still looks like one; its commitment then fails and the full parser decides.
    const cut = line.slice(0, -1);
    const report = verify([bundleLines(log)[0]!, cut], { log });
    expect(report.findings[0]).toMatchObject({ kind: 'malformed', line: 2 });
    for (const variant of [
      line.replace('"index":0', '"index":00'),
      line.replace('"index":0', '"index":1e3'),
      line.replace('"index":0', '"index":1234567890123456'),
      line.replace(/"commitment":"../, '"commitment":"AB'),
      line.replace(/"commitment":"[0-9a-f]{64}"/, (m) => m.toUpperCase().replace('"COMMITMENT"', '"commitment"')),
      line.replace(/"salt":"[0-9a-f]{64}"/, '"salt":null').replace(/"event":.*}$/, '"event":null}'),
      line.replace('"event":', '"event" :'),
      line.replace('"uid":"', '"uid":"\\u0030'),
      line.replace(/"event":.*}$/, '"event":}'),
    ])
      expect(accepts(variant), variant.slice(0, 120)).toBe(false);
  });

  it('grows its buffer for large events', () => {
    const body = { big: 'x'.repeat(200_000) };
    const salt = newSalt();
    expect(new LeafHasher('t').commitment(salt.toString('hex'), canonicalJson(body)).equals(commitment(salt, body))).toBe(true);
  });
});
