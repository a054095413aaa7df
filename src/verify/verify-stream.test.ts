import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCheckpoint } from '../ledger/checkpoint.ts';
import { commitment, newSalt } from '../ledger/envelope.ts';
import { canonicalJson } from '../ledger/jcs.ts';
import { openNote, parseSignerKey, signNote } from '../ledger/note.ts';
import type { BundleLeaf } from '../export/bundle-format.ts';
import { BundleVerifier, type VerifierOptions } from './bundle-verifier.ts';
import { LeafHasher } from './leaf-hasher.ts';
import { newLeafOffsets, parseLeafLine, type LeafOffsets } from './leaf-line.ts';
import { LeafWorkerPool } from './leaf-pool.ts';
import { BatchReader, precomputeBatch } from './leaf-precompute.ts';
import { buildLog, bundleLines } from './testing/bundle-builder.ts';
import { trustedVerifiers } from './trusted-keys.ts';
import { feedLineBytes, verifyStream } from './verify-stream.ts';

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
const log = buildLog(events, sizes);

const reindexed = (leaves: BundleLeaf[]) => leaves.map((leaf, index) => ({ ...leaf, index }));
const swapped = (i: number, j: number) => {
  const leaves = [...log.leaves];
  [leaves[i], leaves[j]] = [leaves[j]!, leaves[i]!];
  return reindexed(leaves);
};
const forgedLeaf = (index: number): BundleLeaf => {
  const salt = newSalt();
  const forged = { ...events[index], actor: { type: 'user', id: 'mallory' } };
  return { ...log.leaves[index]!, salt: salt.toString('hex'), event: canonicalJson(forged), commitment: commitment(salt, forged).toString('hex') };
};

/** Untampered and tampered bundles as text, one per kind of finding (bundle-verifier.test.ts has the expected findings). */
function bundles(): Record<string, string> {
  const signer = parseSignerKey(log.signerKey);
  const attacker = buildLog(events, sizes);
  const altered = log.checkpoints.get(20)!.split('\n');
  altered[2] = Buffer.alloc(32, 7).toString('base64');
  const withLine = (at: number, line: string) => {
    const lines = bundleLines(log);
    lines.splice(at, 0, line);
    return lines;
  };
  const byLines: Record<string, string[]> = {
    untampered: bundleLines(log),
    modified: bundleLines(log, { leaves: log.leaves.map((leaf) => (leaf.index === 12 ? { ...leaf, event: leaf.event!.replace('"u12"', '"u99"') } : leaf)) }),
    rewritten: bundleLines(log, { leaves: log.leaves.map((leaf) => (leaf.index === 12 ? forgedLeaf(12) : leaf)) }),
    missing: bundleLines(log, { leaves: log.leaves.filter((leaf) => leaf.index !== 21) }),
    repeated: bundleLines(log, {
      leaves: [...log.leaves.slice(0, 8), { ...log.leaves[7]!, uid: log.leaves[7]!.uid.replace(/.$/, 'f') }, ...log.leaves.slice(8)],
    }),
    inserted: bundleLines(log, {
      leaves: reindexed([...log.leaves.slice(0, 13), { ...forgedLeaf(0), uid: '019a9a9a-0000-7000-8000-000000000000' }, ...log.leaves.slice(13)]),
    }),
    reordered: bundleLines(log, { leaves: swapped(11, 14) }),
    reorderedFar: bundleLines(log, { leaves: swapped(3, 25) }),
    truncated: bundleLines(log, { leaves: log.leaves.slice(0, 33) }),
    noEnd: bundleLines(log, { end: false }),
    otherKey: bundleLines(log, { checkpoints: new Map(log.checkpoints).set(20, attacker.checkpoints.get(20)!) }),
    alteredRoot: bundleLines(log, { checkpoints: new Map(log.checkpoints).set(20, altered.join('\n')) }),
    rebuiltByAttacker: bundleLines(attacker),
    forked: withLine(
      9,
      JSON.stringify({
        type: 'checkpoint',
        note: signNote(formatCheckpoint({ origin: log.origin, size: 5, root: Buffer.alloc(32, 1) }), [signer]),
        issued_at: 'x',
        cosignatures: [],
      }),
    ),
    purged: bundleLines(log, { leaves: log.leaves.map((leaf) => (leaf.index === 4 ? { ...leaf, event: null, salt: null } : leaf)) }),
    malformedLine: withLine(3, '{"type":"leaf","index":"x"}'),
    notJson: withLine(17, 'not json'),
    otherSpelling: bundleLines(log).map((line, i) => (i === 6 ? JSON.stringify(JSON.parse(line), null, 1).replace(/\n/g, '') : line)),
    lineAfterEnd: [...bundleLines(log), '{"type":"leaf"}'],
    noHeader: bundleLines(log).slice(1),
    emptyLines: withLine(5, ''),
    otherTenant: bundleLines(buildLog(events.slice(0, 12), [4, 12], { tenant: 'globex' })),
  };
  const texts = Object.fromEntries(Object.entries(byLines).map(([name, lines]) => [name, `${lines.join('\n')}\n`]));
  return {
    ...texts,
    noLastNewline: texts.untampered!.slice(0, -1),
    cutInALeaf: texts.untampered!.slice(0, texts.untampered!.indexOf('"index":22') + 40),
    empty: '',
  };
}

