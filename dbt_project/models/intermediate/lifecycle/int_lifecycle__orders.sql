-- Every order up to the as-of day with its customer and what kind of purchase it is:
--   purchase  the customer's first order
--   renewal   an order on an anniversary of the first (expand.renewal_every_days, give or take
--             expand.renewal_tolerance_days)
--   upsell    any other order worth at least expand.upsell_min_share_of_first_order of the
--             customer's first order in the same currency
--   add_on    any other, smaller order
{%- set expand = lifecycle_rules().expand %}
with orders as (
    select * from {{ ref('stg_commerce__orders') }}
),

record_customers as (
    select * from {{ ref('int_lifecycle__record_customers') }}
    where source = 'orders'
),

as_of as (
    select * from {{ ref('int_lifecycle__as_of') }}
),

customer_orders as (
    select
        record_customers.customer_id,
        orders.source_record_id,
        orders.order_id,
        orders.ordered_at,
        orders.amount,
        orders.currency,
        orders.status
    from orders
    inner join record_customers
        on record_customers.source_record_id = orders.source_record_id
    cross join as_of
    where orders.ordered_at < as_of.as_of_end
),

numbered as (
    select
        *,
        row_number() over (partition by customer_id order by ordered_at, order_id) as order_number,
        -- days since the customer's first order, and the nearest anniversary of it
        epoch(ordered_at - min(ordered_at) over (partition by customer_id)) / 86400.0 as days_after_first_order,
        -- what an upsell is measured against: the contract it adds to, in its own currency
        first_value(amount) over (
            partition by customer_id, currency order by ordered_at, order_id
        ) as first_order_amount_in_currency
    from customer_orders
),

anniversaries as (
    select
        *,
        round(days_after_first_order / {{ expand.renewal_every_days }}) as nearest_anniversary
    from numbered
),

final as (
    select
        -- ids
        anniversaries.customer_id,
        anniversaries.source_record_id,
        anniversaries.order_id,
        -- order
        anniversaries.amount,
        anniversaries.currency,
        anniversaries.status,
        anniversaries.order_number,
        case
            when anniversaries.order_number = 1 then 'purchase'
            when anniversaries.nearest_anniversary >= 1
                and abs(anniversaries.days_after_first_order
                    - anniversaries.nearest_anniversary * {{ expand.renewal_every_days }})
                    <= {{ expand.renewal_tolerance_days }}
                then 'renewal'
            when anniversaries.amount
                >= {{ expand.upsell_min_share_of_first_order }} * anniversaries.first_order_amount_in_currency
                then 'upsell'
            else 'add_on'
        end as order_kind,
        -- timestamps
        anniversaries.ordered_at,
        {{ lifecycle_local_date('anniversaries.ordered_at') }} as ordered_on
    from anniversaries
)

select * from final
