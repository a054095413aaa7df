/**
 * Reading one event by uid, with its record (`audit_log.viewed`) committed before the answer
 * (docs/api.md#reads-are-audited). GET /v1/events/{uid} and its proof read this way.
 *
 * The record does not wait for the read. With a principal bound to a tenant (most keys, every
 * viewer token) it is committed while the lookup runs, on a condition its insert checks: the
 * tenant's ledger holds the event. A missing event, another tenant's or a malformed uid so records
 * nothing. A key bound to no tenant learns the tenant from the lookup, and its record follows it.
 * The record commits to `read_records` and joins the ledger a moment later (read-records.ts).
 */
import type { Principal } from '../auth/api-keys.ts';
import { TrailproofError } from '../errors.ts';
import type { AccessRecord } from './meta-audit.ts';
import type { ReadRecords } from './read-records.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RecordedRead<T> {
  /** The event, of a tenant the principal may read. */
  found: T;
  /** Settles when the record committed; the caller awaits it before answering. */
  recorded: Promise<unknown>;
}

/**
 * Looks up the event `uid` with `lookup` and records its read by `principal`. Throws NOT_FOUND for
 * a uid that is not one, a missing event and another tenant's, alike (no existence oracle).
 */
export async function readRecorded<T extends { tenant: string }>(
  records: ReadRecords,
  principal: Principal,
  uid: string,
  lookup: (uid: string) => Promise<T | undefined>,
  record: Pick<AccessRecord, 'metadata' | 'context'>,
): Promise<RecordedRead<T>> {
  const notFound = () => new TrailproofError('NOT_FOUND', `no event ${uid}`);
  if (!UUID.test(uid)) throw notFound();
  const id = uid.toLowerCase();
  const entry = (tenant: string): AccessRecord => ({ tenant, principal, action: 'audit_log.viewed', targets: [{ type: 'audit_event', id }], ...record });
  const early = principal.tenant === null ? undefined : records.add(entry(principal.tenant), id);
  // Settled below on every path; this only keeps a rejection from counting as unhandled meanwhile.
  early?.catch(() => {});
  let found: T | undefined;
  try {
    found = await lookup(id);
  } catch (err) {
    await early?.catch(() => {});
    throw err;
  }
  if (!found || (principal.tenant !== null && principal.tenant !== found.tenant)) {
    await early?.catch(() => {});
    throw notFound();
  }
  const tenant = found.tenant;
  // A conditional record the lookup contradicts (not expected: an event is committed before anyone
  // learns its uid, so both see it) is stored unconditionally: no answered read goes unrecorded.
  const recorded = early ? early.then((stored) => stored || records.add(entry(tenant))) : records.add(entry(tenant));
  return { found, recorded };
}
