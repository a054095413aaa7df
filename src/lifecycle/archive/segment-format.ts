/**
 * An archive segment (docs/lifecycle.md#segment-format): one tenant's leaves [from, to), gzip'd JSON
 * Lines, self-contained for offline verification:
 *
 *   {"type":"segment", format, version, tenant, origin, from, to, checkpoint: {note, issued_at, cosignatures}, proof: [hex…]}
 *   {"type":"leaf", index, uid, received_at, commitment, sealed}     one per index, in order
 *   {"type":"end", leaves}
 *
 * A leaf carries its envelope fields in clear (they make the leaf hash, and with `proof` the root
 * the checkpoint signs) and its payload sealed: `sealed` is base64 of AES-256-GCM over
 * `{"salt":…,"event":…}` (the bundle's salt and JCS event text) under the event's own key, with
 * `<tenant>/<index>` as associated data; null when the payload was already gone when archived.
 * The bytes are a function of the stored data alone (deterministic nonces, one per key), so writing
 * a segment again gives the same object.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { TrailproofError } from '../../errors.ts';
import type { BundleCheckpoint } from '../../export/bundle-format.ts';

export const SEGMENT_FORMAT = 'trailproof-archive-segment';
export const SEGMENT_VERSION = 1;
export const SEGMENT_EXTENSION = 'tpseg.jsonl.gz';
export const MANIFEST_EXTENSION = 'manifest.json';

export interface SegmentHeader {
  type: 'segment';
  format: typeof SEGMENT_FORMAT;
  version: number;
  tenant: string;
  origin: string;
  from: number;
  to: number;
  /** The earliest checkpoint whose tree holds every leaf of the segment. */
  checkpoint: BundleCheckpoint;
  /** Hex hashes of the nodes outside [from, to) (segment-proof.ts). */
  proof: string[];
}

export interface SegmentLeaf {
  type: 'leaf';
  index: number;
  uid: string;
  received_at: string;
  commitment: string;
  sealed: string | null;
}

/** What a manifest says of its segment; it sits beside it as `<base>.manifest.json`. */
export interface SegmentManifest {
  format: 'trailproof-archive-manifest';
  version: number;
  tenant: string;
  from: number;
  to: number;
  /** The segment object's name and the SHA-256 (hex) and length of its bytes. */
  segment: string;
  sha256: string;
  bytes: number;
  /** The covering checkpoint: its tree size and the signed note. */
  checkpoint: { size: number; note: string };
}

/** The payload a leaf seals: the salt and the JCS text of the event, as in a bundle. */
export interface SealedPayload {
  salt: string;
  event: string;
}

/** Object names: `<tenant>/<from>-<to>` (indices zero-padded to 12 digits) and the extension. */
export function segmentBase(tenant: string, from: number, to: number): string {
  return `${tenant}/${pad(from)}-${pad(to)}`;
}

export function seal(key: Buffer, tenant: string, index: number, payload: SealedPayload): string {
  // Each key seals exactly one payload, so a nonce derived from the key is never reused with it.
  const iv = createHmac('sha256', key).update('trailproof archive nonce').digest().subarray(0, 12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${tenant}/${index}`));
  const body = Buffer.concat([cipher.update(`{"salt":"${payload.salt}","event":${payload.event}}`, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
}

/** The payload, or ARCHIVE_SEGMENT_INVALID when it does not open with this key (altered, or another event's). */
export function unseal(key: Buffer, tenant: string, index: number, sealed: string): SealedPayload {
  const data = Buffer.from(sealed, 'base64');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
    decipher.setAAD(Buffer.from(`${tenant}/${index}`));
    decipher.setAuthTag(data.subarray(data.length - 16));
    const text = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]).toString('utf8');
    const parsed = JSON.parse(text) as { salt: string; event: unknown };
    return { salt: parsed.salt, event: text.slice(text.indexOf(',"event":') + 9, -1) };
  } catch (err) {
    throw new TrailproofError('ARCHIVE_SEGMENT_INVALID', `the archived payload of leaf ${index} does not open: altered, or not this event's`, { cause: err });
  }
}

export function leafText(leaf: Omit<SegmentLeaf, 'type'>): string {
  return `${JSON.stringify({ type: 'leaf', ...leaf })}\n`;
}

function pad(index: number): string {
  return String(index).padStart(12, '0');
}
