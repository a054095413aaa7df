/**
 * A bounded, least-recently-used cache of tree hashes, shared by every proof a running service
 * serves (one per service: it is bound to that service's database; 200k hashes, ~40 MB at most).
 * The store keeps only every 8th level (tlog tiles), so a proof recomputes up to ~250 hashes per
 * tile it touches. Proofs cache the tiles above the leaves whole (a tenant of a million leaves has
 * 16 such tiles, and every proof passes through them) and the newest leaves (every proof's right
 * edge), so once warm a proof reads only its own leaf's tile (src/ledger/proofs.ts). A perfect
 * subtree's hash never changes, so entries never go stale (a tampered database is the self-audit's
 * to find, not the proof server's).
 */
import type { NodeCache } from '../ledger/proofs.ts';

export class LruNodeCache {
  readonly #entries = new Map<string, Buffer>();

  constructor(private readonly maxEntries = 200_000) {}

  /** The cache of one tenant's tree. */
  forTenant(tenant: string): NodeCache {
    const prefix = `${tenant}\u0000`;
    return {
      get: (level, index) => this.#get(`${prefix}${level}/${index}`),
      set: (level, index, hash) => this.#set(`${prefix}${level}/${index}`, hash),
    };
  }

  get size(): number {
    return this.#entries.size;
  }

  #get(key: string): Buffer | undefined {
    const hash = this.#entries.get(key);
    if (hash) {
      // Map keeps insertion order: re-inserting makes this the most recently used entry.
      this.#entries.delete(key);
      this.#entries.set(key, hash);
    }
    return hash;
  }

  #set(key: string, hash: Buffer): void {
    this.#entries.delete(key);
    this.#entries.set(key, hash);
    if (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
