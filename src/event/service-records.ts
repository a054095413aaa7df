/**
 * Service records: the events Trailproof records about its own operation (reads, exports, key,
 * tenant and stream changes, later retention and erasure), docs/events.md#service-records. Their
 * action namespaces, client id prefixes and trail are reserved: no client can write them through
 * `POST /v1/events`. The service marks each one it records with `source: "trailproof"` in the body
 * the ledger commits to, a field no client can send.
 */

/** The value of `source` in the body of every service record. */
export const SERVICE_SOURCE = 'trailproof';

/**
 * Action namespaces (first segment) that only the service records under. A new kind of service
 * record takes its namespace from this list, or adds one here (and to docs/events.md).
 */
export const SERVICE_NAMESPACES: readonly string[] = Object.freeze([
  // Reads and exports of the trail (src/audit/, src/query/, src/export/).
  'audit_log',
  // Key changes (src/auth/routes.ts).
  'api_key',
  // Tenant changes (src/tenant/routes.ts).
  'tenant',
  // Stream destinations: created, updated, paused, resumed, replayed, deleted (src/stream/).
  'stream',
  // The embeddable viewer: tokens minted, sessions started (src/auth/viewer-routes.ts).
  'viewer',
  'viewer_token',
  // The data lifecycle: purges, holds, erasures, reversals.
  'retention',
  'legal_hold',
  'erasure',
  'reversal',
  // Row changes captured in applications' databases and relayed by the service (src/capture/).
  'db',
  // Saved searches, alert rules and their firings (src/query/saved-searches.ts, src/alert/).
  'saved_search',
  'alert_rule',
  'alert',
  // Anything else the service comes to record about itself.
  'trailproof',
]);

/**
 * SQL LIKE patterns of the reserved namespaces (`e.action like any(...)`, which the action index
 * serves): since the reservation, an event matches exactly when it is a service record. Events
 * stored before it may match without being one; their body has no `source`.
 */
export const SERVICE_ACTION_PATTERNS: readonly string[] = Object.freeze(SERVICE_NAMESPACES.map((ns) => `${ns.replace(/[\\%_]/g, '\\$&')}.%`));

/**
 * Client id prefixes the service records under: read-records.ts moves reads as `read-record:<n>`, the
 * capture relay moves row changes as `capture:<installation>:<outbox id>` (src/capture/change-event.ts),
 * alert rules record firings as `alert-firing:…` (src/alert/).
 */
export const SERVICE_ID_PREFIXES: readonly string[] = Object.freeze(['read-record:', 'capture:', 'alert-firing:']);

/** The operator trail: tenant and key changes made with keys bound to no tenant. */
export const SYSTEM_TENANT = '_system';

const namespaces: ReadonlySet<string> = new Set(SERVICE_NAMESPACES);

/** Whether `action` lies in a namespace reserved for service records. */
export function isServiceAction(action: string): boolean {
  const dot = action.indexOf('.');
  return namespaces.has(dot < 0 ? action : action.slice(0, dot));
}

/** Whether a client id starts with a prefix reserved for service records. */
export function isServiceClientId(id: string): boolean {
  return SERVICE_ID_PREFIXES.some((prefix) => id.startsWith(prefix));
}
