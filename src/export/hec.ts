/**
 * Splunk HTTP Event Collector envelopes (`POST /services/collector/event`), one per line; HEC accepts
 * several concatenated envelopes in one request body. `time` is epoch seconds with milliseconds;
 * the event itself is the read API's JSON.
 */
import type { StoredEvent } from '../event/types.ts';
import type { EventFormat } from './format.ts';
import { jsonLine } from './line-breaks.ts';
import { epochMillis } from './summary.ts';

export const hec: EventFormat = {
  name: 'hec',
  mediaType: 'application/json',
  extension: 'hec.jsonl',
  record: (e) => `${jsonLine(hecEnvelope(e))}\n`,
};

export interface HecOptions {
  host?: string;
  source?: string;
  sourcetype?: string;
  index?: string;
}

export function hecEnvelope(e: StoredEvent, options: HecOptions = {}): Record<string, unknown> {
  return {
    time: epochMillis(e.occurred_at) / 1000,
    host: options.host ?? 'trailproof',
    source: options.source ?? `trailproof:${e.tenant}`,
    sourcetype: options.sourcetype ?? 'trailproof:event',
    ...(options.index ? { index: options.index } : {}),
    event: e,
  };
}
