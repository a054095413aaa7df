-- The data lifecycle's removal of payloads (docs/lifecycle.md), enforced by the database: the trail
-- stays append-only for everyone, and the only way an event's payload (its row in events: body,
-- salt, search entry; and its rows in event_targets) leaves is trailproof_remove_payloads(), which
-- removes exactly what a removal record already in the tenant's ledger covers. Leaves, tile nodes
-- and checkpoints are never removed. The service role gets EXECUTE on that function and still has
-- no UPDATE, DELETE or TRUNCATE on the trail.

-- Retention per tenant; tenants without a row follow TRAILPROOF_DEFAULT_RETENTION_DAYS.
create table tenant_retention (
  tenant_id   text primary key references tenants(id),
  days        int not null check (days between 1 and 3650),
  hot_days    int check (hot_days between 1 and 3650),
  updated_at  timestamptz not null default now(),
  check (hot_days is null or hot_days <= days)
);

-- Legal holds: while a hold is in force, the events its filter matches are neither purged nor
-- erased. A hold is created once and released once (with a reason); it is never deleted.
create table legal_holds (
  id              text primary key,
  tenant_id       text not null references tenants(id),
  reason          text not null,
  actor_id        text,
  target_type     text,
  target_id       text,
  since           timestamptz,
  until           timestamptz,
  -- clock_timestamp() once the tenant's lifecycle lock is held (see trailproof_event_held).
  created_at      timestamptz not null,
  created_by      text not null,
  released_at     timestamptz,
  released_by     text,
  release_reason  text,
  check ((target_type is null) = (target_id is null)),
  check ((released_at is null) = (release_reason is null))
);
create index legal_holds_tenant on legal_holds (tenant_id, created_at);

-- The database's own log of the removals it carried out: one row per removal record, written by
-- trailproof_remove_payloads the first time it acts on the record. The self-audit compares it with
-- the ledger, so a removal record deleted from the trail is named as such.
create table payload_removals (
  tenant_id    text not null references tenants(id),
  record_seq   bigint not null,
  action       text not null,
  range_start  bigint not null,
  range_end    bigint not null,
  count        bigint not null,
  first_at     timestamptz not null default now(),
  primary key (tenant_id, record_seq)
);

-- Whether a hold in force at `p_at` covers the event. Plain SQL, so the planner inlines it.
create function trailproof_event_held(p_tenant text, p_occurred_at timestamptz, p_seq bigint, p_actor_id text, p_at timestamptz)
returns boolean language sql stable set search_path = public as $$
  select exists (
    select 1 from legal_holds h
    where h.tenant_id = p_tenant
      and h.created_at <= p_at and (h.released_at is null or h.released_at > p_at)
      and (h.actor_id is null or h.actor_id = p_actor_id)
      and (h.since is null or p_occurred_at >= h.since)
      and (h.until is null or p_occurred_at < h.until)
      and (h.target_type is null or exists (
        select 1 from event_targets t
        where t.tenant_id = p_tenant and t.occurred_at = p_occurred_at and t.seq = p_seq
          and t.target_type = h.target_type and t.target_id = h.target_id)))
$$;

-- Lifecycle records (purges, policies, holds, erasures) are the evidence of every removal: never removed.
create function trailproof_lifecycle_record(p_action text) returns boolean
language sql immutable as $$
  select p_action like 'retention.%' or p_action like 'legal_hold.%' or p_action like 'erasure.%'
$$;

-- The events a purge decided at `p_decided` removes from [p_from, p_to): received before `p_cutoff`,
-- not lifecycle records, not held. The purge counts them with this before it appends its record;
-- trailproof_remove_payloads removes by the same rule.
create function trailproof_purge_count(p_tenant text, p_from bigint, p_to bigint, p_cutoff timestamptz, p_decided timestamptz) returns bigint
language sql stable set search_path = public as $$
  select count(*) from events e
  where e.tenant_id = p_tenant and e.seq >= p_from and e.seq < p_to
    and e.occurred_at between (select min(occurred_at) from ledger_leaves where tenant_id = p_tenant and seq >= p_from and seq < p_to)
                          and (select max(occurred_at) from ledger_leaves where tenant_id = p_tenant and seq >= p_from and seq < p_to)
    and e.received_at < p_cutoff
    and not trailproof_lifecycle_record(e.action)
    and not trailproof_event_held(e.tenant_id, e.occurred_at, e.seq, e.actor_id, p_decided)
$$;

-- The one gate of the append-only triggers: a DELETE on events or event_targets (or a partition of
-- either) passes only inside trailproof_remove_payloads, which sets trailproof.removal for the
-- duration of its own statements. The service role cannot reach this path otherwise: it holds no
-- DELETE privilege on those tables.
create or replace function trailproof_refuse_change() returns trigger
language plpgsql as $$
begin
  if tg_op = 'DELETE' and current_setting('trailproof.removal', true) = 'payloads'
     and (tg_relid in ('events'::regclass, 'event_targets'::regclass)
          or exists (select 1 from pg_inherits i where i.inhrelid = tg_relid and i.inhparent in ('events'::regclass, 'event_targets'::regclass))) then
    return old;
  end if;
  raise exception 'trailproof: % on % refused: the audit trail is append-only', tg_op, tg_table_name
    using errcode = 'insufficient_privilege';
end $$;

