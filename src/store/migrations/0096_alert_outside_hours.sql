-- An alert rule's time-of-day condition (src/alert/outside-hours.ts): {timezone, days, start, end};
-- when set, the rule counts only events that happened outside those working hours.
alter table alert_rules add column outside_hours jsonb;

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant update (outside_hours) on alert_rules to trailproof_app;
  end if;
end $$;
