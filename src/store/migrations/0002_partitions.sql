-- Monthly partitions for events and event_targets, created on demand before a batch is written.
-- Serialised by an advisory lock so concurrent server processes never race on CREATE TABLE.
create function ensure_event_partitions(p_months timestamptz[]) returns void
language plpgsql as $$
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
    end if;
  end loop;
end $$;
