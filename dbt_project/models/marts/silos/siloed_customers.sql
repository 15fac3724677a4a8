-- Customers known to one department only: nobody else in the company can see them. Anonymous
-- web visitors are among them (marketing's cookies), and so is anyone identity resolution
-- could not connect.
with touchpoints as (
    select * from {{ ref('fct_touchpoints') }}
),

lifecycle as (
    select * from {{ ref('customer_lifecycle') }}
),

customers as (
    select
        customer_id,
        min(department) as department,
        array_to_string(list_sort(list_distinct(list(source))), ', ') as sources,
        array_to_string(list_sort(list_distinct(list(channel))), ', ') as channels,
        count(*) as touchpoints,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from touchpoints
    group by customer_id
    -- one department only
    having min(department) = max(department)
),

final as (
    select
        -- ids
        customers.customer_id,
        -- the one department
        customers.department,
        customers.sources,
        customers.channels,
        customers.touchpoints,
        -- lifecycle
        lifecycle.phase,
        lifecycle.sub_stage,
        -- timestamps
        customers.first_seen_at,
        customers.last_seen_at
    from customers
    left join lifecycle
        on lifecycle.customer_id = customers.customer_id
)

select * from final
