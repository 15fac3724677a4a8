-- Every product usage day up to the as-of day with its customer, and whether it was a day of
-- successful use (use.successful_use_day in cx_pipeline/config/lifecycle.yml).
{%- set success = lifecycle_rules().use.successful_use_day %}
with usage as (
    select * from {{ ref('stg_product__usage') }}
),

record_customers as (
    select * from {{ ref('int_lifecycle__record_customers') }}
    where source = 'product_usage'
),

as_of as (
    select * from {{ ref('int_lifecycle__as_of') }}
),

final as (
    select
        -- ids
        record_customers.customer_id,
        usage.source_record_id,
        -- usage
        usage.usage_date,
        usage.active_minutes,
        usage.feature_events,
        coalesce(
            usage.active_minutes >= {{ success.min_active_minutes }}
            and usage.feature_events >= {{ success.min_feature_events }},
            false
        ) as is_successful_use
    from usage
    inner join record_customers
        on record_customers.source_record_id = usage.source_record_id
    cross join as_of
    where usage.usage_date <= as_of.as_of_date
)

select * from final
