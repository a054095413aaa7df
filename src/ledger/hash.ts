/**
 * RFC 6962 §2.1 (= RFC 9162 §2.1.1) Merkle tree hashing with SHA-256, domain-separated so that a
 * leaf can never be read as an interior node.
 */
import { sha256, SHA256_SIZE } from './crypto.ts';

/** Size in bytes of every leaf, node and root hash. */
export const HASH_SIZE = SHA256_SIZE;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** MTH({d}) = SHA-256(0x00 || d). */
export function leafHash(data: Uint8Array): Buffer {
  return sha256(LEAF_PREFIX, data);
}

/** SHA-256(0x01 || left || right): the hash of an interior node. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) return sha256(NODE_PREFIX, left, right);
  // One reused input buffer: trees hash millions of nodes, and a concat per node costs an allocation each.
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 1 + HASH_SIZE);
  return sha256(NODE_INPUT);
}

const NODE_INPUT = Buffer.concat([NODE_PREFIX, Buffer.alloc(2 * HASH_SIZE)]);

/** MTH({}) = SHA-256(""): the root of the empty tree. */
export function emptyRoot(): Buffer {
  return sha256();
}

/** Whether `value` is a byte string of hash size (attacker-supplied hashes are checked before use). */
export function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}
