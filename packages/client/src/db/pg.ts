/**
 * The `pg` (node-postgres) adapter: transactions that carry the request's audit context to
 * Trailproof's database capture. Typed structurally, so the package does not depend on `pg`.
 *
 *   await auditedTransaction(pool, async (client) => { await client.query('update …'); });
 */
import { contextSetting, SET_CONTEXT_SQL } from './context-setting.ts';

/** What the adapter needs of a `pg` client: `query(text, values)`. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/** What it needs of a `pg` Pool: `connect()` giving a client with `release()`. */
export interface PgPoolLike {
  connect(): Promise<PgQueryable & { release(err?: Error | boolean): void }>;
}

/**
 * Sets the current audit context on a transaction already begun on `client` (after `BEGIN`); does
 * nothing outside a request.
 */
export async function setAuditContext(client: PgQueryable): Promise<void> {
  const setting = contextSetting();
  if (setting !== undefined) await client.query(SET_CONTEXT_SQL, [setting]);
}

/** Runs `fn` in a transaction on a client of `pool`, with the current audit context set; commits, or rolls back if it throws. */
export async function auditedTransaction<T>(pool: PgPoolLike, fn: (client: PgQueryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await setAuditContext(client);
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
