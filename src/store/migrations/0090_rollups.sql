-- Followers of committed events, and the hourly rollups that answer GET /v1/stats.
--
-- A follower reads each tenant's events in ledger index order (= commit order, src/query/feed.ts)
-- from its cursor, and writes what it derives in the same transaction that moves the cursor past
-- them: each event is applied exactly once, and a crash loses nothing (src/query/committed-follower.ts).
create table follower_cursors (
  follower    text not null,
  tenant_id   text not null references tenants(id),
  -- The ledger index of the next event to apply.
  next_seq    bigint not null default 0 check (next_seq >= 0),
  updated_at  timestamptz not null default now(),
  primary key (follower, tenant_id)
);

-- Events per hour of occurred_at (UTC), by action, outcome, actor and address: counts and distinct
-- actors over any whole hours come from here without reading events.
create table stat_rollups (
  tenant_id  text not null,
  hour       timestamptz not null,
  action     text not null,
  outcome    text not null,
  actor_id   text not null,
  ip         inet,
  events     bigint not null check (events > 0),
  unique nulls not distinct (tenant_id, hour, action, outcome, actor_id, ip)
);
create index stat_rollups_action on stat_rollups (tenant_id, action text_pattern_ops, hour);
create index stat_rollups_actor on stat_rollups (tenant_id, actor_id, hour);

-- The same per target the event names ("who accessed target X, by day").
create table stat_target_rollups (
  tenant_id    text not null,
  target_type  text not null,
  target_id    text not null,
  hour         timestamptz not null,
  action       text not null,
  outcome      text not null,
  actor_id     text not null,
  events       bigint not null check (events > 0),
  primary key (tenant_id, target_type, target_id, hour, action, outcome, actor_id)
);
create index stat_target_rollups_hour on stat_target_rollups (tenant_id, hour);

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant select, insert on follower_cursors to trailproof_app;
    grant update (next_seq, updated_at) on follower_cursors to trailproof_app;
    grant select, insert, update (events) on stat_rollups, stat_target_rollups to trailproof_app;
  end if;
end $$;
