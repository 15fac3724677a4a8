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
-- {{ name }}: {{ spec.identifier }} values folded by {{ spec.slip }}, where two different values fold the same
slip_{{ loop.index }}_folded as (
    select source, source_record_id, match_value, {{ slip_key(spec.slip, 'match_value') }} as slip_value
    from identifiers
    where value_type = {{ sql_literal(spec.identifier) }}
),

slip_{{ loop.index }} as (
    select source, source_record_id, {{ sql_literal(name) }} as value_type, slip_value as match_value
    from slip_{{ loop.index }}_folded
    where slip_value in (
        select slip_value from slip_{{ loop.index }}_folded
        group by slip_value
        having count(distinct match_value) > 1
    )
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
