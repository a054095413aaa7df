-- Every partition of events and event_targets refuses UPDATE, DELETE and TRUNCATE on its own
-- (docs/security.md). The row triggers of 0004 reach partitions (PostgreSQL clones row triggers of a
-- partitioned table onto each partition), but statement triggers fire only for statements naming
-- the partitioned table itself: `truncate events_y2026m05` passed them. So each partition gets its
-- own statement trigger: the ones that exist here, and every later one when it is created.
--
-- Every trigger of the trail calls trailproof_refuse_change(), the one place that decides, so the
-- lifecycle's sanctioned removal of payloads can be allowed there alone.

create function trailproof_guard_partition(p_partition regclass) returns void
language plpgsql as $$
begin
  execute format(
    'create or replace trigger partition_append_only before update or delete or truncate on %s for each statement execute function trailproof_refuse_change()',
    p_partition);
end $$;

do $$
declare p regclass;
begin
  for p in
    select i.inhrelid::regclass from pg_inherits i
    where i.inhparent in ('events'::regclass, 'event_targets'::regclass)
  loop
    perform trailproof_guard_partition(p);
  end loop;
end $$;

create or replace function ensure_event_partitions(p_months timestamptz[]) returns void
language plpgsql security definer set search_path = public as $$
declare
  m timestamptz;
  suffix text;
begin
  perform pg_advisory_xact_lock(hashtext('trailproof.partitions'));
  foreach m in array p_months loop
    m := date_trunc('month', m, 'UTC');
    suffix := to_char(m at time zone 'UTC', '"y"YYYY"m"MM');
    if to_regclass('events_' || suffix) is null then
      execute format('create table %I partition of events for values from (%L) to (%L)',
        'events_' || suffix, m, m + interval '1 month');
      execute format('create table %I partition of event_targets for values from (%L) to (%L)',
        'event_targets_' || suffix, m, m + interval '1 month');
      perform trailproof_guard_partition(('events_' || suffix)::regclass);
      perform trailproof_guard_partition(('event_targets_' || suffix)::regclass);
    end if;
  end loop;
end $$;
