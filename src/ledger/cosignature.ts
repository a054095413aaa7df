/**
 * c2sp.org/tlog-cosignature, Ed25519 "cosignature/v1" (signature type 0x04): a witness's note
 * signature on a checkpoint, stating that at `time` this was the largest consistent tree it saw.
 *
 *   signed message  cosignature/v1\ntime <unix seconds>\n<checkpoint note text>
 *   signature       8-byte big-endian timestamp || 64-byte Ed25519 signature
 *   key ID          SHA-256(name || 0x0A || 0x04 || public key)[:4]
 *
 * Cosigners and their verifiers implement NoteSigner / NoteVerifier, so signNote adds a
 * cosignature to a checkpoint and openNote checks one.
 */
import { LedgerError } from './errors.ts';
import { parseCheckpoint } from './checkpoint.ts';
import { ED25519_SEED_SIZE, ED25519_SIGNATURE_SIZE, ed25519FromSeed, ed25519Verify, randomBytes } from './crypto.ts';
import { isNatural } from './encoding.ts';
import * as keyText from './key-text.ts';
import { ED25519_SIGNATURE_TYPE } from './note.ts';
import type { NoteSigner, NoteVerifier } from './note.ts';

export const COSIGNATURE_TYPE = 0x04;
const TIMESTAMP_SIZE = 8;
/** The spec's bound on timestamps (2^63 - 1), as a bigint. */
const MAX_TIMESTAMP = (1n << 63n) - 1n;

export interface Cosigner extends NoteSigner {
  /** The cosigner's public key text, `<name>+<id>+<base64(0x04 || public key)>`. */
  readonly verifierKey: string;
  /** The cosignature of a checkpoint at an explicit time (unix seconds); `sign` uses the clock. */
  signAt(checkpointText: Buffer, timestamp: number): Buffer;
}

/** A new cosigner key pair (type 0x04) in Go `note` key text form; the signer key is secret. */
export function generateCosignerKey(name: string): { signerKey: string; verifierKey: string } {
  const seed = randomBytes(ED25519_SEED_SIZE);
  return {
    signerKey: keyText.formatSignerKey(name, COSIGNATURE_TYPE, seed),
    verifierKey: keyText.formatVerifierKey(name, COSIGNATURE_TYPE, ed25519FromSeed(seed).publicKey),
  };
}

/**
 * A cosigner from a signer key of type 0x04, or of type 0x01 (an ordinary note key reused for
 * cosigning, as transparency-dev/formats allows): its key ID is then computed with 0x04.
 */
export function parseCosignerKey(text: string, clock: () => number = Date.now): Cosigner {
  const { name, seed } = keyText.parseSignerKey(text, [COSIGNATURE_TYPE, ED25519_SIGNATURE_TYPE]);
  const key = ed25519FromSeed(seed);
  const signAt = (checkpointText: Buffer, timestamp: number): Buffer => {
    if (!isNatural(timestamp)) throw new LedgerError('INVALID_ARGUMENT', 'cosignature time must be whole unix seconds');
    const time = BigInt(timestamp);
    const stamp = Buffer.alloc(TIMESTAMP_SIZE);
    stamp.writeBigUInt64BE(time);
    return Buffer.concat([stamp, key.sign(cosignedMessage(time, checkpointText))]);
  };
  return {
    name,
    keyId: keyText.keyId(name, COSIGNATURE_TYPE, key.publicKey),
    verifierKey: keyText.formatVerifierKey(name, COSIGNATURE_TYPE, key.publicKey),
    signAt,
    sign: (checkpointText) => signAt(checkpointText, Math.floor(clock() / 1000)),
  };
}

/** A cosignature verifier from a verifier key of type 0x04 (or 0x01, read as the same key with 0x04). */
export function parseCosignatureVerifierKey(text: string): NoteVerifier {
  const { name, publicKey } = keyText.parseVerifierKey(text, [COSIGNATURE_TYPE, ED25519_SIGNATURE_TYPE]);
  return {
    name,
    keyId: keyText.keyId(name, COSIGNATURE_TYPE, publicKey),
    verify(checkpointText, signature) {
      if (signature.length !== TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE) return false;
      const time = signature.readBigUInt64BE(0);
      if (time > MAX_TIMESTAMP) return false;
      try {
        return ed25519Verify(publicKey, cosignedMessage(time, checkpointText), signature.subarray(TIMESTAMP_SIZE));
      } catch {
        return false;
      }
    },
  };
}

/** The time (unix seconds) a cosignature states, from its bytes after the key ID. */
export function cosignatureTimestamp(signature: Buffer): number {
  if (signature.length !== TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE) {
    throw new LedgerError('PROOF_INVALID', 'not an Ed25519 cosignature/v1 signature');
  }
  const time = signature.readBigUInt64BE(0);
  if (time > BigInt(Number.MAX_SAFE_INTEGER)) throw new LedgerError('PROOF_INVALID', 'cosignature timestamp out of range');
  return Number(time);
}

/** `cosignature/v1\ntime <t>\n` followed by the checkpoint note text, which must parse. */
function cosignedMessage(time: bigint, checkpointText: Buffer): Buffer {
  parseCheckpoint(checkpointText.toString('utf8'));
  return Buffer.concat([Buffer.from(`cosignature/v1\ntime ${time}\n`, 'utf8'), checkpointText]);
}
