/**
 * Sends one batch to `POST /v1/events` and sorts the answer into accepted, rejected for good, and
 * to be retried. Retrying is always safe: every event carries a client `id` and the server stores
 * an event once per id (docs/api.md#recording-events).
 */
import { ClientError, type Rejection } from './errors.ts';
import type { EventInput } from './types.ts';

export interface TransportOptions {
  /** Base URL of the Trailproof server, e.g. `https://audit.example.com`. */
  url: string;
  /** API key with the `ingest` scope (`tpk_…`). */
  apiKey: string;
  /** The fetch to use; default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Abort a request after this long; default `DEFAULT_REQUEST_TIMEOUT_MS`. */
  timeoutMs?: number;
}

/**
 * Long enough for a full batch queued at a busy server behind the client's other requests in
 * flight: a timed-out request may still be stored, and its retry is then work the server does twice.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export type SendResult =
  /** Every event is either stored (or was already) or refused for good. */
  | { kind: 'done'; rejected: Rejection[] }
  /** Nothing is known to be stored; send the same events again after `retryAfterMs` (when the server said). */
  | { kind: 'retry'; error: ClientError; retryAfterMs?: number };

interface BatchAnswer {
  accepted?: { index: number }[];
  rejected?: { index: number; errors: Rejection['errors'] }[];
  error?: { code: string; message: string; details?: Rejection['errors'] };
}

export class Transport {
  readonly #endpoint: string;
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(options: TransportOptions) {
    this.#endpoint = new URL('/v1/events', options.url).toString();
    this.#headers = { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' };
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  async send(events: EventInput[]): Promise<SendResult> {
    let response: Response;
    let answer: BatchAnswer;
    try {
      response = await this.#fetch(this.#endpoint, {
        method: 'POST',
        headers: this.#headers,
        body: JSON.stringify({ events }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      answer = (await response.json().catch(() => ({}))) as BatchAnswer;
    } catch (cause) {
      return { kind: 'retry', error: new ClientError('SEND_FAILED', `sending ${events.length} events failed: ${String(cause)}`, { cause }) };
    }
    const { status } = response;
    if (status === 408 || status === 429 || status >= 500) {
      const error = new ClientError('SEND_FAILED', `server answered ${status} ${answer.error?.code ?? ''}`.trim(), { status });
      const retryAfter = Number(response.headers.get('retry-after'));
      return Number.isFinite(retryAfter) && retryAfter > 0 ? { kind: 'retry', error, retryAfterMs: retryAfter * 1000 } : { kind: 'retry', error };
    }
    if (Array.isArray(answer.rejected)) {
      const rejected = answer.rejected.flatMap(({ index, errors }) => {
        const event = events[index];
        return event ? [{ event, status, code: answer.error?.code ?? 'EVENT_INVALID', errors }] : [];
      });
      return { kind: 'done', rejected };
    }
    if (status >= 200 && status < 300) return { kind: 'done', rejected: [] };
    // A refusal of the whole request (auth, body shape): every event shares it.
    const code = answer.error?.code ?? `HTTP_${status}`;
    const errors = answer.error?.details ?? [{ code, message: answer.error?.message ?? `server answered ${status}` }];
    return { kind: 'done', rejected: events.map((event) => ({ event, status, code, errors })) };
  }
}
