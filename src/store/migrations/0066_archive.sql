-- The cold archive (src/lifecycle/archive/, docs/lifecycle.md#cold-archive).
--
-- archive_segments: every segment written, with the digest of its bytes. Written once.
create table archive_segments (
  tenant_id        text not null references tenants(id),
  from_seq         bigint not null,
  to_seq           bigint not null,
  name             text not null,
  sha256           bytea not null,
  bytes            bigint not null,
  checkpoint_size  bigint not null,
  created_at       timestamptz not null default now(),
  primary key (tenant_id, from_seq),
  check (0 <= from_seq and from_seq < to_seq and to_seq <= checkpoint_size)
);
create trigger archive_segments_append_only before update or delete on archive_segments for each row execute function trailproof_refuse_change();
create trigger archive_segments_no_truncate before truncate on archive_segments for each statement execute function trailproof_refuse_change();

-- archive_event_keys: what opens an archived event's payload. Each archived payload is sealed with
-- its own key, HMAC(tenant archive key, nonce); the random nonce lives only here, so deleting the
-- row (an erasure) makes the archived payload unreadable for good without touching the segment
-- (crypto-shredding). `subjects` holds keyed hashes of the event's actor and targets, so an erasure
-- finds its events in the archive without the database naming anyone.
create table archive_event_keys (
  tenant_id  text not null references tenants(id),
  seq        bigint not null,
  nonce      bytea not null,
  subjects   text[] not null,
  primary key (tenant_id, seq)
);
create index archive_event_keys_subjects on archive_event_keys using gin (subjects);
create trigger archive_event_keys_no_update before update on archive_event_keys for each row execute function trailproof_refuse_change();
create trigger archive_event_keys_no_truncate before truncate on archive_event_keys for each statement execute function trailproof_refuse_change();

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant select, insert on archive_segments, archive_event_keys to trailproof_app;
  end if;
end $$;
