-- One row per customer: every signal the phase rules read, as of the as-of day. Each threshold is
-- applied once, where its evidence is read: successful use day (int_lifecycle__usage_days),
-- upsell share and renewals (int_lifecycle__orders), low CSAT and unresolved severe cases (here),
-- days and NPS (int_lifecycle__customer_stages).
{%- set rules = lifecycle_rules() %}
with touchpoints as (
    select * from {{ ref('int_lifecycle__touchpoints') }}
),

orders as (
    select * from {{ ref('int_lifecycle__orders') }}
),

usage_days as (
    select * from {{ ref('int_lifecycle__usage_days') }}
),

record_customers as (
    select * from {{ ref('int_lifecycle__record_customers') }}
),

crm_contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

support_cases as (
    select * from {{ ref('stg_service__cases') }}
),

survey_responses as (
    select * from {{ ref('stg_survey__responses') }}
),

as_of as (
    select * from {{ ref('int_lifecycle__as_of') }}
),

-- what the timeline says: first touch, identification, activity, customer-only sources
timeline as (
    select
        customer_id,
        min(occurred_on) as first_touch_on,
        min(occurred_on) filter (where not is_anonymous) as identified_on,
        arg_min(source, occurred_at) filter (where not is_anonymous) as identified_by_source,
        count(*) filter (where is_anonymous) as anonymous_touchpoints,
        max(occurred_on) filter (where is_activity) as last_activity_on,
        min(occurred_on) filter (where is_evaluating) as evaluating_touch_on,
        arg_min(touchpoint_type, occurred_at) filter (where is_evaluating) as evaluating_touch_type,
        min(occurred_on) filter (where is_customer_only_source) as customer_only_first_on,
        arg_min(source, occurred_at) filter (where is_customer_only_source) as customer_only_first_source
    from touchpoints
    group by customer_id
),

-- what sales recorded; a record's stage counts only if its last update is on or before the day
crm as (
    select
        record_customers.customer_id,
        crm_contacts.stage,
        coalesce(crm_contacts.updated_at, crm_contacts.created_at) < as_of.as_of_end as is_stage_known,
        {{ lifecycle_local_date('coalesce(crm_contacts.updated_at, crm_contacts.created_at)') }} as updated_on,
        case when crm_contacts.opportunity_created_at <= as_of.as_of_date
            then crm_contacts.opportunity_created_at end as opportunity_on,
        case when crm_contacts.contract_signed_at <= as_of.as_of_date
            then crm_contacts.contract_signed_at end as contract_on
    from crm_contacts
    inner join record_customers
        on record_customers.source = 'crm_contacts'
        and record_customers.source_record_id = crm_contacts.source_record_id
    cross join as_of
    where crm_contacts.created_at < as_of.as_of_end
),

crm_summary as (
    select
        customer_id,
        bool_or(is_stage_known) as crm_stage_known,
        bool_or(is_stage_known and stage in {{ sql_strings(rules.purchase.engaged_crm_stages) }}) as crm_engaged,
        bool_or(is_stage_known and stage in {{ sql_strings(rules.purchase.evaluating_crm_stages) }}) as crm_evaluating,
        min(updated_on) filter (
            where is_stage_known and stage in {{ sql_strings(rules.use.purchased_crm_stages) }}
        ) as crm_purchased_on,
        min(updated_on) filter (
            where is_stage_known and stage in {{ sql_strings(rules.lapsed.churned_crm_stages) }}
        ) as crm_churned_on,
        min(opportunity_on) as crm_opportunity_on,
        min(contract_on) as crm_contract_on
    from crm
    group by customer_id
),

usage_summary as (
    select
        customer_id,
        count(*) as usage_days,
        min(usage_date) filter (where is_successful_use) as first_successful_use_on
    from usage_days
    group by customer_id
),

nps as (
    select
        record_customers.customer_id,
        survey_responses.nps_score,
        survey_responses.responded_at,
        {{ lifecycle_local_date('survey_responses.responded_at') }} as responded_on
    from survey_responses
    inner join record_customers
        on record_customers.source = 'surveys'
        and record_customers.source_record_id = survey_responses.source_record_id
    cross join as_of
    where survey_responses.responded_at < as_of.as_of_end
),

nps_summary as (
    select
        customer_id,
        count(*) as nps_answers,
        min(responded_on) as first_nps_on,
        avg(nps_score) as average_nps_score,
        arg_max(nps_score, responded_at) as latest_nps_score,
        max(responded_on) as latest_nps_on
    from nps
    group by customer_id
),

-- a CSAT score is known once the case is closed; a case closed after the as-of day was still open
{%- set at_risk = rules.use.at_risk %}
cases as (
    select
        record_customers.customer_id,
        support_cases.csat,
        support_cases.severity,
        case when support_cases.closed_at < as_of.as_of_end then support_cases.csat end as known_csat,
        {{ lifecycle_local_date('support_cases.opened_at') }} as opened_on,
        {{ lifecycle_local_date('support_cases.closed_at') }} as closed_on,
        coalesce(support_cases.closed_at >= as_of.as_of_end, support_cases.status <> 'closed', false) as is_open,
        as_of.as_of_date
    from support_cases
    inner join record_customers
        on record_customers.source = 'support_cases'
        and record_customers.source_record_id = support_cases.source_record_id
    cross join as_of
    where support_cases.opened_at < as_of.as_of_end
),

