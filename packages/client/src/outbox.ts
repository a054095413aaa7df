/**
 * The durable outbox: events written to storage the app controls, then relayed to Trailproof by
 * the client's transport. With the PostgreSQL outbox the event is inserted inside the app's own
 * transaction, so it exists if and only if the business change committed; the relay delivers it
 * at least once and the server stores it once (its client `id` is set before it is written).
 */
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { ClientError } from './errors.ts';
import { Transport, type TransportOptions } from './transport.ts';
import type { EventInput, RecordInput } from './types.ts';
import { completeEvent } from './complete.ts';

/** Runs one SQL statement with `$1…` parameters and gives its rows: `(t, p) => pgClient.query(t, p).then((r) => r.rows)`, or `(t, p) => sql.unsafe(t, p)` with postgres.js. */
export type Query = (text: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

/** Default name of the outbox table in the app's database. */
export const DEFAULT_OUTBOX_TABLE = 'trailproof_outbox';

/** Where pending events wait: the one interface the relay needs. */
export interface OutboxStore {
  /** Up to `limit` pending events, oldest first, each with the key `remove` takes. */
  pending(limit: number): Promise<{ key: string; event: EventInput }[]>;
  /** Forgets delivered (or refused) events. */
  remove(keys: string[]): Promise<void>;
}

/** The outbox table in the app's PostgreSQL. */
export class PostgresOutbox implements OutboxStore {
  readonly #table: string;

  /** `query` runs on a connection of its own (the relay's), not the app's transactions. */
  constructor(
    private readonly query: Query,
    options: { table?: string } = {},
  ) {
    const table = options.table ?? DEFAULT_OUTBOX_TABLE;
    if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/.test(table)) throw new TypeError(`outbox table name ${table} is not a plain identifier`);
    this.#table = table;
  }

  /** Creates the table if it is missing (or run the statement in the app's own migrations). */
  async install(): Promise<void> {
    await this.query(
      `create table if not exists ${this.#table} (id bigserial primary key, event jsonb not null, created_at timestamptz not null default now())`,
      [],
    );
  }

  /** Inserts `event` with `tx`, the app's transaction: it is relayed only if that transaction commits. Returns its id. */
  async write(tx: Query, event: RecordInput, tenant?: string): Promise<string> {
    const full = completeEvent(event, tenant);
    await tx(`insert into ${this.#table} (event) values (($1::text)::jsonb)`, [JSON.stringify(full)]);
    return full.id!;
  }

  async pending(limit: number): Promise<{ key: string; event: EventInput }[]> {
    const rows = await this.query(`select id::text as id, event::text as event from ${this.#table} order by id limit $1`, [limit]);
    return rows.map((r) => ({ key: String(r.id), event: JSON.parse(String(r.event)) as EventInput }));
  }

  async remove(keys: string[]): Promise<void> {
    if (keys.length > 0) await this.query(`delete from ${this.#table} where id = any(string_to_array($1, ',')::bigint[])`, [keys.join(',')]);
  }
}

export interface RelayOptions extends TransportOptions {
  /** Events per request; default 500. */
  batchSize?: number;
  /** Wait between polls of an empty outbox; default 200 ms. */
  pollMs?: number;
  backoff?: BackoffOptions;
  onError?: (error: ClientError) => void;
}

/** Moves events from an outbox to Trailproof until stopped. */
export class OutboxRelay {
  readonly #transport: Transport;
  #running: Promise<void> | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;

  constructor(
    private readonly store: OutboxStore,
    private readonly options: RelayOptions,
  ) {
    this.#transport = new Transport(options);
  }

  start(): void {
    this.#stopping = false;
    this.#running ??= this.#loop().finally(() => (this.#running = undefined));
  }

  /** Stops after the batch in hand (if it is being retried, after its current attempt). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#running;
  }

  /** Delivers everything pending now; resolves when the outbox was seen empty. */
  async drain(): Promise<void> {
    while (await this.#deliverOnce()) {}
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      let delivered = false;
      try {
        delivered = await this.#deliverOnce();
      } catch (err) {
        this.options.onError?.(new ClientError('SEND_FAILED', `outbox: ${String(err)}`, { cause: err }));
      }
      if (!delivered) await this.#sleep(this.options.pollMs ?? 200);
    }
  }

  /** Sends one batch (retrying until the server answers); false when the outbox was empty. */
  async #deliverOnce(): Promise<boolean> {
    const batch = await this.store.pending(this.options.batchSize ?? 500);
    if (batch.length === 0) return false;
    const events = batch.map((b) => b.event);
    for (let attempt = 0; ; attempt++) {
      const result = await this.#transport.send(events);
      if (result.kind === 'done') {
        if (result.rejected.length > 0)
          this.options.onError?.(
            new ClientError('EVENT_REJECTED', `the server refused ${result.rejected.length} outbox events`, { rejections: result.rejected }),
          );
        break;
      }
      this.options.onError?.(result.error);
      if (this.#stopping) return false;
      await this.#sleep(Math.max(result.retryAfterMs ?? 0, backoffDelay(attempt, this.options.backoff)));
    }
    await this.store.remove(batch.map((b) => b.key));
    return true;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
