-- CX KPIs by lifecycle phase and channel, as of the as-of day. A row is a phase (or `all`) and a
-- channel (or `all`); its customers are those who used that channel. Two cohorts per row:
--   in phase:      customers in the phase now: NPS, CSAT and time to first value are theirs;
--   entered phase: customers who ever reached the phase: conversion to the next phase
--                  (purchase -> use -> expand) is theirs. Expand and lapsed have no next phase.
with lifecycle as (
    select * from {{ ref('customer_lifecycle') }}
),

traits as (
    select * from {{ ref('customer_traits') }}
),

touchpoints as (
    select * from {{ ref('int_lifecycle__touchpoints') }}
),

phases as (
    select phase from {{ ref('lifecycle_phases') }}
    union all
    select 'all' as phase
),

customer_channels as (
    select distinct customer_id, channel from touchpoints
    union all
    select customer_id, 'all' as channel from lifecycle
),

channel_touchpoints as (
    select customer_id, channel, count(*) as touchpoints from touchpoints group by customer_id, channel
    union all
    select customer_id, 'all' as channel, count(*) as touchpoints from touchpoints group by customer_id
),

customers as (
    select
        lifecycle.customer_id,
        lifecycle.phase,
        lifecycle.first_touch_on,
        lifecycle.purchased_on,
        lifecycle.first_value_on,
        lifecycle.expanded_on,
        traits.latest_nps_score,
        traits.csat_responses,
        traits.average_csat
    from lifecycle
    inner join traits
        on traits.customer_id = lifecycle.customer_id
),

-- each customer counts in its phase and in `all`
in_phase as (
    select
        phases.phase,
        customer_channels.channel,
        count(*) as customers_in_phase,
        cast(sum(coalesce(channel_touchpoints.touchpoints, 0)) as bigint) as touchpoints,
        count(customers.latest_nps_score) as nps_respondents,
        -- NPS as the survey defines it: promoters (9-10) minus detractors (0-6), in points
        100.0 * (count(*) filter (where customers.latest_nps_score >= 9)
            - count(*) filter (where customers.latest_nps_score <= 6))
            / nullif(count(customers.latest_nps_score), 0) as nps,
        cast(sum(customers.csat_responses) as bigint) as csat_responses,
        sum(customers.average_csat * customers.csat_responses) / nullif(sum(customers.csat_responses), 0) as average_csat,
        median(customers.first_value_on - customers.purchased_on) as median_days_to_first_value
    from customers
    inner join phases
        on phases.phase in (customers.phase, 'all')
    inner join customer_channels
        on customer_channels.customer_id = customers.customer_id
    left join channel_touchpoints
        on channel_touchpoints.customer_id = customer_channels.customer_id
        and channel_touchpoints.channel = customer_channels.channel
    group by phases.phase, customer_channels.channel
),

-- each customer counts in every phase it ever entered, with the step to the next one
journeys as (
    select customer_id, 'purchase' as phase, first_touch_on as entered_on, purchased_on as next_on from customers
    union all
    select customer_id, 'use' as phase, purchased_on as entered_on, expanded_on as next_on from customers
    where purchased_on is not null
),

entered as (
    select
        journeys.phase,
        customer_channels.channel,
        count(*) as customers_entered_phase,
        count(journeys.next_on) as customers_converted,
        count(journeys.next_on) / count(*) as conversion_rate,
        median(journeys.next_on - journeys.entered_on) as median_days_to_next_phase
    from journeys
    inner join customer_channels
        on customer_channels.customer_id = journeys.customer_id
    group by journeys.phase, customer_channels.channel
),

final as (
    select
        -- segment
        in_phase.phase,
        in_phase.channel,
        (select max(as_of_date) from lifecycle) as as_of_date,
        -- customers in the phase now
        in_phase.customers_in_phase,
        in_phase.touchpoints,
        in_phase.nps_respondents,
        in_phase.nps,
        in_phase.csat_responses,
        in_phase.average_csat,
        cast(in_phase.median_days_to_first_value as double) as median_days_to_first_value,
        -- customers who ever entered the phase
        entered.customers_entered_phase,
        entered.customers_converted,
        entered.conversion_rate,
        cast(entered.median_days_to_next_phase as double) as median_days_to_next_phase
    from in_phase
    left join entered
        on entered.phase = in_phase.phase
        and entered.channel = in_phase.channel
)

select * from final
