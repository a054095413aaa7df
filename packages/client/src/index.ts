export { TrailproofClient, type ClientOptions, DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, DEFAULT_FLUSH_INTERVAL_MS, DEFAULT_MAX_QUEUE } from './client.ts';
export { ClientError, type ClientErrorCode, type Rejection } from './errors.ts';
export { type AuditContext, currentContext, runWithContext, withContext } from './context.ts';
export { Transport, type TransportOptions, type SendResult, DEFAULT_REQUEST_TIMEOUT_MS } from './transport.ts';
export { backoffDelay, type BackoffOptions, DEFAULT_BACKOFF_INITIAL_MS, DEFAULT_BACKOFF_MAX_MS } from './backoff.ts';
export type { ActorType, EventActor, EventChange, EventContext, EventInput, EventTarget, RecordInput } from './types.ts';
export { EventReader, type EventFilters, type EventPage, type EventProof, type ReadOptions, type StoredEvent } from './reads.ts';
export { verifyProof, type EventProofResult } from './verify.ts';
