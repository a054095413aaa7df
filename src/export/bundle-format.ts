/**
 * The verifiable export bundle (docs/bundle.md): one tenant's whole log as JSON Lines, written and
 * read one line at a time so neither side ever holds the log in memory.
 *
 *   {"type":"header", format, version, tenant, origin, verifier_keys, size, created_at}
 *   {"type":"checkpoint", …}   every checkpoint of size 0
 *   {"type":"leaf", index 0, …}
 *   {"type":"checkpoint", …}   every checkpoint of size 1, right after the leaf that makes the tree that size
 *   {"type":"leaf", index 1, …}
 *   …
 *   {"type":"checkpoint", …}   checkpoints larger than the leaves (only in a truncated log)
 *   {"type":"end", leaves, checkpoints}
 *
 * Checkpoints sit where the tree reaches their size, so a verifier checks each one against the root
 * it has just recomputed, in constant memory. A leaf's `event` is the RFC 8785 (JCS) text of the
 * stored body, so `SHA-256(salt || those bytes)` is the commitment without re-canonicalising; the
 * writer always spells a leaf line the same way (`leafLine`), which lets the verifier take that fast
 * path and fall back to parsing for anything else.
 */
import { canonicalJson } from '../ledger/jcs.ts';

export const BUNDLE_FORMAT = 'trailproof-bundle';
export const BUNDLE_VERSION = 1;
export const BUNDLE_MEDIA_TYPE = 'application/x-ndjson';
export const BUNDLE_EXTENSION = 'tpbundle.jsonl';

export interface BundleHeader {
  type: 'header';
  format: typeof BUNDLE_FORMAT;
  version: number;
  tenant: string;
  /** The checkpoints' origin, `<host>/t/<tenant>`. */
  origin: string;
  /** Verifier keys the server publishes for this tenant. Informational: a verifier trusts only keys it is given. */
  verifier_keys: string[];
  /** Number of leaf lines that follow. */
  size: number;
  created_at: string;
}

export interface BundleLeaf {
  index: number;
  uid: string;
  received_at: string;
  /** Lowercase hex of the 32-byte commitment the leaf's envelope carries. */
  commitment: string;
  /** Lowercase hex of the 32-byte salt; null once the payload was purged. */
  salt: string | null;
  /** JCS text of the event body; null once the payload was purged. */
  event: string | null;
}

export interface BundleCheckpoint {
  /** The signed checkpoint note, verbatim as stored (the service's signature only). */
  note: string;
  issued_at: string;
  /** Witness cosignature lines (`— <witness> <base64>`), each ending in a newline. */
  cosignatures: string[];
}

export function headerLine(header: Omit<BundleHeader, 'type' | 'format' | 'version'>): string {
  const full: BundleHeader = { type: 'header', format: BUNDLE_FORMAT, version: BUNDLE_VERSION, ...header };
  return `${JSON.stringify(full)}\n`;
}

/**
 * One leaf, always spelled exactly like this (key order, no spaces, event last): the verifier's fast
 * path recognises this spelling. The event text must already be JCS (`canonicalJson`).
 */
export function leafLine(leaf: BundleLeaf): string {
  const { index, uid, received_at, commitment, salt, event } = leaf;
  return (
    `{"type":"leaf","index":${index},"uid":${JSON.stringify(uid)},"received_at":${JSON.stringify(received_at)},"commitment":"${commitment}",` +
    `"salt":${salt === null ? 'null' : `"${salt}"`},"event":${event ?? 'null'}}\n`
  );
}

export function checkpointLine(checkpoint: BundleCheckpoint): string {
  return `${JSON.stringify({ type: 'checkpoint', ...checkpoint })}\n`;
}

export function endLine(counts: { leaves: number; checkpoints: number }): string {
  return `${JSON.stringify({ type: 'end', ...counts })}\n`;
}

/** The JCS text a leaf line carries for a stored body. */
export function eventText(body: unknown): string {
  return canonicalJson(body);
}