/** The engine fed line by line, no results computed ahead: what every other path must answer. */
async function lineByLine(input: AsyncIterable<Buffer>, options: VerifierOptions) {
  const verifier = new BundleVerifier(options);
  await feedLineBytes(input, (bytes, start, end) => verifier.lineBytes(bytes, start, end));
  return verifier.finish();
}

const inChunks = async function* (bytes: Buffer, cuts: number[]) {
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    yield bytes.subarray(from, Math.max(from, cut));
    from = Math.max(from, cut);
  }
};

describe('verifyStream with worker threads', () => {
  let pool: LeafWorkerPool;
  beforeAll(() => {
    pool = new LeafWorkerPool(2);
  });
  afterAll(() => pool.close());

  it('gives the report of the engine fed line by line for every kind of tampering, cut into chunks anywhere, in workers or in this thread', async () => {
    const options = { keys: [log.verifierKey] };
    const all = bundles();
    const sequential = new Map<string, unknown>();
    for (const [name, text] of Object.entries(all)) sequential.set(name, await lineByLine(inChunks(Buffer.from(text), []), options));
    // The bundles are not all the same: the tampered ones fail, each with its own finding.
    expect(sequential.get('untampered')).toMatchObject({ ok: true, leaves: 40 });
    expect([...sequential.values()].filter((r) => (r as { ok: boolean }).ok)).toHaveLength(3); // untampered, otherSpelling, noLastNewline
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(all)),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4096 }),
        async (name, cuts, batchesPerWorker, batchBytes) => {
          const bytes = Buffer.from(all[name]!);
          const at = cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
          const report = await verifyStream(inChunks(bytes, at), options, { pool, batchesPerWorker, batchBytes });
          expect(report, `${name} cut at ${at.join(',')}`).toEqual(sequential.get(name));
          // And in this thread (--workers 0), a batch at a time.
          expect(await verifyStream(inChunks(bytes, at), options, { batchBytes }), `${name} in this thread`).toEqual(sequential.get(name));
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);

  it('checks checkpoint signatures in the workers, and the engine takes only notes checked with its own keys and origin', () => {
    const text = bundles().alteredRoot!; // the checkpoint at 20 has a signature that no longer verifies
    const lines = text.split('\n').slice(0, -1);
    const bytes = Buffer.from(`${lines.slice(1).join('\n')}\n`);
    const verifiers = trustedVerifiers([log.verifierKey], log.origin);
    const opens = (note: string) => {
      try {
        openNote(note, verifiers);
        return true;
      } catch {
        return false;
      }
    };
    const notes = lines.filter((l) => l.startsWith('{"type":"checkpoint"')).map((l) => (JSON.parse(l) as { note: string }).note);
    const altered = notes.find((note) => !opens(note))!;
    expect(altered).toBeDefined();
    const batch = precomputeBatch(bytes, new LeafHasher(log.tenant), opens);
    expect(batch.checkedNotes).toEqual(notes.filter((note) => note !== altered));
    expect(precomputeBatch(bytes, new LeafHasher(log.tenant)).checkedNotes).toEqual([]);

    // Told (wrongly) that the altered note was checked: trusted only for the same keys and origin.
    const feed = (keys: string[], origin: string) => {
      const verifier = new BundleVerifier({ keys: [log.verifierKey] });
      verifier.line(lines[0]!);
      verifier.notesChecked([altered], keys, origin);
      for (const line of lines.slice(1)) verifier.line(line);
      return verifier.finish();
    };
    expect(feed([log.verifierKey], log.origin).findings.some((f) => f.kind === 'bad_signature')).toBe(false);
    expect(feed([log.verifierKey], 'other.example/t/x').findings.some((f) => f.kind === 'bad_signature')).toBe(true);
    expect(feed([buildLog(events, sizes).verifierKey], log.origin).findings.some((f) => f.kind === 'bad_signature')).toBe(true);
  });

  it('uses the results the workers computed (a wrong leaf hash from them shows in the report)', () => {
    const lines = bundleLines(log);
    const bytes = Buffer.from(`${lines.slice(1).join('\n')}\n`);
    const batch = precomputeBatch(bytes, new LeafHasher(log.tenant));
    expect(batch.lines).toBe(lines.length - 1);
    const feed = (tenant: string, corrupt: boolean) => {
      const verifier = new BundleVerifier({ keys: [log.verifierKey] });
      verifier.line(lines[0]!);
      const reader = new BatchReader(batch, tenant);
      let start = 0;
      let line = 0;
      for (let end = bytes.indexOf(0x0a); end >= 0; end = bytes.indexOf(0x0a, start)) {
        const leaf = reader.leaf(line++, end);
        if (leaf && corrupt && leaf.index === 12) leaf.leafHash = Buffer.alloc(32);
        verifier.lineBytes(bytes, start, end, leaf);
        start = end + 1;
      }
      return verifier.finish();
    };
    expect(feed(log.tenant, false)).toMatchObject({ ok: true, leaves: 40 });
    expect(feed(log.tenant, true).first).toMatchObject({ kind: 'modified', range: [10, 16] });
    // Results computed for another tenant's envelopes are not taken: the engine hashes the line itself.
    expect(feed('other', true)).toMatchObject({ ok: true, leaves: 40 });
  });

  it.each([
    ['the test log, one leaf purged', () => ({ text: bundles().purged!, tenant: log.tenant, fast: 39 })],
    // Keys longer than their lines: the buffer the results go to grows.
    [
      'a long tenant id',
      () => {
        const tenant = `t-${'x'.repeat(3000)}`;
        return { text: bundleLines(buildLog(events, sizes, { tenant })).join('\n'), tenant, fast: 40 };
      },
    ],
  ])("precomputes exactly what the engine's fast path computes, and only for the lines it takes: %s", (_name, make) => {
    const { text, tenant, fast: expectedFast } = make();
    const lines = text
      .split('\n')
      .slice(1)
      .filter((l) => l.startsWith('{"type":"leaf"'));
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    const hasher = new LeafHasher(tenant);
    const reader = new BatchReader(precomputeBatch(bytes, hasher), tenant);
    const f: LeafOffsets = newLeafOffsets();
    let start = 0;
    let fast = 0;
    lines.forEach((line, i) => {
      const end = start + Buffer.byteLength(line);
      const leaf = reader.leaf(i, end);
      if (parseLeafLine(bytes, start, end, f) && hasher.commitmentMatches(bytes, f)) {
        fast += 1;
        const key = hasher.keyFromLine(bytes, f);
        expect(leaf).toMatchObject({ tenant, index: f.index, key, leafHash: hasher.leafHash(f.index, key) });
      } else {
        expect(leaf).toBeUndefined();
      }
      start = end + 1;
    });
    expect(fast).toBe(expectedFast); // a purged leaf is the slow path's
    expect(() => reader.leaf(0, 5)).toThrow(/out of step/);
  });
});
