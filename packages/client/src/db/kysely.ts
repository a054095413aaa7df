/**
 * The Kysely adapter (`@trailproof/client/kysely`): transactions that carry the request's audit
 * context to Trailproof's database capture (docs/capture.md, "Who did it"). Kysely is an optional
 * peer dependency, imported only through this entry point.
 *
 *   await auditedTransaction(db, async (trx) => { await trx.updateTable('accounts').set(…).execute(); });
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import { contextSetting } from './context-setting.ts';

/** Sets the current audit context on a transaction begun with `db.transaction()`; does nothing outside a request. */
export async function setAuditContext<DB>(trx: Transaction<DB>): Promise<void> {
  const setting = contextSetting();
  if (setting !== undefined) await sql`select set_config('trailproof.context', ${setting}, true)`.execute(trx);
}

/** Runs `fn` in a Kysely transaction with the current audit context set; commits, or rolls back if it throws. */
export function auditedTransaction<DB, T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await setAuditContext(trx);
    return fn(trx);
  });
}
