-- Which match key each record carries under each rule. A rule (an AND of `same` criteria) keys a
-- record by the tuple of its values; two records with the same key satisfy the rule. Only
-- identifier values no guard flagged take part.
{%- set rules = identity_rules() %}

with usable as (
    select * from {{ ref('int_identity__identifiers_guarded') }}
    where guard is null
),

{% for rule in rules.match_rules %}
rule_{{ loop.index }} as (
    -- {{ rule.name }}: same {{ rule.same | join(' and same ') }}
    select
        c0.source,
        c0.source_record_id,
        {{ loop.index }} as rule_priority,
        {{ sql_literal(rule.name) }} as match_rule,
        {{ sql_literal(rule.name) }} || '|' || c0.identifier_value
        {%- for _ in rule.same[1:] %} || '|' || c{{ loop.index }}.identifier_value{% endfor %} as match_key
    from usable as c0
    {%- for type in rule.same[1:] %}
    inner join usable as c{{ loop.index }}
        on c{{ loop.index }}.source = c0.source
        and c{{ loop.index }}.source_record_id = c0.source_record_id
        and c{{ loop.index }}.identifier_type = {{ sql_literal(type) }}
    {%- endfor %}
    where c0.identifier_type = {{ sql_literal(rule.same[0]) }}
),
{% endfor %}

record_keys as (
    {%- for rule in rules.match_rules %}
    select * from rule_{{ loop.index }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
    {%- if not rules.match_rules %}
    select
        cast(null as varchar) as source, cast(null as varchar) as source_record_id,
        cast(null as integer) as rule_priority, cast(null as varchar) as match_rule,
        cast(null as varchar) as match_key
    where false
    {%- endif %}
),

-- a key carried by one record links nothing
shared_keys as (
    select match_key
    from record_keys
    group by match_key
    having count(distinct source || '|' || source_record_id) > 1
),

final as (
    select distinct
        record_keys.source,
        record_keys.source_record_id,
        record_keys.rule_priority,
        record_keys.match_rule,
        record_keys.match_key
    from record_keys
    inner join shared_keys on shared_keys.match_key = record_keys.match_key
)

select * from final
