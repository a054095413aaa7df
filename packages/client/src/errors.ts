/** The errors the client reports, each with a stable code. */
import type { EventInput } from './types.ts';

export type ClientErrorCode =
  /** `record()` found the queue full; the event was not queued (use `recordAsync()` to wait for room). */
  | 'QUEUE_FULL'
  /** The server refused events for good (invalid, id conflict, forbidden); they are not retried. */
  | 'EVENT_REJECTED'
  /** A send failed in a way worth retrying (network, timeout, 429, 5xx); the events stay queued. */
  | 'SEND_FAILED'
  /** The client is closed; the event was not queued. */
  | 'CLOSED'
  /** A read answered with an error (its status and the server's code are in the message). */
  | 'READ_FAILED';

/** One rejected event with the server's reasons (docs/errors.md). */
export interface Rejection {
  event: EventInput;
  status: number;
  code: string;
  errors: { pointer?: string; code: string; message: string }[];
}

export class ClientError extends Error {
  override readonly name = 'TrailproofClientError';
  readonly code: ClientErrorCode;
  /** Events refused for good, for `EVENT_REJECTED`; the event not queued, for `QUEUE_FULL` and `CLOSED`. */
  readonly rejections: Rejection[];
  /** HTTP status of the failed send, when there was a response. */
  readonly status: number | undefined;

  constructor(code: ClientErrorCode, message: string, options: { rejections?: Rejection[]; status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.rejections = options.rejections ?? [];
    this.status = options.status;
  }
}
