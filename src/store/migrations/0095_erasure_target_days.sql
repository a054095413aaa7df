-- Erasure reaches the per-target daily rollups (migration 0094) as it reaches the hourly ones
-- (migration 0069): the subject's counts move to an anonymous '(erased)' actor or target, and each
-- touched day's distinct-actor count is taken again. Only for an erasure whose record's removal
-- trailproof_erase_payloads() has already logged in payload_removals.
create function trailproof_erase_target_day_stats(p_tenant text, p_record_seq bigint, p_actor_ids text[], p_target_type text, p_target_ids text[])
returns void
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if not exists (select 1 from payload_removals r where r.tenant_id = p_tenant and r.record_seq = p_record_seq and r.action = 'erasure.completed') then
    raise exception 'trailproof: no erasure removal at index % of %', p_record_seq, p_tenant using errcode = 'insufficient_privilege';
  end if;
  if cardinality(p_actor_ids) > 0 then
    -- A day loses the subject's actors and gains '(erased)' unless it already had it.
    with moved as (
      delete from stat_target_day_actors a where a.tenant_id = p_tenant and a.actor_id = any(p_actor_ids) returning a.*
    ), per_day as (
      select target_type, target_id, day, count(*) as actors, sum(events) as events from moved group by 1, 2, 3
    ), kept as (
      insert into stat_target_day_actors (tenant_id, target_type, target_id, day, actor_id, events)
      select p_tenant, target_type, target_id, day, '(erased)', events from per_day
      on conflict (tenant_id, target_type, target_id, day, actor_id) do update set events = stat_target_day_actors.events + excluded.events
      returning target_type, target_id, day, (xmax = 0) as added
    )
    update stat_target_days d set actors = d.actors - p.actors + case when k.added then 1 else 0 end
    from per_day p join kept k using (target_type, target_id, day)
    where d.tenant_id = p_tenant and d.target_type = p.target_type and d.target_id = p.target_id and d.day = p.day;
  end if;
  if p_target_type is not null and cardinality(p_target_ids) > 0 then
    -- The subject's days merge into the '(erased)' target's, which gains each actor it did not have.
    with moved as (
      delete from stat_target_day_actors a
      where a.tenant_id = p_tenant and a.target_type = p_target_type and a.target_id = any(p_target_ids) returning a.*
    ), kept as (
      insert into stat_target_day_actors (tenant_id, target_type, target_id, day, actor_id, events)
      select p_tenant, p_target_type, '(erased)', day, actor_id, sum(events) from moved group by day, actor_id
      on conflict (tenant_id, target_type, target_id, day, actor_id) do update set events = stat_target_day_actors.events + excluded.events
      returning day, (xmax = 0) as added
    ), moved_days as (
      delete from stat_target_days d
      where d.tenant_id = p_tenant and d.target_type = p_target_type and d.target_id = any(p_target_ids) returning d.day, d.events
    )
    insert into stat_target_days (tenant_id, target_type, target_id, day, events, actors)
    select p_tenant, p_target_type, '(erased)', m.day, m.events, coalesce(k.added, 0)
    from (select day, sum(events) as events from moved_days group by day) m
    left join (select day, count(*) filter (where added) as added from kept group by day) k using (day)
    on conflict (tenant_id, target_type, target_id, day) do update
      set events = stat_target_days.events + excluded.events, actors = stat_target_days.actors + excluded.actors;
  end if;
end $$;

revoke execute on function trailproof_erase_target_day_stats(text, bigint, text[], text, text[]) from public;

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant execute on function trailproof_erase_target_day_stats(text, bigint, text[], text, text[]) to trailproof_app;
  end if;
end $$;
