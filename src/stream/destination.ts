/**
 * A stream destination: where a batch of formatted events goes. Every kind is a plain-object
 * factory in its own file (webhook.ts, splunk-hec.ts, syslog.ts, s3.ts, datadog.ts), listed in
 * destinations.ts; each file's test runs the one contract suite (destination-contract.ts) against
 * a real receiver.
 *
 * `deliver` resolves only once the receiver acknowledged the whole batch (HTTP 2xx, S3 PUT
 * answered, syslog bytes handed to the kernel: RFC 6587 has no application acknowledgement); it
 * rejects with STREAM_DELIVERY_FAILED otherwise, and the worker retries the same batch. So a batch
 * may arrive twice, never out of order, never with a gap.
 */
import type { StoredEvent } from '../event/types.ts';
import type { EventFormat } from '../export/format.ts';
import { TrailproofError } from '../errors.ts';

/** What a destination needs when it sends only the records (a kind typed `DestinationKind<C, RecordBatch>`). */
export interface RecordBatch {
  /** One record per event, in the destination's format (what `format.record(event)` writes). */
  records: string[];
}

export interface DeliveryBatch extends RecordBatch {
  /** The same events, in the same (commit) order. */
  events: StoredEvent[];
}

export interface Destination<B extends RecordBatch = DeliveryBatch> {
  /** Sends the batch; resolves when the receiver acknowledged it. Aborting `signal` must end it (timeout). */
  deliver(batch: B, signal: AbortSignal): Promise<void>;
  /** Releases connections; the destination is not used afterwards. */
  close(): Promise<void>;
}

/** What a destination is built from: its row, its decrypted secret, its format. */
export interface DestinationSettings<C = Record<string, unknown>> {
  id: string;
  tenant: string;
  name: string;
  config: C;
  /** The decrypted secret (signing key, token, API key); undefined when the kind takes none. */
  secret: string | undefined;
  format: EventFormat;
}

export interface DestinationKind<C = Record<string, unknown>, B extends RecordBatch = DeliveryBatch> {
  /** The `kind` value of the API. */
  readonly kind: string;
  /** Formats this kind can carry; the first is the default. */
  readonly formats: readonly string[];
  /** Whether a destination of this kind needs a secret, and what it is (for messages). */
  readonly secret: { required: boolean; description: string } | undefined;
  /** Validates and normalizes `config` (REQUEST_INVALID with pointers under `/config`). */
  parseConfig(config: Record<string, unknown>): C;
  create(settings: DestinationSettings<C>): Destination<B>;
}

export function deliveryFailed(message: string, cause?: unknown): TrailproofError {
  return new TrailproofError('STREAM_DELIVERY_FAILED', message, cause === undefined ? {} : { cause });
}

/** Formats whose records are single JSON objects (one per line). */
export const JSON_FORMATS = ['jsonl', 'ecs', 'ocsf', 'hec'] as const;

// ---- config validation helpers shared by the kinds ----

export function configInvalid(field: string, message: string): TrailproofError {
  return new TrailproofError('REQUEST_INVALID', `config.${field}: ${message}`, {
    details: [{ pointer: `/config/${field}`, code: 'invalid_value', message }],
  });
}

export function stringField(config: Record<string, unknown>, field: string, options: { required?: boolean; max?: number } = {}): string | undefined {
  const value = config[field];
  if (value === undefined || value === null || value === '') {
    if (options.required) throw configInvalid(field, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') throw configInvalid(field, 'must be a string');
  if (value.length > (options.max ?? 2048)) throw configInvalid(field, `must be at most ${options.max ?? 2048} characters`);
  return value;
}

export function urlField(config: Record<string, unknown>, field: string, fallback?: string): string {
  const value = stringField(config, field, { required: fallback === undefined }) ?? fallback!;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configInvalid(field, 'must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw configInvalid(field, 'must be an https:// (or http://) URL');
  if (url.username || url.password) throw configInvalid(field, 'must not carry credentials: use the destination secret');
  return url.toString();
}

/** A PEM bundle of CA certificates to trust instead of the system's (private CAs, tests). */
export function caField(config: Record<string, unknown>): string | undefined {
  const ca = stringField(config, 'ca', { max: 65_536 });
  if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----')) throw configInvalid('ca', 'must be PEM certificates');
  return ca;
}

export function onlyFields(config: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(config))
    if (!allowed.includes(key)) throw configInvalid(key, `is not a setting of this kind (settings: ${allowed.join(', ')})`);
}
