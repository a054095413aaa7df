-- Per-action schemas (src/schema/, docs/schemas.md): a tenant's JSON Schemas for the metadata,
-- actor metadata and targets of one action. Each change is a new version; versions are never
-- changed or removed, so the schema an event was checked against stays readable. Events of the
-- action are checked against the newest version (or the one a WorkOS-style event names).
-- `workos` keeps the schema as the WorkOS API was given it, so its list answers the same form.
create table action_schemas (
  tenant_id   text not null references tenants(id),
  action      text not null,
  version     integer not null check (version >= 1),
  definition  jsonb not null,
  workos      jsonb,
  created_by  text not null,
  created_at  timestamptz not null default now(),
  primary key (tenant_id, action, version)
);
create trigger action_schemas_append_only before update or delete on action_schemas for each row execute function trailproof_refuse_change();
create trigger action_schemas_no_truncate before truncate on action_schemas for each statement execute function trailproof_refuse_change();

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant select, insert on action_schemas to trailproof_app;
  end if;
end $$;
