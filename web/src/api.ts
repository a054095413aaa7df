/**
 * The console's and viewer's HTTP client: one credential (an API key or a viewer token) sent as
 * `Authorization: Bearer`, never in a URL; errors surface as ApiError with the server's stable code.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

/** One offending field of a rejected request: its JSON pointer (RFC 6901) into the body (docs/errors.md). */
export interface ErrorDetail {
  pointer: string;
  code: string;
  message: string;
}

/** An error as one line for people: the server's message and stable code. */
export function errorText(err: unknown): string {
  return err instanceof ApiError ? `${err.message} (${err.code})` : err instanceof Error ? err.message : String(err);
}

export interface StoredEvent {
  uid: string;
  tenant: string;
  seq: number;
  id?: string;
  action: string;
  occurred_at: string;
  received_at: string;
  actor: { type: string; id: string; name?: string };
  targets: { type: string; id: string; name?: string }[];
  outcome: 'success' | 'failure';
  reason?: string;
  context: { ip?: string; user_agent?: string; location?: string; request_id?: string; session_id?: string };
  changes?: { field: string; before?: unknown; after?: unknown }[];
  metadata?: Record<string, unknown>;
  /** `trailproof` on the records Trailproof makes itself (docs/events.md#service-records). */
  source?: 'trailproof';
}

export interface EventPage {
  data: StoredEvent[];
  next_cursor: string | null;
}

export interface Histogram {
  since: string;
  until: string;
  bucket_ms: number;
  counts: number[];
  total: number;
  /** Only for an empty window: when the newest event the filters select happened (null: none ever). */
  newest?: string | null;
}

/** The verifier keys a tenant's log publishes (GET /v1/ledger/key, no credential needed): one note key a line. */
export async function publishedKeys(api: Api, tenant: string): Promise<string[]> {
  return (await api.text('/v1/ledger/key', new URLSearchParams(tenant ? { tenant } : {}), false)).split('\n').filter(Boolean);
}

/** Dispatched on `window` when a request made with the session cookie is refused as unauthenticated. */
export const SESSION_ENDED_EVENT = 'trailproof-session-ended';

export class Api {
  /**
   * `credential`: an API key or viewer token, sent as `Authorization: Bearer`; empty for a person
   * signed in, whose browser sends the session cookie, with `csrf` (the session's CSRF token) on
   * every request that changes anything (docs/security.md#sessions).
   */
  constructor(
    readonly base: string,
    private readonly credential: string,
    private readonly csrf?: string,
  ) {}

  async get<T>(path: string, params?: URLSearchParams): Promise<T> {
    return (await this.request('GET', path, params)).json() as Promise<T>;
  }

  async text(path: string, params?: URLSearchParams, auth = true): Promise<string> {
    return (await this.request('GET', path, params, undefined, auth)).text();
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    return (await this.request('POST', path, undefined, body)).json() as Promise<T>;
  }

  async put<T>(path: string, body: unknown): Promise<T> {
    return (await this.request('PUT', path, undefined, body)).json() as Promise<T>;
  }

  async patch<T>(path: string, body: unknown): Promise<T> {
    return (await this.request('PATCH', path, undefined, body)).json() as Promise<T>;
  }

  /** `body`: what the route asks for a deletion, such as the reason a legal hold is released. */
  async delete(path: string, body?: unknown): Promise<void> {
    await this.request('DELETE', path, undefined, body);
  }

  /** A streamed download: calls `progress` with bytes and lines received so far; resolves to the whole body. */
  async download(path: string, params: URLSearchParams, progress: (bytes: number, lines: number) => void, signal?: AbortSignal): Promise<Blob> {
    const res = await this.request('GET', path, params, undefined, true, signal);
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    let lines = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      bytes += value.length;
      for (const b of value) if (b === 10) lines++;
      progress(bytes, lines);
    }
    return new Blob(chunks as BlobPart[], { type: res.headers.get('content-type') ?? 'application/octet-stream' });
  }

  private async request(method: string, path: string, params?: URLSearchParams, body?: unknown, auth = true, signal?: AbortSignal): Promise<Response> {
    const url = `${this.base}${path}${params && [...params].length ? `?${params}` : ''}`;
    const headers: Record<string, string> = {};
    if (auth && this.credential) headers.authorization = `Bearer ${this.credential}`;
    if (!this.credential && this.csrf && method !== 'GET') headers['x-trailproof-csrf'] = this.csrf;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), ...(signal ? { signal } : {}) });
    // A session that ended (signed out elsewhere, timed out, user disabled): the console signs out.
    if (res.status === 401 && !this.credential && typeof window !== 'undefined') window.dispatchEvent(new Event(SESSION_ENDED_EVENT));
    if (!res.ok) {
      let code = 'HTTP_ERROR';
      let message = `${res.status} ${res.statusText}`;
      let details: ErrorDetail[] = [];
      try {
        const err = ((await res.json()) as { error?: { code: string; message: string; details?: ErrorDetail[] } }).error;
        if (err) ({ code, message, details = [] } = err);
      } catch {
        // not a Trailproof error body
      }
      throw new ApiError(res.status, code, message, details);
    }
    return res;
  }
}
