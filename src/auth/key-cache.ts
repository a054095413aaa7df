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
  private readonly entries = new Map<string, Entry<Principal | undefined>>();
  /** By key id: whether the key exists and is not revoked. */
  private readonly live = new Map<string, Entry<boolean>>();
  /** Moves on with every eviction, so a lookup that began before one is not cached after it. */
  private generation = 0;

  constructor(
    private readonly sql: Sql,
    private readonly ttlMs = DEFAULT_KEY_CACHE_TTL_MS,
    private readonly maxEntries = 10_000,
  ) {}

  async verify(presented: string): Promise<Principal | undefined> {
    const cacheKey = createHash('sha256').update(presented).digest('base64');
    return this.cached(this.entries, cacheKey, () => verifyApiKey(this.sql, presented));
  }

  /** Whether the key `keyId` exists and is not revoked. */
  isLive(keyId: string): Promise<boolean> {
    return this.cached(this.live, keyId, () => isKeyLive(this.sql, keyId));
  }

  /** Forgets what is cached of the key `keyId` (it was revoked). */
  evictKey(keyId: string): void {
    this.generation++;
    this.live.delete(keyId);
    for (const [k, v] of this.entries) if (v.value?.keyId === keyId) this.entries.delete(k);
  }

  /** Forgets everything (revocations may have been missed). */
  clear(): void {
    this.generation++;
    this.entries.clear();
    this.live.clear();
  }

  /** The value under `key` while fresh, else `load`ed and kept for `ttlMs`. */
  private async cached<T>(map: Map<string, Entry<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = map.get(key);
    if (hit && hit.expires > now) return hit.value;
    const generation = this.generation;
    const value = await load();
    if (generation !== this.generation) return value;
    if (map.size >= this.maxEntries) map.clear();
    map.set(key, { value, expires: now + this.ttlMs });
    return value;
  }
}

interface Entry<T> {
  value: T;
  expires: number;
}
