/** Remembers which tenants exist (tenants are never deleted), asking the database only on a miss. */
import type { Sql } from '../store/db.ts';
import { tenantExists } from './tenant-repository.ts';

export class TenantCache {
  private readonly known = new Set<string>();

  constructor(private readonly sql: Sql) {}

  async exists(id: string): Promise<boolean> {
    if (this.known.has(id)) return true;
    if (!(await tenantExists(this.sql, id))) return false;
    this.known.add(id);
    return true;
  }
}
