/** The PostgreSQL connection (postgres.js): one pool per process, int8 parsed as number. */
import postgres from 'postgres';

export type Sql = postgres.Sql<Record<string, never>>;
export type TxSql = postgres.TransactionSql<Record<string, never>>;
export type ReservedSql = postgres.ReservedSql<Record<string, never>>;

export interface ConnectOptions {
  max?: number;
  /** Application name shown in pg_stat_activity. */
  name?: string;
  /** Role to act as on every connection (`-c role=…` at startup, like `SET ROLE`). */
  role?: string;
  /** Called with each statement's text as it is sent (diagnostics and tests). */
  debug?: (statement: string) => void;
}

/** The role the service works as: it may insert into the trail but never change it (migration 0004). */
export const APP_ROLE = 'trailproof_app';

/** Longest wait, in seconds, between attempts to reconnect to a database that refused or dropped one. */
export const RECONNECT_BACKOFF_MAX_S = 0.25;
/** Seconds an attempt to connect may take before it counts as a failure. */
export const CONNECT_TIMEOUT_S = 10;

export function connect(url: string, options: ConnectOptions = {}): Sql {
  return postgres(url, {
    max: options.max ?? 20,
    onnotice: () => {},
    // While the database is down, a query waits for its connection's next attempt: postgres.js
    // spaces attempts by up to 20 s by default, holding requests that long before their 503.
    // Attempts that are refused cost nothing, so they are spaced by a quarter second at most.
    backoff: (retries: number) => Math.min(0.01 * 2 ** retries, RECONNECT_BACKOFF_MAX_S),
    // A host that does not answer at all fails the attempt after this long.
    connect_timeout: CONNECT_TIMEOUT_S,
    ...(options.debug ? { debug: (_connection: number, statement: string) => options.debug!(statement) } : {}),
    connection: {
      application_name: options.name ?? 'trailproof',
      // postgres.js reads timestamps as text and parses them with Date: ask for ISO whatever the
      // server's or database's default (`SQL, DMY` or `German` would be misread or unreadable).
      DateStyle: 'ISO, MDY',
      ...(options.role ? { options: `-c role=${options.role}` } : {}),
    } as Record<string, string>,
    // Sequence numbers and sizes are bigint in SQL; every value we store stays below 2^53.
    types: {
      bigint: { to: 20, from: [20], serialize: (v: number | bigint) => v.toString(), parse: (v: string) => Number(v) },
    },
  }) as unknown as Sql;
}

/**
 * Whether the database refused a statement (an error of severity ERROR): its transaction then
 * certainly did not commit. Not so after a lost connection or a FATAL error (a terminated backend),
 * when a COMMIT may have gone through unanswered, and doing the work again could do it twice.
 */
export function refusedByDatabase(err: unknown): boolean {
  return err instanceof postgres.PostgresError && err.severity === 'ERROR';
}

/** Runs `write`; a unique violation (SQLSTATE 23505: the row's key is taken) throws `taken()` instead. */
export async function uniqueOr<T>(write: () => Promise<T>, taken: () => Error): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw taken();
    throw err;
  }
}

/**
 * Runs `work` on a connection of its own (for a transaction it writes out, pipelined or not), rolls
 * back if it throws, and gives the connection back.
 */
export async function withReservedConnection<T>(sql: Sql, work: (connection: ReservedSql) => Promise<T>): Promise<T> {
  const connection = await sql.reserve();
  try {
    return await work(connection);
  } catch (err) {
    await connection`rollback`.catch(() => {});
    throw err;
  } finally {
    connection.release();
  }
}

/** Whether the connecting user may act as the service role (it exists and we are a member). */
export async function canUseAppRole(sql: Sql): Promise<boolean> {
  const rows = await sql<{ ok: boolean }[]>`
    select exists (select 1 from pg_roles where rolname = ${APP_ROLE}) and pg_has_role(current_user, ${APP_ROLE}, 'MEMBER') as ok`;
  return rows[0]?.ok === true;
}
