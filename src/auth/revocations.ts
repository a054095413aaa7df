/**
 * Revocations reach every running process at once: a revoked key is announced on the PostgreSQL
 * channel `trailproof_key_revoked` when its revocation commits (migration 0022, whoever revokes),
 * and each process listening evicts it from its key cache, which also ends the viewer tokens the key
 * minted (docs/security.md).
 *
 * A notification sent while a process's listening connection is down is lost. So a process that
 * (re)connects forgets every cached key; and it checks that it still hears the channel by
 * announcing a ping of its own every `pingMs`: a ping it did not hear by the next one means the
 * listener died without reconnecting, and it listens again (and forgets its cache). The cache's own
 * lifetime bounds a revocation missed in between.
 */
import { randomUUID } from 'node:crypto';
import type { Sql } from '../store/db.ts';
import type { KeyCache } from './key-cache.ts';

export const REVOCATION_CHANNEL = 'trailproof_key_revoked';
const PING = 'ping:';

export interface RevocationOptions {
  /** How often the process checks that it still hears the channel; default 5 s. */
  pingMs?: number;
  onError?: (err: unknown) => void;
}

export class RevocationListener {
  readonly #id = randomUUID();
  readonly #pingMs: number;
  readonly #onError: (err: unknown) => void;
  #unlisten: (() => Promise<void>) | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** When the last ping was sent, and whether it came back. */
  #pingSent = false;
  #pingHeard = true;
  #stopped = false;

  constructor(
    private readonly sql: Sql,
    private readonly keys: KeyCache,
    options: RevocationOptions = {},
  ) {
    this.#pingMs = options.pingMs ?? 5000;
    this.#onError = options.onError ?? (() => {});
  }

  /** Listens; resolves once the first LISTEN is in place. */
  async start(): Promise<void> {
    await this.#listen();
    this.#timer = setInterval(() => void this.#ping().catch(this.#onError), this.#pingMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#unlisten?.().catch(() => {});
  }

  async #listen(): Promise<void> {
    let first = true;
    const { unlisten } = await this.sql.listen(
      REVOCATION_CHANNEL,
      (payload) => this.#heard(payload),
      () => {
        // A reconnect: what was announced meanwhile went unheard.
        if (!first) this.keys.clear();
        first = false;
      },
    );
    this.#unlisten = unlisten;
  }

  #heard(payload: string): void {
    if (payload.startsWith(PING)) {
      if (payload === PING + this.#id) this.#pingHeard = true;
      return;
    }
    this.keys.evictKey(payload);
  }

  async #ping(): Promise<void> {
    if (this.#stopped) return;
    if (this.#pingSent && !this.#pingHeard) {
      // The listener is gone without a reconnect (the database was away longer than it retried).
      this.keys.clear();
      await this.#unlisten?.().catch(() => {});
      await this.#listen();
    }
    this.#pingSent = true;
    this.#pingHeard = false;
    await this.sql`select pg_notify(${REVOCATION_CHANNEL}, ${PING + this.#id})`;
  }
}
