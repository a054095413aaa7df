/**
 * The event model (v1), shared by every domain. See docs/events.md for the rules and limits.
 *
 * `EventBody` is what a client sends once validated and normalized; it is exactly the value whose
 * RFC 8785 canonical form the ledger commits to (salted), so its shape is part of the ledger format.
 * `StoredEvent` is what the read API returns: the body plus the fields the server assigns.
 */

export type ActorType = 'user' | 'service' | 'system' | 'api_key' | 'anonymous';
export type Outcome = 'success' | 'failure';

export interface Actor {
  type: ActorType;
  id: string;
  name?: string;
  metadata?: Record<string, unknown>;
}

export interface Target {
  type: string;
  id: string;
  name?: string;
  metadata?: Record<string, unknown>;
}

export interface EventContext {
  ip?: string;
  user_agent?: string;
  location?: string;
  request_id?: string;
  session_id?: string;
}

export interface Change {
  field: string;
  before?: unknown;
  after?: unknown;
}

/** A validated, normalized client event: the value the ledger commits to. */
export interface EventBody {
  /** Client id: the idempotency key within the tenant. */
  id?: string;
  action: string;
  /** RFC 3339, UTC, millisecond precision (`2026-11-22T21:55:12.123Z`). */
  occurred_at: string;
  actor: Actor;
  targets: Target[];
  outcome: Outcome;
  reason?: string;
  context: EventContext;
  changes?: Change[];
  metadata?: Record<string, unknown>;
  /**
   * `"trailproof"` on the service's own records (src/event/service-records.ts), which no client can
   * send; absent on every other event.
   */
  source?: 'trailproof';
}

/** An event as the read API returns it. */
export interface StoredEvent extends EventBody {
  /** Global id (UUIDv7). */
  uid: string;
  tenant: string;
  /** 0-based index of the event in its tenant's Merkle tree. */
  seq: number;
  /** RFC 3339 UTC, millisecond precision. */
  received_at: string;
}
