-- One row per customer: lifecycle phase and sub-stage as of the as-of day, the signal that put
-- the customer there, the recommended next action, and the milestones of the journey so far.
-- The next action respects consent (customer_consent, cx_pipeline/config/privacy.yml): it names
-- the first channel of consent.channels the customer allows and has a contact point for; a
-- customer we may reach on none is not contacted at all (consent.do_not_contact_action).
{%- set rules = consent_rules() %}

with customer_stages as (
    select * from {{ ref('int_lifecycle__customer_stages') }}
),

stages as (
    select * from {{ ref('dim_lifecycle_stages') }}
),

consent as (
    select * from {{ ref('customer_consent') }}
),

-- where we may reach each customer: the preferred permitted channel, if any
outreach as (
    select
        customer_id,
        min(channel_order) filter (where may_contact and has_contact_point) as best_channel_order,
        bool_or(has_contact_point or choices_recorded > 0) as has_contact_or_choice
    from consent
    group by customer_id
),

reach as (
    select
        outreach.customer_id,
        consent.channel as next_action_channel,
        case
            when consent.channel is not null then 'contactable'
            when outreach.has_contact_or_choice then 'do_not_contact'
            else 'no_contact_point'
        end as contact_status
    from outreach
    left join consent
        on consent.customer_id = outreach.customer_id
        and consent.channel_order = outreach.best_channel_order
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
        case when reach.contact_status = 'do_not_contact'
            then {{ sql_literal(rules.do_not_contact_action.en) }} else stages.next_action_en
        end as next_action_en,
        case when reach.contact_status = 'do_not_contact'
            then {{ sql_literal(rules.do_not_contact_action.ja) }} else stages.next_action_ja
        end as next_action_ja,
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
        entered.days_since_last_activity,
        -- consent: may we reach the customer, and where
        coalesce(reach.contact_status, 'no_contact_point') as contact_status,
        reach.next_action_channel
    from entered
    inner join stages
        on stages.sub_stage = entered.sub_stage
    left join reach
        on reach.customer_id = entered.customer_id
)

select * from final
