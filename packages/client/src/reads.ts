/**
 * Read helpers over the query API (docs/api.md#reading-events), for a key with the `read` scope:
 * one page, every page as an async iterator, the commit-order feed, one event and its proof.
 */
import { ClientError } from './errors.ts';

export interface ReadOptions {
  /** Base URL of the Trailproof server. */
  url: string;
  /** API key with the `read` scope. */
  apiKey: string;
  /** Tenant to read, for a key not bound to one. */
  tenant?: string;
  /** The fetch to use; default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** Filters of `GET /v1/events`, as documented there. */
export interface EventFilters {
  actor?: string;
  action?: string;
  target_type?: string;
  target_id?: string;
  outcome?: 'success' | 'failure';
  ip?: string;
  since?: string;
  until?: string;
  q?: string;
  sort?: 'asc' | 'desc';
  /** Events per page, 1–1,000. */
  limit?: number;
}

/** An event as the server stores it: what was sent plus `uid`, `seq`, `received_at`. */
export type StoredEvent = Record<string, unknown> & { uid: string; seq: number; received_at: string; tenant: string; action: string };

export interface EventPage {
  events: StoredEvent[];
  next_cursor: string | null;
}

/** The JSON of `GET /v1/events/{uid}/proof`: what `verifyProof()` checks. */
export interface EventProof {
  event: unknown;
  salt: string | null;
  envelope: { v: number; tenant: string; index: number; uid: string; received_at: string; commitment: string };
  leaf_index: number;
  checkpoint: string;
  proof: string;
}

/** A list answer's events, under `data` (or `events`, in servers before the list field was named `data`). */
function page(body: { data?: StoredEvent[]; events?: StoredEvent[]; next_cursor: string | null }): EventPage {
  return { events: body.data ?? body.events ?? [], next_cursor: body.next_cursor };
}

export class EventReader {
  readonly #options: ReadOptions;
  readonly #fetch: typeof fetch;

  constructor(options: ReadOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /** One page of events matching `filters`, from `cursor` on. */
  async list(filters: EventFilters = {}, cursor?: string): Promise<EventPage> {
    return page(await this.#get('/v1/events', { ...filters, ...(cursor !== undefined && { cursor }) }));
  }

  /** Every event matching `filters`, page by page. */
  async *all(filters: EventFilters = {}): AsyncGenerator<StoredEvent> {
    let cursor: string | undefined;
    do {
      const page = await this.list(filters, cursor);
      yield* page.events;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** One page of the commit-order feed after `after` (from the start when absent), waiting up to `wait` seconds for new events. */
  async feedPage(after?: string, options: { limit?: number; wait?: number } = {}): Promise<{ events: StoredEvent[]; next_cursor: string }> {
    return page(await this.#get('/v1/events/feed', { ...options, ...(after !== undefined && { after }) })) as { events: StoredEvent[]; next_cursor: string };
  }

  /**
   * Tails the feed: yields every event in commit order, forever (or until `signal` aborts),
   * starting after `after`. Keep the cursor of the last event handled (`cursor()`) to resume.
   */
  async *feed(options: { after?: string; limit?: number; wait?: number; signal?: AbortSignal } = {}): AsyncGenerator<StoredEvent> {
    let after = options.after;
    while (!options.signal?.aborted) {
      const page = await this.feedPage(after, {
        ...(options.limit !== undefined && { limit: options.limit }),
        ...(options.wait !== undefined && { wait: options.wait }),
      });
      yield* page.events;
      after = page.next_cursor;
    }
  }

  /** One event by its `uid`. */
  get(uid: string): Promise<StoredEvent> {
    return this.#get(`/v1/events/${encodeURIComponent(uid)}`, {});
  }

  /** The inclusion proof of one event, for `verifyProof()`. */
  proof(uid: string): Promise<EventProof> {
    return this.#get(`/v1/events/${encodeURIComponent(uid)}/proof`, {});
  }

  async #get<T>(path: string, params: Record<string, string | number | undefined>): Promise<T> {
    const url = new URL(path, this.#options.url);
    if (this.#options.tenant !== undefined) url.searchParams.set('tenant', this.#options.tenant);
    for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, String(value));
    const response = await this.#fetch(url, { headers: { authorization: `Bearer ${this.#options.apiKey}` } });
    const body = (await response.json().catch(() => undefined)) as (T & { error?: { code: string; message: string } }) | undefined;
    if (!response.ok || body === undefined) {
      throw new ClientError('READ_FAILED', `${path}: ${response.status} ${body?.error?.code ?? ''} ${body?.error?.message ?? ''}`.trim(), {
        status: response.status,
      });
    }
    return body;
  }
}
