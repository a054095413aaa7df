/**
 * Bundles built with the pure ledger library alone (no database), for the verifier's tests and
 * benchmark: leaves from events with real salts and commitments, checkpoints signed with a real key.
 */
import { formatCheckpoint } from '../../ledger/checkpoint.ts';
import { commitment, eventLeafHash, newSalt } from '../../ledger/envelope.ts';
import { canonicalJson } from '../../ledger/jcs.ts';
import { TreeBuilder } from '../../ledger/merkle.ts';
import { generateSignerKey, parseSignerKey, signNote } from '../../ledger/note.ts';
import { checkpointLine, endLine, headerLine, leafLine, type BundleLeaf } from '../../export/bundle-format.ts';

export interface TestLog {
  tenant: string;
  origin: string;
  signerKey: string;
  verifierKey: string;
  leaves: BundleLeaf[];
  /** Signed checkpoint notes by size. */
  checkpoints: Map<number, string>;
}

/** A log of `events` with a checkpoint at each of `checkpointSizes`, signed by a fresh key. */
export function buildLog(
  events: readonly unknown[],
  checkpointSizes: readonly number[],
  options: { tenant?: string; signerKey?: string; start?: number } = {},
): TestLog {
  const tenant = options.tenant ?? 'acme';
  const origin = `trailproof.test/t/${tenant}`;
  const signerKey = options.signerKey ?? generateSignerKey(origin).signerKey;
  const signer = parseSignerKey(signerKey);
  const start = options.start ?? Date.parse('2026-11-01T00:00:00.000Z');
  const tree = new TreeBuilder();
  const leaves: BundleLeaf[] = [];
  const checkpoints = new Map<number, string>();
  const sign = () => checkpoints.set(tree.size, signNote(formatCheckpoint({ origin, size: tree.size, root: tree.root() }), [signer]));
  if (checkpointSizes.includes(0)) sign();
  events.forEach((event, index) => {
    const salt = newSalt();
    const received_at = new Date(start + index * 10).toISOString();
    const uid = uuidAt(start + index * 10, index);
    const c = commitment(salt, event);
    leaves.push({ index, uid, received_at, commitment: c.toString('hex'), salt: salt.toString('hex'), event: canonicalJson(event) });
    tree.push(eventLeafHash({ tenant, index, uid, received_at, commitment: c }));
    if (checkpointSizes.includes(tree.size)) sign();
  });
  return { tenant, origin, signerKey, verifierKey: signer.verifierKey, leaves, checkpoints };
}

/** The log as bundle lines (no newlines), checkpoints interleaved as the writer does. */
export function bundleLines(
  log: TestLog,
  options: { leaves?: readonly BundleLeaf[]; checkpoints?: ReadonlyMap<number, string>; end?: boolean } = {},
): string[] {
  const leaves = options.leaves ?? log.leaves;
  const checkpoints = [...(options.checkpoints ?? log.checkpoints)].sort((a, b) => a[0] - b[0]);
  const out = [
    headerLine({ tenant: log.tenant, origin: log.origin, verifier_keys: [log.verifierKey], size: leaves.length, created_at: '2026-11-23T00:00:00.000Z' }),
  ];
  let next = 0;
  const upTo = (size: number) => {
    while (next < checkpoints.length && checkpoints[next]![0] <= size) {
      out.push(checkpointLine({ note: checkpoints[next]![1], issued_at: '2026-11-23T00:00:00.000Z', cosignatures: [] }));
      next += 1;
    }
  };
  upTo(0);
  for (const leaf of leaves) {
    out.push(leafLine(leaf));
    upTo(leaf.index + 1);
  }
  upTo(Number.MAX_SAFE_INTEGER);
  if (options.end !== false) out.push(endLine({ leaves: leaves.length, checkpoints: checkpoints.length }));
  return out.map((line) => line.slice(0, -1));
}

/** A UUIDv7-shaped uid that sorts by (ms, n). */
function uuidAt(ms: number, n: number): string {
  const hex = `${ms.toString(16).padStart(12, '0')}7${(n % 4096).toString(16).padStart(3, '0')}8${n.toString(16).padStart(15, '0')}`;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
