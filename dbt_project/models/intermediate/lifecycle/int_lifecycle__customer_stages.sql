-- Each customer's lifecycle sub-stage and phase as of the as-of day, the signal that decided it
-- (reason_code, reason) and the day the current phase began. The rules are checked from the
-- last sub-stage back to the first; the first that holds wins (cx_pipeline/config/lifecycle.yml,
-- explained in docs/lifecycle.md).
{%- set rules = lifecycle_rules() %}
with signals as (
    select * from {{ ref('int_lifecycle__customer_signals') }}
),

-- which phase each sub-stage belongs to (dbt_project/seeds/lifecycle/lifecycle_stages.csv)
stages as (
    select * from {{ ref('lifecycle_stages') }}
),

facts as (
    select
        *,
        least(first_order_on, crm_contract_on, customer_only_first_on, crm_purchased_on) as purchased_on,
        least(crm_opportunity_on, evaluating_touch_on) as evaluating_on,
        coalesce(latest_nps_score >= {{ rules.expand.promoter_nps_at_least }}, false) as is_promoter
    from signals
),

evidence as (
    select
        *,
        purchased_on is not null as is_purchased,
        crm_evaluating or evaluating_on is not null as is_evaluating,
        -- no CRM stage to go by: lapsed when quiet and without an order (so without a renewal)
        coalesce(
            not crm_stage_known
            and days_since_last_activity >= {{ rules.lapsed.inactive_days }}
            and days_since_last_order >= {{ rules.lapsed.no_order_days }},
            false
        ) as is_inactive_without_order
    from facts
),

staged as (
    select
        *,
        case
            when is_purchased and (crm_churned_on is not null or is_inactive_without_order) then 'lapsed'
            when is_purchased and succeeded_on is not null
                and days_since_success >= {{ rules.use.at_risk.min_days_since_first_success }}
                and days_since_last_activity >= {{ rules.use.at_risk.min_days_inactive }}
                and (unresolved_severe_cases > 0 or recent_low_csat_cases > 0)
                then 'at_risk'
            when is_purchased and succeeded_on is not null and is_promoter then 'advocate'
            when is_purchased and succeeded_on is not null and first_upsell_on is not null then 'growing'
            when is_purchased and succeeded_on is not null then 'adopting'
            when is_purchased then 'onboarding'
            when is_evaluating then 'evaluating'
            when crm_engaged then 'engaged'
            when identified_on is not null then 'known_lead'
            else 'anonymous_visitor'
        end as sub_stage
    from evidence
),

-- which signal decided it
coded as (
    select
        *,
        case sub_stage
            when 'lapsed' then case when crm_churned_on is not null then 'crm_churned' else 'inactive_without_order' end
            when 'at_risk' then
                case when unresolved_severe_cases > 0 then 'severe_case_unresolved' else 'low_csat_then_quiet' end
            when 'advocate' then 'promoter_nps'
            when 'growing' then 'upsell_after_success'
            when 'adopting' then
                case when first_successful_use_on = succeeded_on then 'successful_use_day' else 'nps_answered' end
            when 'onboarding' then
                case purchased_on
                    when first_order_on then 'first_order'
                    when crm_contract_on then 'contract_signed'
                    when customer_only_first_on then 'customer_only_source'
                    else 'crm_customer_stage'
                end
            when 'evaluating' then
                case
                    when crm_opportunity_on is not null and crm_opportunity_on = evaluating_on then 'crm_opportunity'
                    when evaluating_touch_on is not null and evaluating_touch_on = evaluating_on then 'evaluating_touchpoint'
                    else 'crm_evaluating_stage'
                end
            when 'engaged' then 'crm_engaged_stage'
            when 'known_lead' then 'identified'
            else 'anonymous_touchpoints_only'
        end as reason_code
    from staged
),

-- the same in words, with the values that decided it
explained as (
    select
        *,
        case reason_code
            when 'crm_churned' then 'the CRM marks the customer churned (recorded ' || crm_churned_on || ')'
            when 'inactive_without_order' then
                'no activity for ' || days_since_last_activity || ' days and no order for '
                || days_since_last_order || ' days; the CRM holds no stage'
            when 'severe_case_unresolved' then
                unresolved_severe_cases || ' severe support case(s) unresolved (the oldest opened '
                || oldest_unresolved_severe_on || '), no activity for ' || days_since_last_activity || ' days'
            when 'low_csat_then_quiet' then
                recent_low_csat_cases || ' recent support case(s) rated {{ rules.use.at_risk.low_csat_at_most }} or lower (lowest '
                || lowest_csat || ', last closed ' || last_low_csat_on || '), no activity for '
                || days_since_last_activity || ' days'
            when 'promoter_nps' then 'latest NPS answer ' || latest_nps_score || ' on ' || latest_nps_on
            when 'upsell_after_success' then
                'upsell order on ' || first_upsell_on || ' after successful use since ' || succeeded_on
            when 'successful_use_day' then 'first day of successful use ' || succeeded_on
            when 'nps_answered' then 'answered the NPS survey on ' || first_nps_on
            when 'first_order' then 'first order on ' || purchased_on || ', no day of successful use yet'
            when 'contract_signed' then 'contract signed on ' || purchased_on || ', no day of successful use yet'
            when 'customer_only_source' then
                'first ' || customer_only_first_source || ' record on ' || purchased_on || ', no day of successful use yet'
            when 'crm_customer_stage' then 'the CRM marks a purchase, no day of successful use yet'
            when 'crm_opportunity' then 'CRM opportunity since ' || evaluating_on
            when 'evaluating_touchpoint' then evaluating_touch_type || ' on ' || evaluating_on
            when 'crm_evaluating_stage' then 'the CRM marks the lead sales-qualified'
            when 'crm_engaged_stage' then 'the CRM marks the lead marketing-qualified'
            when 'identified' then 'identified by ' || identified_by_source || ' on ' || identified_on
            else anonymous_touchpoints || ' anonymous touchpoint(s), nothing that says who they are'
        end as reason
    from coded
),

final as (
    select
        -- ids
        explained.customer_id,
        explained.as_of_date,
        -- lifecycle
        stages.phase,
        explained.sub_stage,
        explained.reason_code,
        explained.reason,
        -- milestones
        explained.first_touch_on,
        explained.identified_on,
        explained.evaluating_on,
        explained.purchased_on,
        explained.succeeded_on,
        -- the first sign of expansion, whatever the phase is now (an at-risk customer may have grown)
        case when explained.is_purchased and explained.succeeded_on is not null then
            least(explained.first_upsell_on, case when explained.is_promoter then explained.latest_nps_on end)
        end as expanded_on,
        case when stages.phase = 'lapsed' then
            coalesce(explained.crm_churned_on, explained.last_activity_on + {{ rules.lapsed.inactive_days }})
        end as lapsed_on,
        explained.last_activity_on,
        explained.days_since_last_activity
    from explained
    -- left join: a sub-stage missing from the seed leaves phase null and fails its not_null test
    left join stages
        on stages.sub_stage = explained.sub_stage
)

select * from final
