/**
 * The per-leaf hashing of verification, without per-leaf allocations beyond the two digests: one
 * reusable buffer receives `salt || event` and then `0x00 || envelope`, and each is hashed in place.
 * Results equal `commitment` and `eventLeafHash` of src/ledger/envelope.ts (tests hold them equal).
 */
import { sha256 } from '../ledger/crypto.ts';
import { ENVELOPE_VERSION, SALT_SIZE } from '../ledger/envelope.ts';

export class LeafHasher {
  #buffer = Buffer.allocUnsafe(64 * 1024);
  /** JSON text of the tenant id, as the envelope spells it. */
  readonly #tenantJson: string;

  constructor(tenant: string) {
    this.#tenantJson = JSON.stringify(tenant);
  }

  /** SHA-256(salt || JCS bytes), salt given as 64 lowercase hex digits, the JCS as text or as its UTF-8 bytes. */
  commitment(saltHex: string, jcs: string | Buffer): Buffer {
    if (typeof jcs === 'string') {
      this.#reserve(SALT_SIZE + jcs.length * 3);
      this.#buffer.write(saltHex, 0, SALT_SIZE, 'hex');
      const length = SALT_SIZE + this.#buffer.write(jcs, SALT_SIZE, 'utf8');
      return sha256(this.#buffer.subarray(0, length));
    }
    this.#reserve(SALT_SIZE + jcs.length);
    this.#buffer.write(saltHex, 0, SALT_SIZE, 'hex');
    jcs.copy(this.#buffer, SALT_SIZE);
    return sha256(this.#buffer.subarray(0, SALT_SIZE + jcs.length));
  }

  /**
   * SHA-256(0x00 || JCS(envelope)). JCS sorts the envelope's keys (commitment, index, received_at,
   * tenant, uid, v) and spells strings as JSON.stringify does; `uid` and `received_at` must be
   * well-formed strings (the caller checks).
   */
  leafHash(index: number, uid: string, receivedAt: string, commitmentHex: string): Buffer {
    const envelope = `{"commitment":"${commitmentHex}","index":${index},"received_at":${JSON.stringify(receivedAt)},`
      + `"tenant":${this.#tenantJson},"uid":${JSON.stringify(uid)},"v":${ENVELOPE_VERSION}}`;
    this.#reserve(1 + envelope.length * 3);
    this.#buffer[0] = 0x00;
    const length = 1 + this.#buffer.write(envelope, 1, 'utf8');
    return sha256(this.#buffer.subarray(0, length));
  }

  #reserve(bytes: number): void {
    if (bytes > this.#buffer.length) this.#buffer = Buffer.allocUnsafe(bytes);
  }
}
