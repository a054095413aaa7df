/**
 * ArcSight Common Event Format (CEF) 0, one event per line:
 * `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension`. Escaping per the CEF
 * specification: in header fields `\` and `|`; in extension values `\`, `=`, and line breaks as
 * `\n` / `\r`. The breaks CEF has no escape for (VT, FF, NEL, LS, PS, which some consumers split
 * lines at) are written as `\n`, and folded to a space in header fields like LF and CR. Extension keys are CEF dictionary names; what has no dictionary name travels in the
 * custom string fields with their labels. See docs/exports.md for the mapping.
 */
import type { StoredEvent } from '../event/types.ts';
import type { EventFormat } from './format.ts';
import { ANY_LINE_BREAK } from './line-breaks.ts';
import { epochMillis, eventSummary, PRODUCT } from './summary.ts';

export const cef: EventFormat = {
  name: 'cef',
  mediaType: 'text/plain; charset=utf-8',
  extension: 'cef',
  record: (e) => `${cefRecord(e)}\n`,
};

/** Severity 0–10: failures are worth a look (6), successes are informational (3). */
const severity = (e: StoredEvent) => (e.outcome === 'failure' ? 6 : 3);

export function cefRecord(e: StoredEvent): string {
  const header = ['CEF:0', PRODUCT.vendor, PRODUCT.product, PRODUCT.version, e.action, eventSummary(e), String(severity(e))].map((field, i) =>
    i === 0 ? field : cefHeader(field),
  );
  const extension: [string, string | number | undefined][] = [
    ['rt', epochMillis(e.occurred_at)],
    ['externalId', e.uid],
    ['act', e.action],
    ['outcome', e.outcome],
    ['suid', e.actor.id],
    ['suser', e.actor.name],
    ['src', e.context.ip],
    ['requestClientApplication', e.context.user_agent],
    ['msg', e.reason],
    ['cs1Label', 'tenant'],
    ['cs1', e.tenant],
    ['cs2Label', 'actorType'],
    ['cs2', e.actor.type],
    ['cs3Label', 'targets'],
    ['cs3', e.targets.length ? JSON.stringify(e.targets) : undefined],
    ['cs4Label', 'location'],
    ['cs4', e.context.location],
    ['cs5Label', 'requestId'],
    ['cs5', e.context.request_id],
    ['cs6Label', 'details'],
    ['cs6', details(e)],
    ['cn1Label', 'ledgerIndex'],
    ['cn1', e.seq],
    // Only on the service's own records (src/event/service-records.ts).
    ['flexString1Label', e.source && 'source'],
    ['flexString1', e.source],
  ];
  const ext = extension
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${cefValue(String(v))}`)
    .join(' ');
  return `${header.join('|')}|${ext}`;
}

/** Changes and metadata, as JSON, when the event has any. */
function details(e: StoredEvent): string | undefined {
  const d = { ...(e.changes?.length ? { changes: e.changes } : {}), ...(e.metadata && Object.keys(e.metadata).length ? { metadata: e.metadata } : {}) };
  return Object.keys(d).length ? JSON.stringify(d) : undefined;
}

export function cefHeader(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(ANY_LINE_BREAK, ' ');
}

export function cefValue(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/=/g, '\\=')
    .replace(ANY_LINE_BREAK, (b) => (b === '\r' ? '\\r' : b === '\r\n' ? '\\r\\n' : '\\n'));
}