-- The row triggers skip their per-row call while a removal runs (the statement triggers still ask
-- trailproof_refuse_change, which refuses anything but that removal's DELETE).
drop trigger events_append_only on events;
drop trigger event_targets_append_only on event_targets;
create trigger events_append_only before update or delete on events for each row
  when (current_setting('trailproof.removal', true) is distinct from 'payloads') execute function trailproof_refuse_change();
create trigger event_targets_append_only before update or delete on event_targets for each row
  when (current_setting('trailproof.removal', true) is distinct from 'payloads') execute function trailproof_refuse_change();

-- Removes the payloads that the removal record at `p_record_seq` of `p_tenant` covers, within
-- [p_from, p_to) (so a long range is removed in short transactions); returns how many it removed.
-- Calling it again removes nothing more: a run resumed after a crash simply calls it again.
--
-- `retention.purged` (metadata range_start, range_end, cutoff, decided_at): events with index in
-- [range_start, range_end), received before `cutoff`, that no hold in force at `decided_at` covers,
-- except lifecycle records (the rule of trailproof_purge_count).
create function trailproof_remove_payloads(p_tenant text, p_record_seq bigint, p_from bigint, p_to bigint) returns bigint
language plpgsql security definer set search_path = public as $$
declare
  rec record;
  m jsonb;
  lo bigint;
  hi bigint;
  cutoff timestamptz;
  decided timestamptz;
  first_at timestamptz;
  last_at timestamptz;
  removed bigint;
begin
  select e.action, e.body into rec
  from ledger_leaves l join events e on e.tenant_id = l.tenant_id and e.occurred_at = l.occurred_at and e.seq = l.seq
  where l.tenant_id = p_tenant and l.seq = p_record_seq;
  if not found or rec.body->>'source' is distinct from 'trailproof' then
    raise exception 'trailproof: no removal record at index % of %', p_record_seq, p_tenant using errcode = 'insufficient_privilege';
  end if;
  m := rec.body->'metadata';
  if rec.action <> 'retention.purged' then
    raise exception 'trailproof: the event at index % of % (%) authorises no removal', p_record_seq, p_tenant, rec.action
      using errcode = 'insufficient_privilege';
  end if;
  cutoff := (m->>'cutoff')::timestamptz;
  decided := (m->>'decided_at')::timestamptz;
  -- A record never covers itself or anything after it.
  lo := greatest(p_from, (m->>'range_start')::bigint);
  hi := least(p_to, (m->>'range_end')::bigint, p_record_seq);
  if cutoff is null or decided is null or lo is null or hi is null then
    raise exception 'trailproof: the removal record at index % of % is incomplete', p_record_seq, p_tenant using errcode = 'insufficient_privilege';
  end if;

  insert into payload_removals (tenant_id, record_seq, action, range_start, range_end, count)
  values (p_tenant, p_record_seq, rec.action, (m->>'range_start')::bigint, (m->>'range_end')::bigint, coalesce((m->>'count')::bigint, 0))
  on conflict do nothing;
  if lo >= hi then
    return 0;
  end if;

  -- occurred_at bounds of the range, so only the partitions it touches are scanned.
  select min(l.occurred_at), max(l.occurred_at) into first_at, last_at
  from ledger_leaves l where l.tenant_id = p_tenant and l.seq >= lo and l.seq < hi;
  if first_at is null then
    return 0;
  end if;

  perform set_config('trailproof.removal', 'payloads', true);
  with gone as (
    delete from events e
    where e.tenant_id = p_tenant and e.occurred_at between first_at and last_at and e.seq >= lo and e.seq < hi
      and e.received_at < cutoff
      and not trailproof_lifecycle_record(e.action)
      and not trailproof_event_held(e.tenant_id, e.occurred_at, e.seq, e.actor_id, decided)
    returning e.occurred_at, e.seq
  ), targets as (
    delete from event_targets t using gone
    where t.tenant_id = p_tenant and t.occurred_at = gone.occurred_at and t.seq = gone.seq
      and t.occurred_at between first_at and last_at
  )
  select count(*) into removed from gone;
  perform set_config('trailproof.removal', '', true);
  return removed;
end $$;

revoke execute on function trailproof_remove_payloads(text, bigint, bigint, bigint) from public;

-- A hold is released once, and nothing else about it ever changes.
create function trailproof_release_once() returns trigger
language plpgsql as $$
begin
  if old.released_at is not null
     or (to_jsonb(new) - array['released_at', 'released_by', 'release_reason']) <> (to_jsonb(old) - array['released_at', 'released_by', 'release_reason']) then
    raise exception 'trailproof: legal hold % can only be released, once', old.id using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;
create trigger legal_holds_release_once before update on legal_holds for each row execute function trailproof_release_once();
create trigger legal_holds_append_only before delete on legal_holds for each row execute function trailproof_refuse_change();
create trigger legal_holds_no_truncate before truncate on legal_holds for each statement execute function trailproof_refuse_change();
create trigger payload_removals_append_only before update or delete on payload_removals for each row execute function trailproof_refuse_change();
create trigger payload_removals_no_truncate before truncate on payload_removals for each statement execute function trailproof_refuse_change();

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant select, insert on tenant_retention to trailproof_app;
    grant update (days, hot_days, updated_at) on tenant_retention to trailproof_app;
    grant select, insert on legal_holds to trailproof_app;
    grant update (released_at, released_by, release_reason) on legal_holds to trailproof_app;
    grant select on payload_removals to trailproof_app;
    grant execute on function trailproof_remove_payloads(text, bigint, bigint, bigint) to trailproof_app;
  end if;
end $$;
