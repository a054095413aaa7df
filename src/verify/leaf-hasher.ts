/**
 * The per-leaf hashing of verification, with one reusable buffer for what gets hashed. A leaf is
 * held as its **key**: the UTF-8 envelope (docs/ledger.md) with the index left out, so the leaf hash
 * at any index can be computed (the verifier tests hypotheses at other indices). From the writer's
 * lines the key is assembled from the line's bytes, never decoding them. Results equal `commitment`
 * and `eventLeafHash` of src/ledger/envelope.ts (the tests hold them equal).
 */
import { sha256, sha256Hex, SHA256_SIZE } from '../ledger/crypto.ts';
import { ENVELOPE_VERSION, SALT_SIZE } from '../ledger/envelope.ts';
import { HEX_VALUE, UID_LENGTH, type LeafOffsets } from './leaf-line.ts';

// JCS sorts the envelope's keys: commitment, index, received_at, tenant, uid, v.
const K_COMMITMENT = Buffer.from('{"commitment":"');
const K_INDEX_RECEIVED = Buffer.from('","index":,"received_at":"');
const K_INDEX = '","index":'.length;
const K_END = Buffer.from(`","v":${ENVELOPE_VERSION}}`);
/** Where the index goes in a key: after `{"commitment":"<64 hex>","index":`. */
const INDEX_AT = K_COMMITMENT.length + 64 + K_INDEX;
const UID_KEY = Buffer.from('"uid":"');

export class LeafHasher {
  #buffer = Buffer.allocUnsafe(64 * 1024);
  /** JSON text of the tenant id, as the envelope spells it. */
  readonly #tenantJson: string;
  /** `","tenant":<tenant>,"uid":"`: the constant bytes between received_at and uid. */
  readonly #tenantToUid: Buffer;

  constructor(tenant: string) {
    this.#tenantJson = JSON.stringify(tenant);
    this.#tenantToUid = Buffer.from(`","tenant":${this.#tenantJson},"uid":"`);
  }

  /** The key of a leaf from its fields; uid and received_at any well-formed strings, the commitment 64 lowercase hex digits. */
  keyFromFields(uid: string, receivedAt: string, commitmentHex: string): Buffer {
    return Buffer.from(
      `{"commitment":"${commitmentHex}","index":,"received_at":${JSON.stringify(receivedAt)},"tenant":${this.#tenantJson},"uid":${JSON.stringify(uid)},"v":${ENVELOPE_VERSION}}`,
    );
  }

  /** The key of a leaf line parsed by parseLeafLine: its fields need no JSON escaping. */
  keyFromLine(line: Buffer, f: LeafOffsets): Buffer {
    const key = Buffer.allocUnsafe(this.keyLength(f));
    this.#writeEnvelope(line, f, key, 0, false);
    return key;
  }

  /** The length of keyFromLine's key. */
  keyLength(f: LeafOffsets): number {
    return K_COMMITMENT.length + 64 + K_INDEX_RECEIVED.length + (f.receivedEnd - f.receivedStart) + this.#tenantToUid.length + UID_LENGTH + K_END.length;
  }

  /**
   * Writes the line's envelope JSON into `target` at `at`: the key, or with `withIndex` the key with
   * the line's own index digits at INDEX_AT (parseLeafLine took them only in canonical form,
   * String(f.index)). Returns the position after it.
   */
  #writeEnvelope(line: Buffer, f: LeafOffsets, target: Uint8Array, at: number, withIndex: boolean): number {
    // Byte loops for the short pieces: for a few dozen bytes a loop costs less than a call to
    // Buffer#copy.
    at = put(target, at, K_COMMITMENT, 0, K_COMMITMENT.length);
    at += line.copy(target, at, f.commitmentStart, f.commitmentStart + 64);
    at = put(target, at, K_INDEX_RECEIVED, 0, K_INDEX);
    if (withIndex) at = put(target, at, line, f.indexStart, f.indexEnd);
    at = put(target, at, K_INDEX_RECEIVED, K_INDEX, K_INDEX_RECEIVED.length);
    at = put(target, at, line, f.receivedStart, f.receivedEnd);
    at = put(target, at, this.#tenantToUid, 0, this.#tenantToUid.length);
    at = put(target, at, line, f.uidStart, f.uidStart + UID_LENGTH);
    return put(target, at, K_END, 0, K_END.length);
  }

