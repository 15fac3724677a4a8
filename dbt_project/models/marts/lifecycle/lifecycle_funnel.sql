-- The lifecycle as a funnel, as of the as-of day: how many customers reached each milestone, the
-- conversion from the milestone before, and the median days it took. Reaching a later milestone
-- counts as having passed the earlier ones, even where the data holds no date for them.
with customers as (
    select * from {{ ref('customer_lifecycle') }}
),

steps as (
    select * from (values
        (1, 'first_touch', 'purchase'),
        (2, 'identified', 'purchase'),
        (3, 'evaluating', 'purchase'),
        (4, 'purchased', 'use'),
        (5, 'first_value', 'use'),
        (6, 'expanded', 'expand')
    ) as steps (step_order, step, phase)
),

milestones as (
    select customer_id, 1 as step_order, first_touch_on as reached_on from customers
    union all
    select customer_id, 2 as step_order, identified_on as reached_on from customers
    union all
    select customer_id, 3 as step_order, evaluating_on as reached_on from customers
    union all
    select customer_id, 4 as step_order, purchased_on as reached_on from customers
    union all
    select customer_id, 5 as step_order, first_value_on as reached_on from customers
    union all
    select customer_id, 6 as step_order, expanded_on as reached_on from customers
),

furthest as (
    select
        customer_id,
        max(step_order) filter (where reached_on is not null) as furthest_step
    from milestones
    group by customer_id
),

reached as (
    select
        steps.step_order,
        count(*) filter (where furthest.furthest_step >= steps.step_order) as customers_reached
    from steps
    cross join furthest
    group by steps.step_order
),

-- days from the milestone before, where both are dated
durations as (
    select
        milestones.step_order,
        median(milestones.reached_on - previous.reached_on) as median_days_from_previous
    from milestones
    inner join milestones as previous
        on previous.customer_id = milestones.customer_id
        and previous.step_order = milestones.step_order - 1
    where milestones.reached_on is not null
        and previous.reached_on is not null
    group by milestones.step_order
),

final as (
    select
        -- step
        steps.step_order,
        steps.step,
        steps.phase,
        (select max(as_of_date) from customers) as as_of_date,
        -- conversion
        reached.customers_reached,
        reached.customers_reached
            / nullif(lag(reached.customers_reached) over (order by steps.step_order), 0) as conversion_from_previous,
        reached.customers_reached
            / nullif(first_value(reached.customers_reached) over (order by steps.step_order), 0) as conversion_from_first,
        -- time
        cast(durations.median_days_from_previous as double) as median_days_from_previous
    from steps
    inner join reached
        on reached.step_order = steps.step_order
    left join durations
        on durations.step_order = steps.step_order
)

select * from final
