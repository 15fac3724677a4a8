-- One row per customer: computed traits of the journey across every channel, as of the
-- lifecycle's as-of day. Touch counts per channel follow the registry's channel vocabulary
-- (cx_pipeline/ingest/registry.py CHANNELS); a new channel needs a new column here.
{%- set channels = ['web', 'app', 'email', 'crm', 'store', 'phone', 'chat', 'partner', 'survey'] %}
with touchpoints as (
    select * from {{ ref('int_lifecycle__touchpoints') }}
),

orders as (
    select * from {{ ref('int_lifecycle__orders') }}
),

signals as (
    select * from {{ ref('int_lifecycle__customer_signals') }}
),

touch_summary as (
    select
        customer_id,
        min(occurred_at) as first_touch_at,
        arg_min(channel, occurred_at) as first_channel,
        max(occurred_at) as last_touch_at,
        arg_max(channel, occurred_at) as last_channel,
        count(*) as touchpoints,
        {%- for channel in channels %}
        count(*) filter (where channel = '{{ channel }}') as touchpoints_{{ channel }},
        {%- endfor %}
        count(distinct channel) as channels_used,
        count(distinct department) as departments
    from touchpoints
    group by customer_id
),

-- the channel the customer acts in most (the company's own sends do not count); ties go to the
-- channel used last, then alphabetically
preferred as (
    select
        customer_id,
        channel as preferred_channel
    from touchpoints
    where is_activity
    group by customer_id, channel
    qualify row_number() over (
        partition by customer_id
        order by count(*) desc, max(occurred_at) desc, channel
    ) = 1
),

-- revenue in each currency (no exchange rates here); cancelled and refunded orders do not count
order_summary as (
    select
        customer_id,
        count(*) as orders,
        {%- for currency in ['JPY', 'USD', 'EUR'] %}
        coalesce(sum(amount) filter (
            where currency = '{{ currency }}' and status not in ('cancelled', 'refunded')
        ), 0) as revenue_{{ currency | lower }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from orders
    group by customer_id
),

final as (
    select
        -- ids
        touch_summary.customer_id,
        signals.as_of_date,
        -- first and last touch
        touch_summary.first_touch_at,
        touch_summary.first_channel,
        touch_summary.last_touch_at,
        touch_summary.last_channel,
        -- touches
        touch_summary.touchpoints,
        {%- for channel in channels %}
        touch_summary.touchpoints_{{ channel }},
        {%- endfor %}
        touch_summary.channels_used,
        touch_summary.departments,
        preferred.preferred_channel,
        -- commerce
        coalesce(order_summary.orders, 0) as orders,
        coalesce(order_summary.revenue_jpy, 0) as revenue_jpy,
        coalesce(order_summary.revenue_usd, 0) as revenue_usd,
        coalesce(order_summary.revenue_eur, 0) as revenue_eur,
        -- experience
        signals.support_cases,
        signals.csat_responses,
        signals.average_csat,
        signals.nps_answers,
        signals.average_nps_score,
        signals.latest_nps_score,
        -- recency
        signals.last_activity_on,
        signals.days_since_last_activity
    from touch_summary
    inner join signals
        on signals.customer_id = touch_summary.customer_id
    left join preferred
        on preferred.customer_id = touch_summary.customer_id
    left join order_summary
        on order_summary.customer_id = touch_summary.customer_id
)

select * from final
