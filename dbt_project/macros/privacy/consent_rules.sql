{#- The consent rules from cx_pipeline/config/privacy.yml (the `privacy` var). -#}
{% macro consent_rules() %}
    {{ return(rules_var('privacy', 'cx_pipeline/config/privacy.yml', {'consent': {
        'channels': [], 'without_a_choice': {}, 'signals': [],
        'do_not_contact_action': {'en': '', 'ja': ''}}}).consent) }}
{% endmacro %}

{#- One select per consent signal and channel: source, source_record_id, channel, choice,
    decided_at, signal. Names come from the validated config and are quoted as identifiers;
    values as string literals. -#}
{% macro consent_signal_rows(signal, channel) -%}
    {%- if signal.touchpoint -%}
    select
        source,
        source_record_id,
        {{ sql_literal(channel) }} as channel,
        {{ sql_literal(signal.choice) }} as choice,
        occurred_at as decided_at,
        {{ sql_literal(signal.name) }} as signal
    from {{ ref('stg_cx__touchpoints') }}
    where source = {{ sql_literal(signal.source) }}
        and touchpoint_type in {{ sql_strings(signal.touchpoint.types) }}
    {%- else -%}
    {%- set flag = adapter.quote(signal.field.name) -%}
    select
        {{ sql_literal(signal.source) }} as source,
        source_record_id,
        {{ sql_literal(channel) }} as channel,
        case
            {%- if signal.field.when_true %}
            when {{ flag }} then {{ sql_literal(signal.field.when_true) }}
            {%- endif %}
            {%- if signal.field.when_false %}
            when not {{ flag }} then {{ sql_literal(signal.field.when_false) }}
            {%- endif %}
        end as choice,
        cast({{ adapter.quote(signal.field.at) }} as timestamp with time zone) as decided_at,
        {{ sql_literal(signal.name) }} as signal
    from {{ source('ingested', signal.source) }}
    where {{ flag }} is not null and {{ adapter.quote(signal.field.at) }} is not null
    {%- endif -%}
{%- endmacro %}
