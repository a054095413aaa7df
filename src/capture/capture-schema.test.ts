import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppDatabase, type AppDatabase } from '../../test/helpers/app-database.ts';
import { CAPTURE_SCHEMA_SQL } from './capture-schema.ts';
import { capturedTables, installCapture } from './install.ts';

/**
 * The trigger function of version 1: one function for every table, reading the table's key,
 * tenant and excluded columns from its arguments and finding changed values with `jsonb_each`.
 * The per-table functions must record exactly what it records; it also stands in for an
 * installation of version 1 that `install` upgrades.
 */
const referenceFunction = (name: string) => `
create function ${name}() returns trigger language plpgsql as $$
declare
  tenant_column text := tg_argv[0];
  key_columns text[] := tg_argv[1]::text[];
  excluded text[] := tg_argv[2]::text[];
  max_bytes int := tg_argv[3]::int;
  old_row jsonb;
  new_row jsonb;
  before_values jsonb;
  after_values jsonb;
begin
  if tg_op <> 'INSERT' then old_row := to_jsonb(old); end if;
  if tg_op <> 'DELETE' then new_row := to_jsonb(new); end if;
  if tg_op = 'UPDATE' then
    select jsonb_object_agg(key, trailproof_capture.clip(o.value, max_bytes)), jsonb_object_agg(key, trailproof_capture.clip(n.value, max_bytes))
      into before_values, after_values
      from jsonb_each(new_row - excluded) n join jsonb_each(old_row) o using (key)
      where n.value is distinct from o.value;
    if before_values is null then return null; end if;
  elsif tg_op = 'INSERT' then
    select jsonb_object_agg(key, trailproof_capture.clip(value, max_bytes)) into after_values from jsonb_each(new_row - excluded);
  else
    select jsonb_object_agg(key, trailproof_capture.clip(value, max_bytes)) into before_values from jsonb_each(old_row - excluded);
  end if;
  insert into trailproof_capture.outbox (schema_name, table_name, op, tenant, row_key, before, after, context)
  values (tg_table_schema, tg_table_name, lower(tg_op), coalesce(new_row, old_row) ->> tenant_column,
    (select jsonb_object_agg(k, coalesce(old_row, new_row) -> k) from unnest(key_columns) k),
    before_values, after_values, nullif(current_setting('trailproof.context', true), ''));
  return null;
end
$$`;

const ACCOUNTS_ARGS = `'org_id', '{"id"}', '{"password_hash"}', '100'`;
const DOCUMENTS_ARGS = `'org_id', '{"org_id","id"}', '{}', '100'`;

let appDb: AppDatabase;

beforeAll(async () => {
  appDb = await createAppDatabase();
  // An installation of version 1 on both tables, and a twin of accounts that the reference records.
  await appDb.sql.unsafe(CAPTURE_SCHEMA_SQL);
  await appDb.sql.unsafe(`insert into trailproof_capture.installation (version) values (1)`);
  await appDb.sql.unsafe(`insert into trailproof_capture.tables values
    ('public', 'accounts', 'org_id', '{id}', '{password_hash}', 100), ('public', 'documents', 'org_id', '{org_id,id}', '{}', 100)`);
  await appDb.sql.unsafe(referenceFunction('trailproof_capture.record_change'));
  await appDb.sql.unsafe(referenceFunction('public.reference_record_change'));
  await appDb.sql.unsafe(`
    create trigger trailproof_capture after insert or update or delete on accounts for each row execute function trailproof_capture.record_change(${ACCOUNTS_ARGS});
    create trigger trailproof_capture after insert or update or delete on documents for each row execute function trailproof_capture.record_change(${DOCUMENTS_ARGS});
    alter table accounts add column "odd ""name'" text;
    create table accounts_reference (like accounts including all);
    create trigger reference after insert or update or delete on accounts_reference for each row execute function reference_record_change(${ACCOUNTS_ARGS});`);
});

