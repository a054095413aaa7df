-- Exports of the WorkOS-compatible API (src/workos/, docs/workos.md): what `createExport` asked for,
-- and the short-lived download links `getExport` hands out (only a hash of each link's token is
-- kept). Neither is ever changed; expired links are ignored.
create table workos_exports (
  id          text primary key,
  tenant_id   text not null references tenants(id),
  filter      jsonb not null,
  created_by  text not null,
  created_at  timestamptz not null default now()
);
create table workos_export_links (
  token_hash  bytea primary key,
  export_id   text not null references workos_exports(id),
  expires_at  timestamptz not null
);
create index workos_export_links_export on workos_export_links (export_id);

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant select, insert on workos_exports to trailproof_app;
    grant select, insert on workos_export_links to trailproof_app;
  end if;
end $$;