case_flags as (
    select
        *,
        known_csat <= {{ at_risk.low_csat_at_most }} as is_low_csat,
        is_open
            and severity in {{ sql_strings(at_risk.severe_case_severities) }}
            and opened_on <= as_of_date - {{ at_risk.severe_case_open_days }} as is_unresolved_severe
    from cases
),

case_summary as (
    select
        customer_id,
        count(*) as support_cases,
        count(*) filter (where is_low_csat) as low_csat_cases,
        count(*) filter (
            where is_low_csat and closed_on > as_of_date - {{ at_risk.low_csat_within_days }}
        ) as recent_low_csat_cases,
        count(known_csat) as csat_responses,
        avg(known_csat) as average_csat,
        min(known_csat) as lowest_csat,
        max(closed_on) filter (where is_low_csat) as last_low_csat_on,
        count(*) filter (where is_unresolved_severe) as unresolved_severe_cases,
        min(opened_on) filter (where is_unresolved_severe) as oldest_unresolved_severe_on
    from case_flags
    group by customer_id
),

order_summary as (
    select
        customer_id,
        count(*) as orders,
        min(ordered_on) as first_order_on,
        max(ordered_on) as last_order_on,
        min(ordered_on) filter (where order_kind = 'upsell') as first_upsell_order_on
    from orders
    group by customer_id
),

-- successful use: the first successful usage day, or an NPS answer (sent to successful users).
-- Where the usage log holds nothing for the customer (a login identity resolution could not
-- connect), an upsell is the evidence: customers buy more of what works for them.
success as (
    select
        timeline.customer_id,
        least(
            usage_summary.first_successful_use_on,
            nps_summary.first_nps_on,
            case when usage_summary.usage_days is null then order_summary.first_upsell_order_on end
        ) as succeeded_on
    from timeline
    left join usage_summary using (customer_id)
    left join nps_summary using (customer_id)
    left join order_summary using (customer_id)
),

-- an upsell counts for expansion once the customer has succeeded with the product
upsells as (
    select
        orders.customer_id,
        min(orders.ordered_on) as first_upsell_on
    from orders
    inner join success
        on success.customer_id = orders.customer_id
        and orders.ordered_on >= success.succeeded_on
    where orders.order_kind = 'upsell'
    group by orders.customer_id
),

final as (
    select
        -- ids
        timeline.customer_id,
        as_of.as_of_date,
        -- purchase phase
        timeline.first_touch_on,
        timeline.identified_on,
        timeline.identified_by_source,
        timeline.anonymous_touchpoints,
        coalesce(crm_summary.crm_stage_known, false) as crm_stage_known,
        coalesce(crm_summary.crm_engaged, false) as crm_engaged,
        coalesce(crm_summary.crm_evaluating, false) as crm_evaluating,
        crm_summary.crm_opportunity_on,
        timeline.evaluating_touch_on,
        timeline.evaluating_touch_type,
        -- use phase
        crm_summary.crm_purchased_on,
        crm_summary.crm_contract_on,
        order_summary.first_order_on,
        timeline.customer_only_first_on,
        timeline.customer_only_first_source,
        coalesce(usage_summary.usage_days, 0) as usage_days,
        usage_summary.first_successful_use_on,
        success.succeeded_on,
        coalesce(case_summary.support_cases, 0) as support_cases,
        coalesce(case_summary.low_csat_cases, 0) as low_csat_cases,
        coalesce(case_summary.recent_low_csat_cases, 0) as recent_low_csat_cases,
        coalesce(case_summary.csat_responses, 0) as csat_responses,
        case_summary.average_csat,
        case_summary.lowest_csat,
        case_summary.last_low_csat_on,
        coalesce(case_summary.unresolved_severe_cases, 0) as unresolved_severe_cases,
        case_summary.oldest_unresolved_severe_on,
        -- expand phase
        coalesce(nps_summary.nps_answers, 0) as nps_answers,
        nps_summary.first_nps_on,
        nps_summary.average_nps_score,
        nps_summary.latest_nps_score,
        nps_summary.latest_nps_on,
        coalesce(order_summary.orders, 0) as orders,
        upsells.first_upsell_on,
        -- lapse
        crm_summary.crm_churned_on,
        order_summary.last_order_on,
        timeline.last_activity_on,
        -- day counts
        as_of.as_of_date - timeline.last_activity_on as days_since_last_activity,
        as_of.as_of_date - order_summary.last_order_on as days_since_last_order,
        as_of.as_of_date - success.succeeded_on as days_since_success
    from timeline
    cross join as_of
    left join crm_summary using (customer_id)
    left join order_summary using (customer_id)
    left join usage_summary using (customer_id)
    left join nps_summary using (customer_id)
    left join case_summary using (customer_id)
    left join success using (customer_id)
    left join upsells using (customer_id)
)

select * from final
