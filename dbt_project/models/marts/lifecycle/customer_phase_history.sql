-- The phase history of every customer across pipeline runs (SCD type 2, from the dbt snapshot
-- customer_lifecycle_snapshot): one row per stretch of time in a phase and sub-stage.
-- valid_from and valid_to are as-of days, the business calendar the runs judged.
with snapshot as (
    select * from {{ ref('customer_lifecycle_snapshot') }}
),

as_of as (
    select * from {{ ref('int_lifecycle__as_of') }}
),

ordered as (
    select
        *,
        lead(as_of_date) over (partition by customer_id order by dbt_valid_from) as next_as_of_date,
        lag(phase) over (partition by customer_id order by dbt_valid_from) as previous_phase
    from snapshot
),

-- consecutive rows in the same phase form one stretch of time in that phase
phase_runs as (
    select
        *,
        sum(case when previous_phase is distinct from phase then 1 else 0 end)
            over (partition by customer_id order by dbt_valid_from rows unbounded preceding) as phase_run
    from ordered
),

final as (
    select
        -- ids
        phase_runs.dbt_scd_id as history_id,
        phase_runs.customer_id,
        -- lifecycle
        phase_runs.phase,
        phase_runs.sub_stage,
        phase_runs.reason_code,
        -- validity, in as-of days
        phase_runs.as_of_date as valid_from,
        phase_runs.next_as_of_date as valid_to,
        phase_runs.dbt_valid_to is null as is_current,
        coalesce(phase_runs.next_as_of_date, as_of.as_of_date) - phase_runs.as_of_date as days_in_sub_stage,
        min(phase_runs.as_of_date) over (partition by phase_runs.customer_id, phase_runs.phase_run) as phase_since,
        coalesce(phase_runs.next_as_of_date, as_of.as_of_date)
            - min(phase_runs.as_of_date) over (partition by phase_runs.customer_id, phase_runs.phase_run) as days_in_phase,
        -- when the runs recorded it (wall clock)
        phase_runs.dbt_valid_from as recorded_from,
        phase_runs.dbt_valid_to as recorded_to
    from phase_runs
    cross join as_of
)

select * from final
