/**
 * Offline check of one event's inclusion proof (the JSON of `GET /v1/events/{uid}/proof`, or a
 * `.tlog-proof` with the event's envelope), trusting only the verifier keys given. Pure: no files,
 * no network. `trailproof verify-proof` and the client's `verifyProof()` (packages/client) both
 * call it, so there is one verifier.
 */
import { TrailproofError } from '../errors.ts';
import { commitment, eventLeafHash } from '../ledger/envelope.ts';
import { parseTlogProof, verifyTlogProof } from '../ledger/proof-text.ts';
import { noteOrigin, trustedVerifiers } from './trusted-keys.ts';

export interface EventProofInput {
  /** The `.tlog-proof` text. */
  proof: string;
  /** The event's envelope: its RFC 8785 form is the leaf data. */
  envelope: { v: number; tenant: string; index: number; uid: string; received_at: string; commitment: string };
  /** The event body as committed; with `salt`, checked against the envelope's commitment. */
  event?: unknown;
  /** The event's salt, 64 lowercase hex digits. */
  salt?: string;
}

export interface EventProofResult {
  ok: boolean;
  /** Why the proof does not verify, when `ok` is false. */
  error?: string;
  origin?: string;
  index?: number;
  uid?: string;
  checkpoint_size?: number;
  /** Whether the event body was checked against the envelope's commitment. */
  event_checked: boolean;
}

/** Verifies the proof; a proof that does not verify is a result (`ok: false`), not an exception. Throws CONFIG_INVALID for a malformed key. */
export function verifyEventProof(input: EventProofInput, keys: readonly string[]): EventProofResult {
  const { envelope } = input;
  if (!/^[0-9a-f]{64}$/.test(String(envelope.commitment))) return { ok: false, error: 'the envelope commitment is not 64 hex digits', event_checked: false };
  const commitmentBytes = Buffer.from(envelope.commitment, 'hex');
  let eventChecked = false;
  if (input.event !== undefined && input.salt !== undefined) {
    if (!/^[0-9a-f]{64}$/.test(input.salt)) return { ok: false, error: 'the salt is not 64 lowercase hex digits', event_checked: false };
    let recomputed: Buffer;
    try {
      recomputed = commitment(Buffer.from(input.salt, 'hex'), input.event);
    } catch {
      return { ok: false, error: 'the event has no RFC 8785 canonical form', event_checked: false };
    }
    if (!recomputed.equals(commitmentBytes))
      return { ok: false, error: 'the event (or salt) does not match the commitment in the envelope: modified', event_checked: false };
    eventChecked = true;
  }
  const leafHash = eventLeafHash({
    tenant: envelope.tenant,
    index: envelope.index,
    uid: envelope.uid,
    received_at: envelope.received_at,
    commitment: commitmentBytes,
  });
  let origin: string | undefined;
  try {
    origin = noteOrigin(parseTlogProof(input.proof).checkpoint);
    if (origin === undefined || !origin.endsWith(`/t/${envelope.tenant}`)) {
      return { ok: false, error: `the proof's checkpoint is not of tenant ${envelope.tenant}'s log`, event_checked: eventChecked };
    }
    // Any trusted key may be the one that signed this checkpoint (keys rotate); the first that opens it counts.
    let verified: ReturnType<typeof verifyTlogProof> | undefined;
    let failure: unknown;
    for (const verifier of trustedVerifiers(keys, origin)) {
      try {
        verified = verifyTlogProof(input.proof, leafHash, origin, verifier);
        break;
      } catch (err) {
        failure = err;
      }
    }
    if (!verified) throw failure;
    if (verified.index !== envelope.index)
      return { ok: false, error: `the proof is for leaf ${verified.index}, the envelope for ${envelope.index}`, event_checked: eventChecked };
    return { ok: true, origin, index: verified.index, uid: envelope.uid, checkpoint_size: verified.checkpoint.size, event_checked: eventChecked };
  } catch (err) {
    if (err instanceof TrailproofError && err.code === 'LEDGER_PROOF_INVALID')
      return { ok: false, error: err.message, ...(origin ? { origin } : {}), event_checked: eventChecked };
    throw err;
  }
}