afterAll(async () => {
  await appDb?.drop();
});

async function triggerFunctions(): Promise<Record<string, string>> {
  const rows = await appDb.sql`select tgrelid::regclass::text as "table", tgfoid::regproc::text as function from pg_trigger
    where tgname = 'trailproof_capture' order by 1`;
  return Object.fromEntries(rows.map((r) => [r.table, r.function]));
}

describe('capture install', () => {
  it('upgrades a version 1 installation, every captured table included, and runs again to the same result', async () => {
    await installCapture(appDb.sql, { tables: ['documents'], tenantColumn: 'org_id', maxValueBytes: 100 });
    const functions = await triggerFunctions();
    expect(Object.keys(functions)).toEqual(['accounts', 'documents']);
    for (const f of Object.values(functions)) expect(f).toMatch(/^trailproof_capture\.record_[0-9a-f]{16}$/);
    expect(functions.accounts).not.toBe(functions.documents);
    const [old] = await appDb.sql`select to_regprocedure('trailproof_capture.record_change()') as f`;
    expect(old?.f).toBeNull();
    const [installation] = await appDb.sql`select version from trailproof_capture.installation`;
    expect(installation?.version).toBe(2);
    const tables = await capturedTables(appDb.sql);
    expect(tables.find((t) => t.table_name === 'accounts')).toMatchObject({ excluded_columns: ['password_hash'], max_value_bytes: 100 });

    await installCapture(appDb.sql, { tables: ['documents'], tenantColumn: 'org_id', maxValueBytes: 100 });
    expect(await triggerFunctions()).toEqual(functions);
    expect(await capturedTables(appDb.sql)).toEqual(tables);
  });

  it('records what the version 1 trigger records, through columns added and dropped since install', async () => {
    const big = 'x'.repeat(150);
    const statements = [
      `insert into T (id, org_id, name, balance, password_hash) values (1, 'acme', 'One', 10, 'h1'), (2, 'acme', 'Two', 0, null), (3, 'globex', '${big}', 1.50, 'h3')`,
      `update T set balance = balance + 1 where id = 1`,
      `update T set "odd ""name'" = 'it''s' where id = 2`,
      `update T set balance = 1.5000 where id = 3`,
      `update T set name = name where id <= 3`,
      `update T set password_hash = 'changed' where id = 1`,
      `update T set password_hash = 'again', name = 'One!' where id = 1`,
      `update T set name = '${big}y', settings = '{"a": [1, 2, {"b": null}]}' where id = 2`,
      `update T set settings = jsonb_build_object('long', repeat('z', 120)), balance = 2 where id = 3`,
      `update T set password_hash = null, name = 'Null''s' where id = 2`,
      `alter table T add column note text, add column flags int[]`,
      `update T set balance = 5 where id = 1`,
      `update T set note = 'n' where id = 1`,
      `update T set flags = '{1,2}', name = 'With flags' where id = 2`,
      `update T set note = note where id = 1`,
      `update T set note = null where id = 1`,
      `update T set note = '${big}' where id = 3`,
      `alter table T drop column balance`,
      `update T set name = 'After drop' where id = 1`,
      `update T set name = name where id = 1`,
      `delete from T where id in (2, 3)`,
    ];
    for (const table of ['accounts', 'accounts_reference']) {
      await appDb.sql.begin(async (tx) => {
        await tx`select set_config('trailproof.context', '{"actor":{"type":"user","id":"bob"}}', true)`;
        for (const s of statements) await tx.unsafe(s.replaceAll(' T ', ` ${table} `));
      });
    }
    const rows = (table: string) => appDb.sql`select op, tenant, row_key, before, after, context from trailproof_capture.outbox
      where table_name = ${table} order by id`;
    const [captured, reference] = await Promise.all([rows('accounts'), rows('accounts_reference')]);
    expect(reference.length).toBeGreaterThan(15);
    expect(captured).toEqual(reference);
  });
});
