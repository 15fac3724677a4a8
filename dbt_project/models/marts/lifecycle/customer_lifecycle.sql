-- One row per customer: lifecycle phase and sub-stage as of the as-of day, the signal that put
-- the customer there, the recommended next action, and the milestones of the journey so far.
with customer_stages as (
    select * from {{ ref('int_lifecycle__customer_stages') }}
),

stages as (
    select * from {{ ref('dim_lifecycle_stages') }}
),

-- the day the current phase began: its milestone
entered as (
    select
        *,
        case phase
            when 'purchase' then first_touch_on
            when 'use' then purchased_on
            when 'expand' then expanded_on
            when 'lapsed' then lapsed_on
        end as phase_entered_on
    from customer_stages
),

final as (
    select
        -- ids
        entered.customer_id,
        entered.as_of_date,
        -- lifecycle
        entered.phase,
        stages.phase_label_en,
        stages.phase_label_ja,
        entered.sub_stage,
        stages.stage_label_en as sub_stage_label_en,
        stages.stage_label_ja as sub_stage_label_ja,
        entered.reason_code,
        entered.reason,
        stages.next_action_en,
        stages.next_action_ja,
        -- time in phase
        entered.phase_entered_on,
        entered.as_of_date - entered.phase_entered_on as days_in_phase,
        -- milestones
        entered.first_touch_on,
        entered.identified_on,
        entered.evaluating_on,
        entered.purchased_on,
        entered.succeeded_on as first_value_on,
        entered.expanded_on,
        entered.lapsed_on,
        entered.last_activity_on,
        entered.days_since_last_activity
    from entered
    inner join stages
        on stages.sub_stage = entered.sub_stage
)

select * from final
