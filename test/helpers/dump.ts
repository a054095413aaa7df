/**
 * Every row of every table of the database as text, read as the superuser: the "does this value
 * survive anywhere" check of redaction and erasure tests (pg_dump of a different major version
 * than the server cannot run, and a dump would hold the same rows).
 */
import type { Sql } from '../../src/store/db.ts';

export async function dumpAllRows(ownerSql: Sql): Promise<string> {
  const tables = await ownerSql<{ schemaname: string; tablename: string }[]>`
    select schemaname, tablename from pg_tables where schemaname not in ('pg_catalog', 'information_schema') order by 1, 2`;
  const parts: string[] = [];
  for (const { schemaname, tablename } of tables) {
    const rows = await ownerSql.unsafe<{ r: string }[]>(`select t::text as r from ${ident(schemaname)}.${ident(tablename)} t`);
    parts.push(`-- ${schemaname}.${tablename}`, ...rows.map((row) => row.r));
  }
  return parts.join('\n');
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
