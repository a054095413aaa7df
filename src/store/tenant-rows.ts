/**
 * Rows of a tenant-owned table (alert rules, saved searches) looked up the one way the API allows:
 * by id, and only within the tenant a bound key may see, so that another tenant's row answers
 * exactly like a missing one.
 */
import { TrailproofError } from '../errors.ts';
import type { Sql } from './db.ts';

export interface TenantTable {
  table: string;
  /** What a row is called in errors: `alert rule`, `saved search`. */
  noun: string;
  /** The form of the table's ids; anything else is missing without a query. */
  idPattern: RegExp;
}

/** The row with `id`, if it exists and `tenant` (a bound key's tenant, null for unbound) may see it; else NOT_FOUND. */
export async function tenantRow<T extends { tenant_id: string }>(
  sql: Sql,
  { table, noun, idPattern }: TenantTable,
  id: string,
  tenant: string | null,
): Promise<T> {
  const [row] = idPattern.test(id) ? await sql<T[]>`select * from ${sql(table)} where id = ${id}` : [];
  if (!row || (tenant !== null && row.tenant_id !== tenant)) throw new TrailproofError('NOT_FOUND', `no ${noun} "${id}"`);
  return row;
}

/** The tenant's rows, by name. */
export async function tenantRows<T extends object>(sql: Sql, { table }: TenantTable, tenant: string): Promise<T[]> {
  return await sql<T[]>`select * from ${sql(table)} where tenant_id = ${tenant} order by name`;
}
