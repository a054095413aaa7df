/**
 * Encryption of destination secrets (webhook signing keys, HEC tokens, API keys, S3 secret keys)
 * at rest: AES-256-GCM, stored as `nonce(12) || ciphertext || tag(16)`, with the destination id as
 * associated data so a ciphertext copied onto another destination's row does not decrypt. The key
 * is never in the database: whoever can read the database must not learn where to send a trail or
 * how to sign for it. It comes from TRAILPROOF_SECRET_KEY or `<dataDir>/secret.key` (created 0600
 * on first use), through HKDF-SHA256 so any secret text of 32+ characters gives a 256-bit key.
 * Losing that key means re-entering every destination's secret (PATCH /v1/streams/{id}).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import path from 'node:path';
import { readOrCreateSecret } from '../auth/viewer-tokens.ts';
import type { Config } from '../config.ts';
import { TrailproofError } from '../errors.ts';

export const SECRET_KEY_FILE = 'secret.key';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBox {
  #key: Buffer | undefined;

  constructor(private readonly config: Pick<Config, 'secretKey' | 'dataDir'>) {}

  seal(plaintext: string, destinationId: string): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key(), nonce);
    cipher.setAAD(Buffer.from(destinationId));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]);
  }

  open(sealed: Uint8Array, destinationId: string): string {
    const data = Buffer.from(sealed);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key(), data.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(destinationId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      return Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new TrailproofError(
        'STREAM_SECRET_UNREADABLE',
        "the destination secret does not decrypt with this server's secret key (TRAILPROOF_SECRET_KEY or secret.key changed?): set it again",
        { cause: err },
      );
    }
  }

  private key(): Buffer {
    if (this.#key) return this.#key;
    const text = this.config.secretKey?.reveal() ?? readOrCreateSecret(path.join(this.config.dataDir, SECRET_KEY_FILE));
    this.#key = Buffer.from(hkdfSync('sha256', text, 'trailproof', 'trailproof stream secrets v1', 32));
    return this.#key;
  }
}
