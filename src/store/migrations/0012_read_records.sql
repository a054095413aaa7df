-- Records of reads of one event (audit_log.viewed) on their way into their tenant's ledger
-- (src/audit/read-records.ts). A read is answered once its record committed here, which costs a
-- fraction of a ledger append; the records join the ledger a moment later, many per append, each
-- under the idempotency id `read-record:<id>` so that moving one twice (after a crash between the
-- append and the delete) stores it once. Not part of the ledger: rows leave as they are appended.
create table read_records (
  id         bigserial primary key,
  tenant_id  text not null,
  body       jsonb not null,
  created_at timestamptz not null default now()
);

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant select, insert, delete on read_records to trailproof_app;
    -- Only so that a pass can lock the rows it moves (FOR UPDATE needs an UPDATE privilege).
    grant update (created_at) on read_records to trailproof_app;
    grant usage on sequence read_records_id_seq to trailproof_app;
  end if;
end $$;
