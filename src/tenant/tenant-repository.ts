/** Tenants: the customer organizations whose trails are kept apart. Created by an operator. */
import { TrailproofError } from '../errors.ts';
import { emptyRoot } from '../ledger/hash.ts';
import type { Sql } from '../store/db.ts';

export interface Tenant {
  id: string;
  name: string;
  created_at: string;
}

/** Tenant ids appear in URLs and checkpoint origins (`<host>/t/<tenant>`), so they are slugs. */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export async function createTenant(sql: Sql, input: { id: string; name?: string }): Promise<Tenant> {
  if (!TENANT_ID_PATTERN.test(input.id)) {
    throw new TrailproofError('REQUEST_INVALID', 'tenant id must be 1-63 characters of a-z, 0-9, "-" or "_", starting with a letter or digit', {
      details: [{ pointer: '/id', code: 'pattern', message: 'must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$' }],
    });
  }
  return sql.begin(async (tx) => {
    const rows = await tx<Tenant[]>`
      insert into tenants (id, name) values (${input.id}, ${input.name ?? input.id})
      on conflict (id) do nothing
      returning id, name, created_at`;
    const tenant = rows[0];
    if (!tenant) throw new TrailproofError('TENANT_EXISTS', `tenant "${input.id}" already exists`);
    await tx`insert into ledger_heads (tenant_id, size, root) values (${tenant.id}, 0, ${emptyRoot()})`;
    return toTenant(tenant);
  });
}

export async function listTenants(sql: Sql, options: { only?: string } = {}): Promise<Tenant[]> {
  const rows = options.only
    ? await sql<Tenant[]>`select id, name, created_at from tenants where id = ${options.only}`
    : await sql<Tenant[]>`select id, name, created_at from tenants order by id`;
  return rows.map(toTenant);
}

export async function tenantExists(sql: Sql, id: string): Promise<boolean> {
  const rows = await sql`select 1 from tenants where id = ${id}`;
  return rows.length > 0;
}

function toTenant(row: { id: string; name: string; created_at: string | Date }): Tenant {
  return { id: row.id, name: row.name, created_at: new Date(row.created_at).toISOString() };
}
