-- Erasure of a person's events (docs/lifecycle.md "Erasure"), enforced by the database like purges
-- (migration 0060): the only way an erased event's payload leaves is trailproof_erase_payloads(),
-- which removes exactly the events an `erasure.completed` record already in the tenant's ledger
-- lists: their events rows (body, salt, search entry), event_targets rows and archive keys (the
-- archived copy is sealed under a key derived from that row's nonce, so deleting the row makes the
-- archived payload unreadable for good: crypto-shredding). Leaves, tiles and checkpoints stay.
-- It also moves the subject's counts in the stats rollups to an anonymous '(erased)' row.

-- `erasure.completed` (metadata erasure, subject, decided_at, indices: the leaf indices it erases).
create function trailproof_erase_payloads(p_tenant text, p_record_seq bigint, p_actor_ids text[], p_target_type text, p_target_ids text[])
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

  -- Stats keep their counts, without the subject's ids or addresses.
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
  end if;
  if p_target_type is not null and cardinality(p_target_ids) > 0 then
    with moved as (
      delete from stat_target_rollups r where r.tenant_id = p_tenant and r.target_type = p_target_type and r.target_id = any(p_target_ids) returning r.*
    )
    insert into stat_target_rollups (tenant_id, target_type, target_id, hour, action, outcome, actor_id, events)
    select tenant_id, target_type, '(erased)', hour, action, outcome, actor_id, sum(events) from moved
    group by tenant_id, target_type, hour, action, outcome, actor_id
    on conflict (tenant_id, target_type, target_id, hour, action, outcome, actor_id) do update set events = stat_target_rollups.events + excluded.events;
  end if;
  return removed;
end $$;

revoke execute on function trailproof_erase_payloads(text, bigint, text[], text, text[]) from public;

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant execute on function trailproof_erase_payloads(text, bigint, text[], text, text[]) to trailproof_app;
  end if;
end $$;
