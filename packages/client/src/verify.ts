/**
 * Offline verification of an event's inclusion proof: the same verifier as `trailproof
 * verify-proof` (src/verify/event-proof.ts, compiled into this package), trusting only the keys given.
 */
import { type EventProofResult, verifyEventProof } from '../../../src/verify/event-proof.ts';
import type { EventProof } from './reads.ts';

export type { EventProofResult };

/**
 * Checks that `proof` (the JSON of `GET /v1/events/{uid}/proof`) is signed by one of `verifierKeys`
 * (the tenant's published verifier key, `name+id+base64`) and proves the event's leaf is in the log;
 * when the proof carries the event body and salt, also that the body matches its commitment.
 */
export function verifyProof(proof: EventProof, verifierKeys: string | readonly string[]): EventProofResult {
  return verifyEventProof(
    { proof: proof.proof, envelope: proof.envelope, ...(proof.event != null && proof.salt != null && { event: proof.event, salt: proof.salt }) },
    typeof verifierKeys === 'string' ? [verifierKeys] : verifierKeys,
  );
}
