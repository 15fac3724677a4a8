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
        any_value(department) as department,
        string_agg(distinct source, ', ' order by source) as sources,
        string_agg(distinct channel, ', ' order by channel) as channels,
        count(*) as touchpoints,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from touchpoints
    group by customer_id
    having count(distinct department) = 1
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
