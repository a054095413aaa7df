-- Erasure and the per-day target stats (migration 0094): an erasure also moves the subject's rows
-- of stat_target_day_actors and stat_target_days to the anonymous '(erased)' actor or target. The
-- stats part of trailproof_erase_payloads (migration 0069) moves to trailproof_anonymise_stats,
-- which only that function calls (it runs as the owner; nobody else may execute it).

create function trailproof_anonymise_stats(p_tenant text, p_actor_ids text[], p_target_type text, p_target_ids text[])
returns void
language plpgsql security definer set search_path = public as $$
begin
  if cardinality(p_actor_ids) > 0 then
    with moved as (
      delete from stat_rollups r where r.tenant_id = p_tenant and r.actor_id = any(p_actor_ids) returning r.*
    )
    insert into stat_rollups (tenant_id, hour, action, outcome, actor_id, ip, events)
    select tenant_id, hour, action, outcome, '(erased)', null, sum(events) from moved group by tenant_id, hour, action, outcome
    on conflict (tenant_id, hour, action, outcome, actor_id, ip) do update set events = stat_rollups.events + excluded.events;
    with moved as (
      delete from stat_target_rollups r where r.tenant_id = p_tenant and r.actor_id = any(p_actor_ids) returning r.*
    )
    insert into stat_target_rollups (tenant_id, target_type, target_id, hour, action, outcome, actor_id, events)
    select tenant_id, target_type, target_id, hour, action, outcome, '(erased)', sum(events) from moved
    group by tenant_id, target_type, target_id, hour, action, outcome
    on conflict (tenant_id, target_type, target_id, hour, action, outcome, actor_id) do update set events = stat_target_rollups.events + excluded.events;
    with moved as (
      delete from stat_target_day_actors r where r.tenant_id = p_tenant and r.actor_id = any(p_actor_ids) returning r.*
    ), added as (
      insert into stat_target_day_actors (tenant_id, target_type, target_id, day, actor_id, events)
      select tenant_id, target_type, target_id, day, '(erased)', sum(events) from moved group by tenant_id, target_type, target_id, day
      on conflict (tenant_id, target_type, target_id, day, actor_id) do update set events = stat_target_day_actors.events + excluded.events
      returning target_type, target_id, day, xmax = 0 as fresh
    ), lost as (
      -- Distinct actors of a day drop by one for each subject row merged into an existing '(erased)' row.
      select m.target_type, m.target_id, m.day, count(*) - max(case when a.fresh then 1 else 0 end) as fewer
      from moved m join added a using (target_type, target_id, day) group by 1, 2, 3
    )
    update stat_target_days d set actors = d.actors - lost.fewer from lost
    where d.tenant_id = p_tenant and d.target_type = lost.target_type and d.target_id = lost.target_id and d.day = lost.day and lost.fewer > 0;
  end if;
  if p_target_type is not null and cardinality(p_target_ids) > 0 then
    with moved as (
      delete from stat_target_rollups r where r.tenant_id = p_tenant and r.target_type = p_target_type and r.target_id = any(p_target_ids) returning r.*
    )
    insert into stat_target_rollups (tenant_id, target_type, target_id, hour, action, outcome, actor_id, events)
    select tenant_id, target_type, '(erased)', hour, action, outcome, actor_id, sum(events) from moved
    group by tenant_id, target_type, hour, action, outcome, actor_id
    on conflict (tenant_id, target_type, target_id, hour, action, outcome, actor_id) do update set events = stat_target_rollups.events + excluded.events;
    with moved as (
      delete from stat_target_day_actors r where r.tenant_id = p_tenant and r.target_type = p_target_type and r.target_id = any(p_target_ids) returning r.*
    )
    insert into stat_target_day_actors (tenant_id, target_type, target_id, day, actor_id, events)
    select tenant_id, target_type, '(erased)', day, actor_id, sum(events) from moved group by tenant_id, target_type, day, actor_id
    on conflict (tenant_id, target_type, target_id, day, actor_id) do update set events = stat_target_day_actors.events + excluded.events;
    with moved as (
      delete from stat_target_days d where d.tenant_id = p_tenant and d.target_type = p_target_type and d.target_id = any(p_target_ids) returning d.day
    )
    insert into stat_target_days (tenant_id, target_type, target_id, day, events, actors)
    select p_tenant, p_target_type, '(erased)', a.day, sum(a.events), count(*) from stat_target_day_actors a
    where a.tenant_id = p_tenant and a.target_type = p_target_type and a.target_id = '(erased)' and a.day in (select day from moved)
    group by a.day
    on conflict (tenant_id, target_type, target_id, day) do update set events = excluded.events, actors = excluded.actors;
  end if;
end $$;

revoke execute on function trailproof_anonymise_stats(text, text[], text, text[]) from public;

create or replace function trailproof_erase_payloads(p_tenant text, p_record_seq bigint, p_actor_ids text[], p_target_type text, p_target_ids text[])
returns bigint
language plpgsql security definer set search_path = public as $$
declare
  rec record;
  m jsonb;
  idx bigint[];
  decided timestamptz;
  removed bigint;
begin
  select e.action, e.body into rec
  from ledger_leaves l join events e on e.tenant_id = l.tenant_id and e.occurred_at = l.occurred_at and e.seq = l.seq
  where l.tenant_id = p_tenant and l.seq = p_record_seq;
  if not found or rec.body->>'source' is distinct from 'trailproof' or rec.action <> 'erasure.completed' then
    raise exception 'trailproof: no erasure record at index % of %', p_record_seq, p_tenant using errcode = 'insufficient_privilege';
  end if;
  m := rec.body->'metadata';
  decided := (m->>'decided_at')::timestamptz;
  if decided is null or jsonb_typeof(m->'indices') is distinct from 'array' then
    raise exception 'trailproof: the erasure record at index % of % is incomplete', p_record_seq, p_tenant using errcode = 'insufficient_privilege';
  end if;
  -- A record never covers itself or anything after it.
  select coalesce(array_agg(v::bigint order by v::bigint), '{}') into idx
  from jsonb_array_elements_text(m->'indices') v where v::bigint < p_record_seq;

  insert into payload_removals (tenant_id, record_seq, action, range_start, range_end, count)
  values (p_tenant, p_record_seq, rec.action, coalesce(idx[1], 0), coalesce(idx[cardinality(idx)] + 1, 0), cardinality(idx))
  on conflict do nothing;

  perform set_config('trailproof.removal', 'payloads', true);
  with leaves as (
    select l.occurred_at, l.seq from ledger_leaves l where l.tenant_id = p_tenant and l.seq = any(idx)
  ), gone as (
    delete from events e using leaves
    where e.tenant_id = p_tenant and e.occurred_at = leaves.occurred_at and e.seq = leaves.seq
      and not trailproof_lifecycle_record(e.action)
      and not trailproof_event_held(e.tenant_id, e.occurred_at, e.seq, e.actor_id, decided)
    returning e.occurred_at, e.seq
  ), targets as (
    delete from event_targets t using gone
    where t.tenant_id = p_tenant and t.occurred_at = gone.occurred_at and t.seq = gone.seq
  )
  select count(*) into removed from gone;
  perform set_config('trailproof.removal', '', true);

  -- Archived copies (of events purged from the database, or of any archived one): shred their keys.
  -- The caller refused the erasure if a hold covers any of them.
  delete from archive_event_keys k where k.tenant_id = p_tenant and k.seq = any(idx);

  perform trailproof_anonymise_stats(p_tenant, p_actor_ids, p_target_type, p_target_ids);
  return removed;
end $$;

