-- Every touchpoint up to the end of the as-of day, with the customer it belongs to and what it
-- tells the lifecycle rules (cx_pipeline/config/lifecycle.yml).
{%- set rules = lifecycle_rules() %}
with touchpoints as (
    select * from {{ ref('fct_touchpoints') }}
),

record_customers as (
    select * from {{ ref('int_lifecycle__record_customers') }}
),

as_of as (
    select * from {{ ref('int_lifecycle__as_of') }}
),

final as (
    select
        -- ids
        record_customers.customer_id,
        touchpoints.source,
        touchpoints.source_record_id,
        -- classification
        touchpoints.department,
        touchpoints.channel,
        touchpoints.touchpoint_type,
        -- timestamps
        touchpoints.occurred_at,
        {{ lifecycle_local_date('touchpoints.occurred_at') }} as occurred_on,
        -- what it tells
        not {{ touchpoint_is(rules.not_activity, 'touchpoints.source', 'touchpoints.touchpoint_type') }} as is_activity,
        {{ touchpoint_is(rules.purchase.anonymous_touchpoints, 'touchpoints.source', 'touchpoints.touchpoint_type') }} as is_anonymous,
        {{ touchpoint_is(rules.purchase.evaluating_touchpoints, 'touchpoints.source', 'touchpoints.touchpoint_type') }} as is_evaluating,
        touchpoints.source in {{ sql_strings(rules.use.customer_only_sources) }} as is_customer_only_source
    from touchpoints
    inner join record_customers
        on record_customers.source = touchpoints.source
        and record_customers.source_record_id = touchpoints.source_record_id
    cross join as_of
    where touchpoints.occurred_at < as_of.as_of_end
)

select * from final
