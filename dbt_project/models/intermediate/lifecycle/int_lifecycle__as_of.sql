-- The day phases are judged on (cx_pipeline/config/lifecycle.yml `as_of`): a date, or `latest`,
-- the calendar day of the newest touchpoint. Evidence counts up to the end of that day.
{%- set rules = lifecycle_rules() %}
with touchpoints as (
    select * from {{ ref('fct_touchpoints') }}
),

latest as (
    select max(occurred_at) as latest_touch_at
    from touchpoints
),

as_of as (
    select
        {% if rules.as_of == 'latest' -%}
        {{ lifecycle_local_date('latest_touch_at') }}
        {%- else -%}
        date '{{ rules.as_of }}'
        {%- endif %} as as_of_date,
        latest_touch_at
    from latest
),

final as (
    select
        as_of_date,
        -- the first instant after the as-of day, in the lifecycle's time zone
        timezone('{{ rules.timezone }}', cast(as_of_date + 1 as timestamp)) as as_of_end,
        latest_touch_at
    from as_of
)

select * from final
