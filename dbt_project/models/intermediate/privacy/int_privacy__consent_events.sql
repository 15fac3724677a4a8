-- Every explicit consent choice found in the sources, per record and channel, with its customer:
-- one row per (signal, record, channel) that records opt_in or opt_out. The signals are declared
-- in cx_pipeline/config/privacy.yml (consent.signals); docs/privacy.md explains the precedence.
{%- set consent = consent_rules() %}

with links as (
    select * from {{ ref('int_identity_links') }}
),

choices as (
    {%- for signal in consent.signals %}
    {%- set signal_loop = loop %}
    {%- for channel in signal.channels %}
    {{ consent_signal_rows(signal, channel) }}
    {%- if not (signal_loop.last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- else %}
    select
        cast(null as varchar) as source,
        cast(null as varchar) as source_record_id,
        cast(null as varchar) as channel,
        cast(null as varchar) as choice,
        cast(null as timestamp with time zone) as decided_at,
        cast(null as varchar) as signal
    where false
    {%- endfor %}
),

final as (
    select
        -- ids
        links.customer_id,
        choices.source,
        choices.source_record_id,
        -- the choice
        choices.channel,
        choices.choice,
        choices.decided_at,
        choices.signal
    from choices
    inner join links
        on links.source = choices.source
        and links.source_record_id = choices.source_record_id
    where choices.choice is not null
)

select * from final
