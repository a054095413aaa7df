/**
 * `trailproof capture install|uninstall|status` on the application's database (docs/capture.md):
 * creates the outbox (capture-schema.ts) and, for each captured table, its trigger function and
 * trigger, in one transaction, so a failed install leaves nothing behind.
 */
import { TrailproofError } from '../errors.ts';
import type { Sql, TxSql } from '../store/db.ts';
import { CAPTURE_SCHEMA, CAPTURE_SCHEMA_SQL, CAPTURE_SCHEMA_VERSION, CAPTURE_TRIGGER, ident, triggerFunction, triggerFunctionSql } from './capture-schema.ts';

/** Default of `--max-value-bytes`: longer values (as JSON text) leave the database as length and hash. */
export const DEFAULT_MAX_VALUE_BYTES = 2048;

export interface InstallOptions {
  /** `schema.table`, or `table` in `public`. */
  tables: string[];
  /** Column holding the row's tenant (the Trailproof tenant id). */
  tenantColumn: string;
  /** `table.column` or `schema.table.column`: never recorded. */
  excludeColumns?: string[];
  maxValueBytes?: number;
}

export interface CapturedTable {
  schema_name: string;
  table_name: string;
  tenant_column: string;
  key_columns: string[];
  excluded_columns: string[];
  max_value_bytes: number;
}

export interface CaptureStatus {
  installed: boolean;
  installationId?: string;
  version?: number;
  tables: CapturedTable[];
  /** Changes waiting for the relay. */
  backlog: number;
  /** Changes set aside because their tenant does not exist in Trailproof (retried by the relay). */
  parked: number;
  /** When the oldest waiting change was made. */
  oldestAt: string | null;
}

/** Installs (or extends) capture; returns the tables now captured. */
export async function installCapture(sql: Sql, options: InstallOptions): Promise<CapturedTable[]> {
  if (options.tables.length === 0) throw invalid('name at least one table with --table');
  const maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  if (!Number.isInteger(maxValueBytes) || maxValueBytes < 64) throw invalid('--max-value-bytes must be an integer ≥ 64');
  const tables = options.tables.map(parseTableName);
  const excluded = (options.excludeColumns ?? []).map(parseColumnName);
  for (const column of excluded) {
    if (!tables.some((t) => t.schema === column.schema && t.table === column.table)) {
      throw invalid(`--exclude-column ${column.text}: its table is not among the --table options`);
    }
  }
  return sql.begin(async (tx) => {
    await tx.unsafe(CAPTURE_SCHEMA_SQL);
    await tx.unsafe(`insert into ${CAPTURE_SCHEMA}.installation (version) values (${CAPTURE_SCHEMA_VERSION})
      on conflict (singleton) do update set version = excluded.version`);
    for (const t of tables) {
      const columns = await columnsOf(tx, t.schema, t.table);
      if (columns.length === 0) throw invalid(`--table ${t.schema}.${t.table}: no such table`);
      const names = columns.map((c) => c.name);
      if (!names.includes(options.tenantColumn)) throw invalid(`--tenant-column ${options.tenantColumn}: ${t.schema}.${t.table} has no such column`);
      const keyColumns = columns.filter((c) => c.key).map((c) => c.name);
      if (keyColumns.length === 0) throw invalid(`--table ${t.schema}.${t.table}: the table has no primary key, which identifies its rows in the trail`);
      const excludedHere = excluded.filter((c) => c.schema === t.schema && c.table === t.table).map((c) => c.column);
      for (const c of excludedHere) {
        if (!names.includes(c)) throw invalid(`--exclude-column ${t.schema}.${t.table}.${c}: no such column`);
        if (keyColumns.includes(c) || c === options.tenantColumn)
          throw invalid(`--exclude-column ${t.schema}.${t.table}.${c}: key and tenant columns are always recorded`);
      }
      await tx`
        insert into ${tx(CAPTURE_SCHEMA)}.tables ${tx({ schema_name: t.schema, table_name: t.table, tenant_column: options.tenantColumn, key_columns: keyColumns, excluded_columns: excludedHere, max_value_bytes: maxValueBytes })}
        on conflict (schema_name, table_name) do update set tenant_column = excluded.tenant_column, key_columns = excluded.key_columns,
          excluded_columns = excluded.excluded_columns, max_value_bytes = excluded.max_value_bytes`;
    }
    // Every captured table's trigger is written again, not only the named ones: running install
    // again upgrades the triggers of an older version.
    const captured = await capturedTables(tx);
    for (const t of captured) await writeTrigger(tx, t);
    await tx.unsafe(DROP_VERSION_1_FUNCTION);
    return captured;
  });
}

/**
 * Removes the triggers and the schema. Refuses while changes wait in the outbox (they would be
 * lost), unless `force`.
 */
export async function uninstallCapture(sql: Sql, options: { force?: boolean } = {}): Promise<{ dropped: number }> {
  return sql.begin(async (tx) => {
    if (!(await isInstalled(tx))) return { dropped: 0 };
    // Stops new changes arriving while the outbox is counted.
    await tx.unsafe(`lock table ${CAPTURE_SCHEMA}.outbox in exclusive mode`);
    const [{ n }] = (await tx.unsafe(`select count(*)::int as n from ${CAPTURE_SCHEMA}.outbox`)) as unknown as [{ n: number }];
    if (n > 0 && !options.force) {
      throw new TrailproofError(
        'CAPTURE_SETUP_INVALID',
        `${n} captured changes have not reached Trailproof yet: run the relay until \`capture status\` shows no backlog, or uninstall with --force to drop them`,
      );
    }
    const tables = await capturedTables(tx);
    for (const t of tables) {
      const target = `${ident(t.schema_name)}.${ident(t.table_name)}`;
      const [exists] = await tx`select to_regclass(${target}) as oid`;
      if (exists?.oid) await tx.unsafe(`drop trigger if exists ${CAPTURE_TRIGGER} on ${target}`);
    }
    await tx.unsafe(`drop schema ${CAPTURE_SCHEMA} cascade`);
    return { dropped: tables.length };
  });
}

