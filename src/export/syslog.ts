/**
 * RFC 5424 syslog messages with structured data, each framed by octet counting (RFC 6587 §3.4.1,
 * as RFC 5425 requires over TLS): `<length> <message>`. So an export file is a valid syslog
 * stream that can be replayed to any TCP receiver, and values may hold line breaks.
 *
 * Facility 13 ("log audit"); severity 6 (informational) for successes, 4 (warning) for failures.
 * Every field is an SD-PARAM of `trailproof@32473` (32473 is the IANA example enterprise number,
 * RFC 5612; set your own in a fork), PARAM-VALUE escaping `"`, `\` and `]` (RFC 5424 §6.3.3).
 */
import os from 'node:os';
import type { StoredEvent } from '../event/types.ts';
import type { EventFormat } from './format.ts';
import { eventSummary } from './summary.ts';

export const SD_ID = 'trailproof@32473';
const FACILITY_LOG_AUDIT = 13;

export const syslog: EventFormat = {
  name: 'syslog',
  mediaType: 'application/octet-stream',
  extension: 'syslog',
  record: (e) => octetCounted(syslogMessage(e)),
};

export function octetCounted(message: string): string {
  return `${Buffer.byteLength(message)} ${message}`;
}

export function syslogMessage(e: StoredEvent, hostname = defaultHostname()): string {
  const pri = FACILITY_LOG_AUDIT * 8 + (e.outcome === 'failure' ? 4 : 6);
  const params: [string, string | number | undefined][] = [
    ['uid', e.uid],
    ['tenant', e.tenant],
    ['seq', e.seq],
    ['action', e.action],
    ['outcome', e.outcome],
    ['actor_type', e.actor.type],
    ['actor_id', e.actor.id],
    ['actor_name', e.actor.name],
    ['targets', e.targets.length ? JSON.stringify(e.targets) : undefined],
    ['ip', e.context.ip],
    ['user_agent', e.context.user_agent],
    ['location', e.context.location],
    ['request_id', e.context.request_id],
    ['reason', e.reason],
    ['changes', e.changes?.length ? JSON.stringify(e.changes) : undefined],
    ['metadata', e.metadata && Object.keys(e.metadata).length ? JSON.stringify(e.metadata) : undefined],
    ['received_at', e.received_at],
    ['id', e.id],
    ['source', e.source],
  ];
  const sd = params
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => ` ${k}="${sdValue(String(v))}"`)
    .join('');
  // MSGID is at most 32 printable US-ASCII characters; actions are ASCII by the event model.
  return `<${pri}>1 ${e.occurred_at} ${hostname} trailproof - ${e.action.slice(0, 32)} [${SD_ID}${sd}] ${eventSummary(e)}`;
}

export function sdValue(value: string): string {
  return value.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

let hostnameCache: string | undefined;
/** The HOSTNAME field: this machine's name, reduced to printable US-ASCII (RFC 5424 §6.2.4). */
function defaultHostname(): string {
  hostnameCache ??=
    os
      .hostname()
      .replace(/[^\x21-\x7e]/g, '')
      .slice(0, 255) || '-';
  return hostnameCache;
}
