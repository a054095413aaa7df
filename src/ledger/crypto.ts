/**
 * Every cryptographic primitive the ledger uses, behind one small module (node:crypto only):
 * SHA-256, Ed25519 (RFC 8032) from a 32-byte seed, randomness and constant-time comparison.
 */
import * as nodeCrypto from 'node:crypto';
import { createHash, createPrivateKey, createPublicKey, randomBytes as nodeRandomBytes, sign, timingSafeEqual, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export const SHA256_SIZE = 32;
export const ED25519_SEED_SIZE = 32;
export const ED25519_PUBLIC_KEY_SIZE = 32;
export const ED25519_SIGNATURE_SIZE = 64;

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Buffer {
  const data = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
  return Buffer.from(sha256Latin1(data), 'latin1');
}

/**
 * SHA-256 of `data` as a string of 32 latin1 characters, one per digest byte (char code = byte):
 * for comparing or copying a digest (Buffer#write with latin1) without making a Buffer for it.
 */
export function sha256Latin1(data: Uint8Array): string {
  return oneShotHash ? oneShotHash('sha256', data, 'binary') : createHash('sha256').update(data).digest('binary');
}

/**
 * SHA-256 of many messages at once: message i is data[ranges[2i], ranges[2i + 1]), its digest
 * written to out[32i, 32i + 32); a range outside `data` or too short an `out` is a RangeError,
 * raised before anything is written.
 */
export function sha256Many(data: Uint8Array, ranges: Uint32Array, out: Uint8Array): void {
  const count = ranges.length / 2;
  if (!Number.isInteger(count)) throw new TypeError('ranges must be start, end pairs');
  if (out.length < count * SHA256_SIZE) throw new RangeError('out is too short for the digests');
  for (let i = 0; i < count; i++) {
    if (ranges[2 * i]! > ranges[2 * i + 1]! || ranges[2 * i + 1]! > data.length) throw new RangeError('every range must lie within data, start <= end');
  }
  const target = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < count; i++) {
    target.write(sha256Latin1(data.subarray(ranges[2 * i], ranges[2 * i + 1])), i * SHA256_SIZE, SHA256_SIZE, 'latin1');
  }
}

/** SHA-256 of `data` in lowercase hex, without making a Buffer for it. */
export function sha256Hex(data: Uint8Array): string {
  return oneShotHash ? oneShotHash('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}

// crypto.hash (Node ≥ 20.12) hashes a short input with less overhead than createHash, and node
// hashes (65 bytes) dominate appending and tree rebuilding. Asked for a latin1 string it allocates
// no ArrayBuffer per digest, and Buffer.from(…, 'latin1') takes the 32 bytes from Node's shared pool.
const oneShotHash = (nodeCrypto as Partial<Pick<typeof nodeCrypto, 'hash'>>).hash;

export function randomBytes(size: number): Buffer {
  return nodeRandomBytes(size);
}

/** Byte-wise equality in constant time for equal lengths; different lengths are simply unequal. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface Ed25519Key {
  /** The 32-byte RFC 8032 public key. */
  readonly publicKey: Buffer;
  sign(message: Uint8Array): Buffer;
}

/** The Ed25519 key whose RFC 8032 private key is the 32-byte `seed`. */
export function ed25519FromSeed(seed: Uint8Array): Ed25519Key {
  if (seed.length !== ED25519_SEED_SIZE) throw new RangeError('Ed25519 seed must be 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return {
    publicKey: Buffer.from(spki.subarray(SPKI_ED25519_PREFIX.length)),
    sign: (message) => sign(null, message, privateKey),
  };
}

/**
 * Whether `signature` is a valid Ed25519 signature of `message` by the raw 32-byte `publicKey`.
 * Attacker-controlled inputs: malformed keys or signatures verify as false, never throw.
 */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return ed25519Verifier(publicKey)(message, signature);
}

/**
 * `ed25519Verify` for one public key, its KeyObject made once: making it costs as much as a
 * verification, and a bundle's verifier checks thousands of checkpoints with the same key.
 */
export function ed25519Verifier(publicKey: Uint8Array): (message: Uint8Array, signature: Uint8Array) => boolean {
  let key: KeyObject | undefined;
  if (publicKey.length === ED25519_PUBLIC_KEY_SIZE) {
    try {
      key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
    } catch {
      key = undefined;
    }
  }
  return (message, signature) => {
    if (!key || signature.length !== ED25519_SIGNATURE_SIZE) return false;
    try {
      return verify(null, message, key, signature);
    } catch {
      return false;
    }
  };
}

// DER prefixes of the PKCS #8 and SubjectPublicKeyInfo encodings of an Ed25519 key (RFC 8410 §7).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