/** Capture's installation and outbox; with `tenant`, the outbox counts only that tenant's changes. */
export async function captureStatus(sql: Sql, tenant?: string): Promise<CaptureStatus> {
  if (!(await isInstalled(sql))) return { installed: false, tables: [], backlog: 0, parked: 0, oldestAt: null };
  const [installation] = (await sql.unsafe(`select id, version from ${CAPTURE_SCHEMA}.installation`)) as unknown as [{ id: string; version: number }?];
  const [counts] = (await sql.unsafe(
    `select count(*) filter (where parked_at is null)::int as backlog, count(*) filter (where parked_at is not null)::int as parked,
       min(captured_at) filter (where parked_at is null) as oldest from ${CAPTURE_SCHEMA}.outbox where $1::text is null or tenant = $1`,
    [tenant ?? null],
  )) as unknown as [{ backlog: number; parked: number; oldest: Date | null }];
  return {
    installed: true,
    ...(installation ? { installationId: installation.id, version: installation.version } : {}),
    tables: await capturedTables(sql),
    backlog: counts.backlog,
    parked: counts.parked,
    oldestAt: counts.oldest ? new Date(counts.oldest).toISOString() : null,
  };
}

export async function isInstalled(sql: Sql | TxSql): Promise<boolean> {
  const [row] = await sql`select to_regclass(${`${CAPTURE_SCHEMA}.outbox`}) is not null as installed`;
  return row?.installed === true;
}

export async function capturedTables(sql: Sql | TxSql): Promise<CapturedTable[]> {
  return (await sql.unsafe(
    `select schema_name, table_name, tenant_column, key_columns, excluded_columns, max_value_bytes from ${CAPTURE_SCHEMA}.tables order by 1, 2`,
  )) as unknown as CapturedTable[];
}

/** (Re)creates the trigger function of a captured table and its trigger; skips a table dropped since. */
async function writeTrigger(tx: TxSql, t: CapturedTable): Promise<void> {
  const columns = await columnsOf(tx, t.schema_name, t.table_name);
  if (columns.length === 0) return;
  const spec = {
    schema: t.schema_name,
    table: t.table_name,
    tenantColumn: t.tenant_column,
    keyColumns: t.key_columns,
    excludedColumns: t.excluded_columns,
    columns: columns.map((c) => c.name),
    maxValueBytes: t.max_value_bytes,
  };
  const target = `${ident(t.schema_name)}.${ident(t.table_name)}`;
  await tx.unsafe(triggerFunctionSql(spec));
  await tx.unsafe(`drop trigger if exists ${CAPTURE_TRIGGER} on ${target}`);
  await tx.unsafe(
    `create trigger ${CAPTURE_TRIGGER} after insert or update or delete on ${target} for each row execute function ${triggerFunction(t.schema_name, t.table_name)}()`,
  );
}

/**
 * Version 1 ran one shared trigger function for every table; it goes once no trigger runs it (a
 * table renamed since its install keeps it until install names the table again).
 */
const DROP_VERSION_1_FUNCTION = `do $$ begin
  if to_regprocedure('${CAPTURE_SCHEMA}.record_change()') is not null
    and not exists (select 1 from pg_trigger where tgfoid = to_regprocedure('${CAPTURE_SCHEMA}.record_change()')) then
    drop function ${CAPTURE_SCHEMA}.record_change();
  end if;
end $$`;

interface TableName {
  schema: string;
  table: string;
}

function parseTableName(text: string): TableName {
  const parts = text.split('.');
  if (parts.length === 1 && parts[0]) return { schema: 'public', table: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { schema: parts[0], table: parts[1] };
  throw invalid(`--table ${text}: expected schema.table or table`);
}

function parseColumnName(text: string): TableName & { column: string; text: string } {
  const parts = text.split('.');
  if (parts.length === 2 && parts[0] && parts[1]) return { schema: 'public', table: parts[0], column: parts[1], text };
  if (parts.length === 3 && parts[0] && parts[1] && parts[2]) return { schema: parts[0], table: parts[1], column: parts[2], text };
  throw invalid(`--exclude-column ${text}: expected table.column or schema.table.column`);
}

async function columnsOf(sql: TxSql, schema: string, table: string): Promise<{ name: string; key: boolean }[]> {
  return (await sql`
    select a.attname as name, coalesce(a.attnum = any(i.indkey), false) as key
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid and c.relkind in ('r', 'p')
    join pg_namespace n on n.oid = c.relnamespace
    left join pg_index i on i.indrelid = c.oid and i.indisprimary
    where n.nspname = ${schema} and c.relname = ${table} and a.attnum > 0 and not a.attisdropped
    order by a.attnum`) as unknown as { name: string; key: boolean }[];
}

function invalid(message: string): TrailproofError {
  return new TrailproofError('CAPTURE_SETUP_INVALID', message);
}
