/**
 * Caches verified keys for a few seconds so a busy ingest path does not hit the database on every
 * request. A revocation through this process evicts at once; through another process it takes
 * effect within `ttlMs` (documented in docs/security.md).
 */
import { createHash } from 'node:crypto';
import type { Sql } from '../store/db.ts';
import { verifyApiKey, type Principal } from './api-keys.ts';

export class KeyCache {
  private readonly entries = new Map<string, { principal: Principal | undefined; expires: number }>();

  constructor(
    private readonly sql: Sql,
    private readonly ttlMs = 5000,
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

  evictKey(keyId: string): void {
    for (const [k, v] of this.entries) if (v.principal?.keyId === keyId) this.entries.delete(k);
  }
}
