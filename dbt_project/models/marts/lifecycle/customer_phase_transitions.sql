-- Every change of phase or sub-stage the runs have recorded (customer_phase_history), with the
-- time spent in the previous one. A customer's first row has no previous phase: it is when the
-- runs first saw the customer.
with history as (
    select * from {{ ref('customer_phase_history') }}
),

stages as (
    select * from {{ ref('dim_lifecycle_stages') }}
),

paired as (
    select
        customer_id,
        lag(phase) over (partition by customer_id order by recorded_from) as from_phase,
        lag(sub_stage) over (partition by customer_id order by recorded_from) as from_sub_stage,
        lag(valid_from) over (partition by customer_id order by recorded_from) as from_valid_from,
        phase as to_phase,
        sub_stage as to_sub_stage,
        reason_code,
        valid_from as transitioned_on,
        history_id
    from history
),

final as (
    select
        -- ids
        paired.history_id as transition_id,
        paired.customer_id,
        -- from -> to
        paired.from_phase,
        paired.from_sub_stage,
        paired.to_phase,
        paired.to_sub_stage,
        paired.reason_code,
        coalesce(paired.from_phase <> paired.to_phase, true) as is_phase_change,
        case
            when paired.from_sub_stage is null then 'first_seen'
            when to_stage.stage_order > from_stage.stage_order then 'forward'
            else 'back'
        end as direction,
        -- time
        paired.transitioned_on,
        paired.transitioned_on - paired.from_valid_from as days_in_previous
    from paired
    left join stages as from_stage
        on from_stage.sub_stage = paired.from_sub_stage
    left join stages as to_stage
        on to_stage.sub_stage = paired.to_sub_stage
)

select * from final
