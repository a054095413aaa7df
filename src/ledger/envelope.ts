/**
 * The leaf data of a tenant's tree: an envelope that binds an event's place in the log to a salted
 * commitment to its body. Stable format, documented in docs/ledger.md; changing a byte of it breaks
 * every proof ever issued.
 *
 * The commitment, not the event, goes into the tree, so an event's payload and salt can later be
 * erased (retention, GDPR) without breaking the tree, and the remaining envelope reveals nothing
 * guessable about the erased body (the 32-byte random salt defeats dictionary attacks).
 */
import { LedgerError } from './errors.ts';
import { randomBytes, sha256 } from './crypto.ts';
import { isNatural } from './encoding.ts';
import { HASH_SIZE, isHash, leafHash } from './hash.ts';
import { canonicalJson } from './jcs.ts';

export const SALT_SIZE = 32;
export const ENVELOPE_VERSION = 1;

export interface Envelope {
  tenant: string;
  /** Zero-based position of the event in the tenant's tree. */
  index: number;
  /** Global event id (UUIDv7). */
  uid: string;
  /** When the server accepted the event (RFC 3339, as stored). */
  received_at: string;
  /** `commitment(salt, body)`: 32 bytes. */
  commitment: Uint8Array;
}

/** A fresh random salt for one event. */
export function newSalt(): Buffer {
  return randomBytes(SALT_SIZE);
}

/** SHA-256(salt || JCS(body)), JCS being RFC 8785 canonical JSON. */
export function commitment(salt: Uint8Array, body: unknown): Buffer {
  return commitmentOfCanonical(salt, jcsBytes(body));
}

/** `commitment` for a body whose JCS bytes the caller already has (ingest reuses them for storage). */
export function commitmentOfCanonical(salt: Uint8Array, canonicalBody: Uint8Array): Buffer {
  if (salt.length !== SALT_SIZE) throw new LedgerError('INVALID_ARGUMENT', `salt must be ${SALT_SIZE} bytes`);
  return sha256(salt, canonicalBody);
}

/** The RFC 8785 text of an event body; EVENT_INVALID when it has none (NaN, lone surrogates, …). */
export function canonicalBody(body: unknown): string {
  return canonicalJson(body);
}

/** UTF-8 of JCS({"v":1,"tenant","index","uid","received_at","commitment":<lowercase hex>}). */
export function envelopeBytes(envelope: Envelope): Buffer {
  const { tenant, index, uid, received_at } = envelope;
  if (!isNatural(index)) throw new LedgerError('INVALID_ARGUMENT', 'envelope index must be a non-negative safe integer');
  if (!isHash(envelope.commitment)) throw new LedgerError('INVALID_ARGUMENT', `envelope commitment must be ${HASH_SIZE} bytes`);
  for (const [field, value] of Object.entries({ tenant, uid, received_at })) {
    if (typeof value !== 'string' || !isWellFormed(value)) throw new LedgerError('INVALID_ARGUMENT', `envelope ${field} must be a well-formed string`);
  }
  return Buffer.from(envelopeText(tenant, index, uid, received_at, Buffer.from(envelope.commitment).toString('hex')), 'utf8');
}

/**
 * The envelope's RFC 8785 text spelled directly: its keys are fixed (so their JCS order is too), a
 * safe integer prints as JCS prints it, and for well-formed strings JCS string escaping is exactly
 * JSON.stringify's (RFC 8785 §3.2.2.2). Ingest hashes one envelope per event, so this skips the
 * generic canonicaliser; the tests hold it equal to canonicalJson over random envelopes.
 */
export function envelopeText(tenant: string, index: number, uid: string, receivedAt: string, commitmentHex: string): string {
  return `{"commitment":"${commitmentHex}","index":${index},"received_at":${JSON.stringify(receivedAt)},"tenant":${JSON.stringify(tenant)},"uid":${JSON.stringify(uid)},"v":${ENVELOPE_VERSION}}`;
}

/** No lone surrogates: RFC 8785 has no form for them (JSON.stringify would escape them instead). */
function isWellFormed(value: string): boolean {
  return !/\p{Cs}/u.test(value);
}

/** The tree leaf hash of an event: leafHash(envelopeBytes(envelope)). */
export function eventLeafHash(envelope: Envelope): Buffer {
  return leafHash(envelopeBytes(envelope));
}

function jcsBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}
