/**
 * Caches verified keys for a few seconds so a busy ingest path does not hit the database on every
 * request: the principal of each presented key, and whether a key id is live (for the viewer tokens
 * it minted). A revocation evicts at once in every process that hears of it (revocations.ts); an
 * entry is checked against the database again at the latest `ttlMs` after it was cached, which
 * bounds a revocation nobody heard of (docs/security.md).
 */
import { createHash } from 'node:crypto';
import type { Sql } from '../store/db.ts';
import { isKeyLive, verifyApiKey, type Principal } from './api-keys.ts';

/** How long a verified key is believed without asking the database again. */
export const DEFAULT_KEY_CACHE_TTL_MS = 5000;

export class KeyCache {
  /** By the hash of the presented key. */
  private readonly entries = new Map<string, { principal: Principal | undefined; expires: number }>();
  /** By key id: whether the key exists and is not revoked. */
  private readonly live = new Map<string, { live: boolean; expires: number }>();

  constructor(
    private readonly sql: Sql,
    private readonly ttlMs = DEFAULT_KEY_CACHE_TTL_MS,
    private readonly maxEntries = 10_000,
  ) {}

  async verify(presented: string): Promise<Principal | undefined> {
    const cacheKey = createHash('sha256').update(presented).digest('base64');
    const now = Date.now();
    const hit = this.entries.get(cacheKey);
    if (hit && hit.expires > now) return hit.principal;
    const principal = await verifyApiKey(this.sql, presented);
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(cacheKey, { principal, expires: now + this.ttlMs });
    return principal;
  }

  /** Whether the key `keyId` exists and is not revoked. */
  async isLive(keyId: string): Promise<boolean> {
    const now = Date.now();
    const hit = this.live.get(keyId);
    if (hit && hit.expires > now) return hit.live;
    const live = await isKeyLive(this.sql, keyId);
    if (this.live.size >= this.maxEntries) this.live.clear();
    this.live.set(keyId, { live, expires: now + this.ttlMs });
    return live;
  }

  /** Forgets what is cached of the key `keyId` (it was revoked). */
  evictKey(keyId: string): void {
    this.live.delete(keyId);
    for (const [k, v] of this.entries) if (v.principal?.keyId === keyId) this.entries.delete(k);
  }

  /** Forgets everything (revocations may have been missed). */
  clear(): void {
    this.entries.clear();
    this.live.clear();
  }
}