  /** SHA-256(0x00 || envelope): the key with the index put in. */
  leafHash(index: number, key: Buffer): Buffer {
    return sha256(this.#envelope(index, key));
  }

  /**
   * For a leaf line parsed by parseLeafLine: its leaf hash at its own index (32 bytes) and then its
   * key, written into `target` at `at` (leafSlotLength bytes are needed there) in two steps, so that
   * a batch of leaves is hashed in one call between them (leaf-precompute.ts). leafMessage writes
   * 0x00 || envelope, the leaf hash's input, and returns its byte range; once it is hashed,
   * leafFromMessage puts the hash at `at` and takes the index digits out of the envelope, leaving
   * the key, and returns where the key ends. The same bytes as leafHash and keyFromLine give.
   */
  leafMessage(line: Buffer, f: LeafOffsets, target: Buffer, at: number): [start: number, end: number] {
    const start = at + SHA256_SIZE - 1;
    target[start] = 0x00;
    return [start, this.#writeEnvelope(line, f, target, start + 1, true)];
  }

  /** See leafMessage; `end` is the end it returned, `hash` holds the 32-byte digest at `hashAt`. */
  leafFromMessage(f: LeafOffsets, target: Buffer, at: number, end: number, hash: Uint8Array, hashAt: number): number {
    const digits = at + SHA256_SIZE + INDEX_AT;
    const digitCount = f.indexEnd - f.indexStart;
    target.copyWithin(digits, digits + digitCount, end);
    put(target, at, hash, hashAt, hashAt + SHA256_SIZE);
    return end - digitCount;
  }

  /** The room leafMessage needs: the hash, the key and the index digits. */
  leafSlotLength(f: LeafOffsets): number {
    return SHA256_SIZE + this.keyLength(f) + (f.indexEnd - f.indexStart);
  }

  /** 0x00 || envelope, in the reused buffer. */
  #envelope(index: number, key: Buffer): Buffer {
    const digits = String(index);
    this.#reserve(1 + key.length + digits.length);
    const buffer = this.#buffer;
    buffer[0] = 0x00;
    let at = 1 + key.copy(buffer, 1, 0, INDEX_AT);
    for (let i = 0; i < digits.length; i++) buffer[at++] = digits.charCodeAt(i);
    at += key.copy(buffer, at, INDEX_AT);
    return buffer.subarray(0, at);
  }

  /** SHA-256(salt || JCS bytes), salt given as 64 lowercase hex digits, the JCS as text. */
  commitment(saltHex: string, jcs: string): Buffer {
    this.#reserve(SALT_SIZE + jcs.length * 3);
    this.#buffer.write(saltHex, 0, SALT_SIZE, 'hex');
    const length = SALT_SIZE + this.#buffer.write(jcs, SALT_SIZE, 'utf8');
    return sha256(this.#buffer.subarray(0, length));
  }

  /** Whether the line's salt and event bytes hash to the line's commitment. */
  commitmentMatches(line: Buffer, f: LeafOffsets): boolean {
    this.#reserve(this.committedLength(f));
    const end = this.writeCommitted(line, f, this.#buffer, 0);
    // Lowercase hex on both sides (parseLeafLine checked the line's): one native string comparison.
    return sha256Hex(this.#buffer.subarray(0, end)) === line.toString('latin1', f.commitmentStart, f.commitmentStart + 2 * SHA256_SIZE);
  }

  /** The length of what the commitment hashes: the salt's bytes and the event's. */
  committedLength(f: LeafOffsets): number {
    return SALT_SIZE + f.eventEnd - f.eventStart;
  }

  /** Writes what the line's commitment hashes (salt || event bytes) into `target` at `at`; returns its end. */
  writeCommitted(line: Buffer, f: LeafOffsets, target: Buffer, at: number): number {
    for (let i = 0, p = f.saltStart; i < SALT_SIZE; i++, p += 2) target[at + i] = HEX_VALUE[line[p]!]! * 16 + HEX_VALUE[line[p + 1]!]!;
    return at + SALT_SIZE + line.copy(target, at + SALT_SIZE, f.eventStart, f.eventEnd);
  }

  /** Whether digest[at, at + 32) is the line's commitment (64 lowercase hex digits, parseLeafLine checked). */
  isCommitment(line: Buffer, f: LeafOffsets, digest: Uint8Array, at: number): boolean {
    for (let i = 0, p = f.commitmentStart; i < SHA256_SIZE; i++, p += 2) {
      if (HEX_VALUE[line[p]!]! * 16 + HEX_VALUE[line[p + 1]!]! !== digest[at + i]) return false;
    }
    return true;
  }

  #reserve(bytes: number): void {
    if (bytes > this.#buffer.length) this.#buffer = Buffer.allocUnsafe(Math.max(bytes, 2 * this.#buffer.length));
  }
}

/** Copies source[from, to) to target at `at`; returns the position after it. */
function put(target: Uint8Array, at: number, source: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) target[at++] = source[i]!;
  return at;
}

/** The uid's JSON string content within a key (for comparing the order of uids). */
export function uidOf(key: Buffer): Buffer {
  const end = key.length - K_END.length;
  // A uid of the writer's 36 characters is where the key's own `"uid":"` ends; no search needed.
  // (Never a wrong match: JSON string content cannot hold an unescaped `"`, so it cannot hold `"uid":"`.)
  const usual = end - UID_LENGTH;
  let start = usual;
  for (let i = 0; i < UID_KEY.length; i++) {
    if (key[usual - UID_KEY.length + i] !== UID_KEY[i]) {
      start = key.lastIndexOf(UID_KEY) + UID_KEY.length;
      break;
    }
  }
  return key.subarray(start, end);
}

/** Buffer#compare's answer for two uids (short, and usually unequal within the first dozen bytes: a byte loop beats the native call). */
export function compareUids(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
