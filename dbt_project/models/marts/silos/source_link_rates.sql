-- Per source: how much of it is connected to the rest of the company. A record is linked when its
-- customer is also known to another department than the one that owns the source.
with touchpoints as (
    select * from {{ ref('fct_touchpoints') }}
),

customer_departments as (
    select
        customer_id,
        count(distinct department) as departments
    from touchpoints
    group by customer_id
),

records as (
    select
        touchpoints.source,
        touchpoints.department,
        touchpoints.channel,
        touchpoints.customer_id,
        customer_departments.departments > 1 as is_linked
    from touchpoints
    inner join customer_departments
        on customer_departments.customer_id = touchpoints.customer_id
),

final as (
    select
        -- source
        source,
        any_value(department) as department,
        any_value(channel) as channel,
        -- records
        count(*) as records,
        count(*) filter (where is_linked) as linked_records,
        count(*) filter (where is_linked) / count(*) as link_rate,
        -- customers
        count(distinct customer_id) as customers,
        count(distinct customer_id) filter (where is_linked) as linked_customers
    from records
    group by source
)

select * from final
