/**
 * Offline verification of an archive segment (`trailproof archive verify`), trusting only the
 * verifier keys given: the gzip stream is whole, the lines are a header, the leaves [from, to) in
 * order and an end line with their count; the checkpoint is signed by a trusted key for the
 * tenant's origin; and the root recomputed from the leaves' envelopes and the proof is the one the
 * checkpoint signs. With the manifest, its digest must be the segment's. Payloads are sealed, so
 * checking them against their commitments needs their keys: `openPayload`, given by the service.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { TrailproofError } from '../../errors.ts';
import { parseCheckpoint } from '../../ledger/checkpoint.ts';
import { commitmentOfCanonical } from '../../ledger/envelope.ts';
import { envelopeText } from '../../ledger/envelope.ts';
import { leafHash } from '../../ledger/hash.ts';
import { openNote } from '../../ledger/note.ts';
import { trustedVerifiers } from '../../verify/trusted-keys.ts';
import { SEGMENT_FORMAT, SEGMENT_VERSION, type SealedPayload, type SegmentHeader, type SegmentLeaf, type SegmentManifest } from './segment-format.ts';
import { rootFromSegment } from './segment-proof.ts';

export interface SegmentReport {
  ok: boolean;
  tenant?: string;
  from?: number;
  to?: number;
  checkpointSize?: number;
  leaves: number;
  /** Payloads opened and checked against their commitments (with `openPayload`). */
  payloadsChecked: number;
  problems: string[];
}

export interface SegmentVerifyOptions {
  keys: readonly string[];
  manifest?: SegmentManifest;
  /** Opens a leaf's sealed payload (the service holds the keys); undefined when its key was erased. */
  openPayload?: (leaf: SegmentLeaf) => SealedPayload | undefined;
}

export function verifySegment(bytes: Uint8Array, options: SegmentVerifyOptions): SegmentReport {
  const report: SegmentReport = { ok: false, leaves: 0, payloadsChecked: 0, problems: [] };
  const fail = (problem: string): SegmentReport => {
    report.problems.push(problem);
    return report;
  };
  if (options.manifest) {
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== options.manifest.sha256 || bytes.length !== options.manifest.bytes)
      fail(`the segment's SHA-256 ${digest} (${bytes.length} bytes) is not the manifest's ${options.manifest.sha256} (${options.manifest.bytes} bytes)`);
  }
  let text: string;
  try {
    text = gunzipSync(bytes).toString('utf8');
  } catch (err) {
    return fail(`the segment is not a whole gzip stream (truncated or altered): ${(err as Error).message}`);
  }
  const lines = text.split('\n');
  if (lines.at(-1) !== '') return fail('the segment does not end with a newline (truncated)');
  lines.pop();
  let header: SegmentHeader;
  let end: { type: string; leaves: number };
  const leaves: SegmentLeaf[] = [];
  try {
    header = JSON.parse(lines[0] ?? 'null') as SegmentHeader;
    end = JSON.parse(lines.at(-1) ?? 'null') as { type: string; leaves: number };
    for (const line of lines.slice(1, -1)) leaves.push(JSON.parse(line) as SegmentLeaf);
  } catch {
    return fail('a line of the segment is not JSON');
  }
  if (header?.type !== 'segment' || header.format !== SEGMENT_FORMAT || header.version !== SEGMENT_VERSION)
    return fail('the first line is not a segment header');
  if (end?.type !== 'end') return fail('the segment has no end line (truncated)');
  Object.assign(report, { tenant: header.tenant, from: header.from, to: header.to });
  if (options.manifest && (options.manifest.tenant !== header.tenant || options.manifest.from !== header.from || options.manifest.to !== header.to))
    fail(
      `the manifest describes ${options.manifest.tenant} [${options.manifest.from}, ${options.manifest.to}), the segment ${header.tenant} [${header.from}, ${header.to})`,
    );
  if (end.leaves !== leaves.length || leaves.length !== header.to - header.from)
    return fail(`the segment holds ${leaves.length} leaves; its end line says ${end.leaves}, its range ${header.to - header.from}`);
  report.leaves = leaves.length;

  let size: number;
  let root: Buffer;
  try {
    const opened = openNote(header.checkpoint.note, trustedVerifiers(options.keys, header.origin));
    const checkpoint = parseCheckpoint(opened.text);
    if (checkpoint.origin !== header.origin) return fail(`the checkpoint is for ${checkpoint.origin}, not ${header.origin}`);
    ({ size, root } = checkpoint);
  } catch (err) {
    return fail(`the checkpoint does not verify with the keys given: ${(err as Error).message}`);
  }
  report.checkpointSize = size;

  const hashes: Buffer[] = [];
  for (const [i, leaf] of leaves.entries()) {
    const index = header.from + i;
    if (leaf.type !== 'leaf' || leaf.index !== index) return fail(`line ${i + 2} is not leaf ${index}`);
    if (!/^[0-9a-f]{64}$/.test(leaf.commitment)) return fail(`leaf ${index}: the commitment is not 32 bytes of hex`);
    hashes.push(leafHash(Buffer.from(envelopeText(header.tenant, index, leaf.uid, leaf.received_at, leaf.commitment))));
    if (options.openPayload && leaf.sealed !== null) {
      try {
        const payload = options.openPayload(leaf);
        if (payload) {
          const commitment = commitmentOfCanonical(Buffer.from(payload.salt, 'hex'), Buffer.from(payload.event));
          if (commitment.toString('hex') !== leaf.commitment) fail(`leaf ${index}: the payload does not match its commitment`);
          report.payloadsChecked += 1;
        }
      } catch (err) {
        fail(`leaf ${index}: ${(err as Error).message}`);
      }
    }
  }
  try {
    const proof = header.proof.map((h) => Buffer.from(h, 'hex'));
    const computed = rootFromSegment(header.from, header.to, size, hashes, proof);
    if (!computed.equals(root)) fail(`the leaves and proof give a root that is not the one the checkpoint of size ${size} signs (a leaf was altered)`);
  } catch (err) {
    fail(err instanceof TrailproofError ? err.message : `the proof is malformed: ${(err as Error).message}`);
  }
  report.ok = report.problems.length === 0;
  return report;
}
