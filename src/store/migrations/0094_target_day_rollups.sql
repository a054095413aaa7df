-- Per target and day (UTC): the actors that acted on it and the day's totals, so "who accessed
-- target X, by day, over two years" reads one row per day and one probe per actor rather than every
-- hour's rollups. Kept by the rollup follower in the transaction that moves its cursor (src/stats/rollups.ts).
create table stat_target_day_actors (
  tenant_id    text not null,
  target_type  text not null,
  target_id    text not null,
  day          date not null,
  actor_id     text not null,
  events       bigint not null check (events > 0),
  primary key (tenant_id, target_type, target_id, day, actor_id)
);
-- Distinct actors over a window: one probe per actor of the target (src/stats/target-days.ts).
create index stat_target_day_actors_actor on stat_target_day_actors (tenant_id, target_type, target_id, actor_id, day);

create table stat_target_days (
  tenant_id    text not null,
  target_type  text not null,
  target_id    text not null,
  day          date not null,
  events       bigint not null check (events > 0),
  -- Distinct actors that day: the day's rows in stat_target_day_actors.
  actors       bigint not null check (actors >= 0),
  primary key (tenant_id, target_type, target_id, day)
);

-- The hourly target rollups already hold every event the follower has passed: start from them.
insert into stat_target_day_actors (tenant_id, target_type, target_id, day, actor_id, events)
select tenant_id, target_type, target_id, (hour at time zone 'UTC')::date, actor_id, sum(events)
from stat_target_rollups group by 1, 2, 3, 4, 5;
insert into stat_target_days (tenant_id, target_type, target_id, day, events, actors)
select tenant_id, target_type, target_id, day, sum(events), count(*)
from stat_target_day_actors group by 1, 2, 3, 4;

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant select, insert, update (events) on stat_target_day_actors to trailproof_app;
    grant select, insert, update (events, actors) on stat_target_days to trailproof_app;
  end if;
end $$;
