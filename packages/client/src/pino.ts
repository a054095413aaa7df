/**
 * A log tee for pino: the logger's destination stream, passing every line on to the ordinary
 * destination untouched and recording the lines of the audit level (or carrying `audit: true`)
 * as events through the client, with its queue, retries and ids.
 *
 *   const logger = pino({ customLevels: { audit: 35 } }, auditTee(audit, { to: pino.destination(1) }));
 *   logger.audit({ action: 'invoice.paid', targets: [{ type: 'invoice', id }] }, 'paid');
 *   logger.flush(cb)  // cb runs once those audit records are stored
 *
 * pino writes to its stream synchronously, so the request context of middleware.ts is the
 * caller's. The mapping from a log line to an event is in docs/sdk.md#pino.
 */
import type { TrailproofClient } from './client.ts';
import { ClientError } from './errors.ts';
import type { RecordInput } from './types.ts';

export interface AuditTeeOptions {
  /** Where every line also goes (the ordinary log). Default: nowhere. */
  to?: { write(line: string): unknown; flush?(cb: (err?: Error) => void): void };
  /** Numeric level recorded as audit. Default `DEFAULT_AUDIT_LEVEL` (pino's level between info and warn). */
  level?: number;
}

export const DEFAULT_AUDIT_LEVEL = 35;

/** Event fields taken from a log line as they are; every other field but pino's own goes to `metadata`. */
const EVENT_FIELDS = ['id', 'tenant', 'action', 'actor', 'targets', 'outcome', 'reason', 'context', 'changes'] as const;
/** Fields pino adds (and `audit`, the marker), never recorded. */
const PINO_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'audit', 'v']);

/** The event a log record stands for (docs/sdk.md#pino). */
export function logRecordToEvent(record: Record<string, unknown>): RecordInput {
  const event: Record<string, unknown> = {};
  const metadata: Record<string, unknown> = { ...(record.metadata as Record<string, unknown> | undefined) };
  for (const [key, value] of Object.entries(record)) {
    if ((EVENT_FIELDS as readonly string[]).includes(key)) event[key] = value;
    else if (key !== 'metadata' && !PINO_FIELDS.has(key)) metadata[key] = value;
  }
  if (typeof record.msg === 'string' && record.msg !== '') metadata.message = record.msg;
  if (typeof record.time === 'number') event.occurred_at = new Date(record.time).toISOString();
  else if (typeof record.time === 'string') event.occurred_at = record.time;
  if (Object.keys(metadata).length > 0) event.metadata = metadata;
  return event as unknown as RecordInput;
}

export function auditTee(client: TrailproofClient, options: AuditTeeOptions = {}) {
  const level = options.level ?? DEFAULT_AUDIT_LEVEL;
  return {
    write(line: string): boolean {
      options.to?.write(line);
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return true; // not a pino JSON line: nothing to audit
      }
      if (record.level === level || record.audit === true) client.record(logRecordToEvent(record));
      return true;
    },
    /** Called by `logger.flush(cb)`: resolves once every audit record written so far is stored. */
    flush(cb: (err?: Error) => void): void {
      client.flush().then(
        () => (options.to?.flush ? options.to.flush(cb) : cb()),
        (err: unknown) => cb(err instanceof Error ? err : new ClientError('SEND_FAILED', String(err))),
      );
    },
  };
}
