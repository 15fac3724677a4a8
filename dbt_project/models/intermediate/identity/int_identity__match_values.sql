-- The values match rules compare: identifier values, their slip keys and match-attribute values
-- no guard flagged, in one long form (value_type is the identifier type, the slip key's or the
-- match attribute's name).
{%- set rules = identity_rules() %}

with identifiers as (
    select source, source_record_id, identifier_type as value_type, identifier_value as match_value
    from {{ ref('int_identity__identifiers_guarded') }}
    where guard is null
),

attributes as (
    select source, source_record_id, match_attribute as value_type, match_value
    from {{ ref('int_identity__match_attributes') }}
    where guard is null
),

{% for name, spec in (rules.slip_keys or {}).items() %}
-- {{ name }}: the distinct {{ spec.identifier }} values folded by {{ spec.slip }} (once per value, not per
-- record), kept where two different values fold the same
slip_{{ loop.index }}_shared as (
    select match_value, slip_value
    from (
        select match_value, slip_value, count(*) over (partition by slip_value) as values_folded
        from (
            select match_value, {{ slip_key(spec.slip, 'match_value') }} as slip_value
            from (select distinct match_value from identifiers where value_type = {{ sql_literal(spec.identifier) }}) as distinct_values
        ) as folded
    ) as counted
    where values_folded > 1
),

slip_{{ loop.index }} as (
    select identifiers.source, identifiers.source_record_id, {{ sql_literal(name) }} as value_type,
        shared.slip_value as match_value
    from identifiers
    inner join slip_{{ loop.index }}_shared as shared
        on shared.match_value = identifiers.match_value
    where identifiers.value_type = {{ sql_literal(spec.identifier) }}
),
{% endfor %}

final as (
    select * from identifiers
    {%- for name in rules.slip_keys or {} %}
    union all
    select * from slip_{{ loop.index }}
    {%- endfor %}
    union all
    select * from attributes
)

select * from final
