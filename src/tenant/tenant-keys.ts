/**
 * Each tenant's own secret key, from which the keyed hashes of redaction (a redacted value's
 * stand-in) and erasure (the subject an erasure record names) are derived. Random, made on first
 * use, stored only sealed by the server's secret key (src/stream/secret-box.ts): reading the
 * database gives no way to test a guessed value against a keyed hash.
 */
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Sql } from '../store/db.ts';
import type { SecretBox } from '../stream/secret-box.ts';

/** What a derived key is for; each purpose gets an independent key. */
export type KeyPurpose = 'redaction' | 'erasure' | 'archive';

/** A keyed hash of text: HMAC-SHA256 under the tenant's key for one purpose, in lower-case hex. */
export type KeyedHash = (text: string) => string;

export class TenantKeys {
  readonly #keys = new Map<string, Buffer>();
  readonly #hashers = new Map<string, KeyedHash>();

  constructor(
    private readonly sql: Sql,
    private readonly secrets: SecretBox,
  ) {}

  /** The tenant's keyed hash for `purpose`; creates the tenant's key on first use. */
  async hasher(tenant: string, purpose: KeyPurpose): Promise<KeyedHash> {
    const id = `${purpose}:${tenant}`;
    const known = this.#hashers.get(id);
    if (known) return known;
    const root = await this.rootKey(tenant);
    const key = Buffer.from(hkdfSync('sha256', root, 'trailproof', `trailproof tenant ${purpose} v1`, 32));
    const hash: KeyedHash = (text) => createHmac('sha256', key).update(text, 'utf8').digest('hex');
    this.#hashers.set(id, hash);
    return hash;
  }

  private async rootKey(tenant: string): Promise<Buffer> {
    const cached = this.#keys.get(tenant);
    if (cached) return cached;
    const fresh = this.secrets.seal(randomBytes(32).toString('hex'), associatedData(tenant));
    // Two processes may race to create it: the first insert wins and both read that one.
    await this.sql`insert into tenant_keys (tenant_id, sealed) values (${tenant}, ${fresh}) on conflict (tenant_id) do nothing`;
    const [row] = await this.sql<{ sealed: Buffer }[]>`select sealed from tenant_keys where tenant_id = ${tenant}`;
    const key = Buffer.from(this.secrets.open(row!.sealed, associatedData(tenant)), 'hex');
    this.#keys.set(tenant, key);
    return key;
  }
}

/** Binds a sealed key to its tenant: a ciphertext copied onto another tenant's row does not open. */
function associatedData(tenant: string): string {
  return `tenant-key:${tenant}`;
}
