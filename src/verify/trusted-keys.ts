/** The verifier keys a verification trusts, as given by the person verifying (never by the data checked). */
import * as keyText from '../ledger/key-text.ts';
import { ED25519_SIGNATURE_TYPE, parseVerifierKey, type NoteVerifier } from '../ledger/note.ts';

/**
 * Verifiers for `keys`, each also under the log's `origin`: a tenant's checkpoints are signed by the
 * server key under the origin's name (docs/ledger.md), and the name is not part of what is signed,
 * so trusting a public key means trusting its signatures whatever name the key text carries.
 * Throws CONFIG_INVALID for a malformed key.
 */
export function trustedVerifiers(keys: readonly string[], origin: string | undefined): NoteVerifier[] {
  const texts = new Set<string>();
  for (const key of keys) {
    texts.add(key);
    const { publicKey } = keyText.parseVerifierKey(key, [ED25519_SIGNATURE_TYPE]);
    if (origin !== undefined && keyText.isValidKeyName(origin)) texts.add(keyText.formatVerifierKey(origin, ED25519_SIGNATURE_TYPE, publicKey));
  }
  return [...texts].map(parseVerifierKey);
}

/** The origin line of a checkpoint note, if it has one (to pick the name keys are trusted under). */
export function noteOrigin(note: string): string | undefined {
  const line = note.slice(0, Math.max(0, note.indexOf('\n')));
  return line === '' ? undefined : line;
}
