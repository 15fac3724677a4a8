-- The channel x department matrix: of the customers who used a channel, how many each
-- department knows. A low rate off the diagonal is a silo: the department cannot see them.
with touchpoints as (
    select * from {{ ref('fct_touchpoints') }}
),

customer_channels as (
    select distinct customer_id, channel from touchpoints
),

customer_departments as (
    select distinct customer_id, department from touchpoints
),

grid as (
    select channels.channel, departments.department
    from (select distinct channel from touchpoints) as channels
    cross join (select distinct department from touchpoints) as departments
),

channel_customers as (
    select
        channel,
        count(*) as customers_in_channel
    from customer_channels
    group by channel
),

overlap as (
    select
        customer_channels.channel,
        customer_departments.department,
        count(*) as customers_known_to_department
    from customer_channels
    inner join customer_departments
        on customer_departments.customer_id = customer_channels.customer_id
    group by customer_channels.channel, customer_departments.department
),

final as (
    select
        grid.channel,
        grid.department,
        channel_customers.customers_in_channel,
        coalesce(overlap.customers_known_to_department, 0) as customers_known_to_department,
        coalesce(overlap.customers_known_to_department, 0) / channel_customers.customers_in_channel as coverage_rate
    from grid
    inner join channel_customers
        on channel_customers.channel = grid.channel
    left join overlap
        on overlap.channel = grid.channel
        and overlap.department = grid.department
)

select * from final
