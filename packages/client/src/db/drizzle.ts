/**
 * The Drizzle adapter (`@trailproof/client/drizzle`): transactions that carry the request's audit
 * context to Trailproof's database capture (docs/capture.md, "Who did it"), for Drizzle on
 * PostgreSQL with any driver (node-postgres, postgres.js, …). drizzle-orm is an optional peer
 * dependency, imported only through this entry point.
 *
 *   await auditedTransaction(db, async (tx) => { await tx.update(accounts).set(…).where(…); });
 */
import { type SQL, sql } from 'drizzle-orm';
import { contextSetting } from './context-setting.ts';

/** What the adapter needs of a Drizzle transaction: `execute(sql)`. */
export interface DrizzleExecutor {
  execute(query: SQL): PromiseLike<unknown>;
}

/** What it needs of a Drizzle database: `transaction(fn)`. */
export interface DrizzleDatabase<TX extends DrizzleExecutor> {
  transaction<T>(fn: (tx: TX) => Promise<T>): Promise<T>;
}

/** Sets the current audit context on a transaction begun with `db.transaction()`; does nothing outside a request. */
export async function setAuditContext(tx: DrizzleExecutor): Promise<void> {
  const setting = contextSetting();
  if (setting !== undefined) await tx.execute(sql`select set_config('trailproof.context', ${setting}, true)`);
}

/** Runs `fn` in a Drizzle transaction with the current audit context set; commits, or rolls back if it throws. */
export function auditedTransaction<TX extends DrizzleExecutor, T>(db: DrizzleDatabase<TX>, fn: (tx: TX) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await setAuditContext(tx);
    return fn(tx);
  });
}
