-- The lifecycle as a funnel, as of the as-of day: how many customers reached each milestone, the
-- conversion from the milestone before, and the median days it took. Reaching a later milestone
-- counts as having passed the earlier ones, even where the data holds no date for them.
with customers as (
    select * from {{ ref('customer_lifecycle') }}
),

-- each customer's furthest milestone, and the days between consecutive dated milestones
journeys as (
    select
        as_of_date,
        case
            when expanded_on is not null then 6
            when first_value_on is not null then 5
            when purchased_on is not null then 4
            when evaluating_on is not null then 3
            when identified_on is not null then 2
            else 1
        end as furthest_step,
        identified_on - first_touch_on as days_to_identified,
        evaluating_on - identified_on as days_to_evaluating,
        purchased_on - evaluating_on as days_to_purchased,
        first_value_on - purchased_on as days_to_first_value,
        expanded_on - first_value_on as days_to_expanded
    from customers
),

totals as (
    select
        max(as_of_date) as as_of_date,
        {%- for step in range(1, 7) %}
        count(*) filter (where furthest_step >= {{ step }}) as reached_{{ step }},
        {%- endfor %}
        median(days_to_identified) as median_days_2,
        median(days_to_evaluating) as median_days_3,
        median(days_to_purchased) as median_days_4,
        median(days_to_first_value) as median_days_5,
        median(days_to_expanded) as median_days_6
    from journeys
),

steps as (
    {%- set steps = [('first_touch', 'purchase'), ('identified', 'purchase'), ('evaluating', 'purchase'),
                     ('purchased', 'use'), ('first_value', 'use'), ('expanded', 'expand')] %}
    {%- for step, phase in steps %}
    {%- set n = loop.index %}
    select
        {{ n }} as step_order,
        '{{ step }}' as step,
        '{{ phase }}' as phase,
        as_of_date,
        reached_{{ n }} as customers_reached,
        {% if n > 1 %}reached_{{ n }} / nullif(reached_{{ n - 1 }}, 0){% else %}null{% endif %} as conversion_from_previous,
        reached_{{ n }} / nullif(reached_1, 0) as conversion_from_first,
        {% if n > 1 %}cast(median_days_{{ n }} as double){% else %}null{% endif %} as median_days_from_previous
    from totals
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        cast(step_order as integer) as step_order,
        step,
        phase,
        as_of_date,
        customers_reached,
        cast(conversion_from_previous as double) as conversion_from_previous,
        cast(conversion_from_first as double) as conversion_from_first,
        cast(median_days_from_previous as double) as median_days_from_previous
    from steps
)

select * from final
