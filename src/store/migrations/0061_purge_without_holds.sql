-- Purges skip the per-event legal-hold check when no hold of the tenant is in force at the purge's
-- decision time: the check is a function call per event, and most tenants hold nothing. The rule
-- stays that of migration 0060 (trailproof_event_held decides whenever a hold is in force).

-- Whether any legal hold of the tenant is in force at `p_at`.
create function trailproof_holds_in_force(p_tenant text, p_at timestamptz) returns boolean
language sql stable set search_path = public as $$
  select exists (
    select 1 from legal_holds h
    where h.tenant_id = p_tenant and h.created_at <= p_at and (h.released_at is null or h.released_at > p_at))
$$;

create or replace function trailproof_purge_count(p_tenant text, p_from bigint, p_to bigint, p_cutoff timestamptz, p_decided timestamptz) returns bigint
language sql stable set search_path = public as $$
  select count(*) from events e
  where e.tenant_id = p_tenant and e.seq >= p_from and e.seq < p_to
    and e.occurred_at between (select min(occurred_at) from ledger_leaves where tenant_id = p_tenant and seq >= p_from and seq < p_to)
                          and (select max(occurred_at) from ledger_leaves where tenant_id = p_tenant and seq >= p_from and seq < p_to)
    and e.received_at < p_cutoff
    and not trailproof_lifecycle_record(e.action)
    and (not (select trailproof_holds_in_force(p_tenant, p_decided)) or not trailproof_event_held(e.tenant_id, e.occurred_at, e.seq, e.actor_id, p_decided))
$$;

create or replace function trailproof_remove_payloads(p_tenant text, p_record_seq bigint, p_from bigint, p_to bigint) returns bigint
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
  holds boolean;
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

  holds := trailproof_holds_in_force(p_tenant, decided);
  perform set_config('trailproof.removal', 'payloads', true);
  with gone as (
    delete from events e
    where e.tenant_id = p_tenant and e.occurred_at between first_at and last_at and e.seq >= lo and e.seq < hi
      and e.received_at < cutoff
      and not trailproof_lifecycle_record(e.action)
      and (not holds or not trailproof_event_held(e.tenant_id, e.occurred_at, e.seq, e.actor_id, decided))
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
