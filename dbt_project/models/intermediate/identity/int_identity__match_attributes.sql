-- Every record's comparable value of each match attribute (cx_pipeline/config/identity.yml
-- `match_attributes`), with the guard that stops it linking records, if any. Flagged values are
-- kept with the reason, like identifier values in int_identity__identifiers_guarded.
{%- set rules = identity_rules() %}
{%- set fields = [] %}
{%- for spec in rules.match_attributes.values() %}
    {%- for alternative in spec['from'] %}
        {%- for field in alternative if field not in fields %}{% do fields.append(field) %}{% endfor %}
    {%- endfor %}
{%- endfor %}

with attributes as (
    select * from {{ ref('stg_cx__attributes') }}
    where attribute_value is not null
),

-- one row per record, one column per registry attribute a match attribute is made from
records as (
    select
        source,
        source_record_id
        {%- for field in fields %},
        max(case when attribute = {{ sql_literal(field) }} then attribute_value end) as field_{{ field }}
        {%- endfor %}
    from attributes
    where attribute in ({% for field in fields %}{{ sql_literal(field) }}, {% endfor %}null)
    group by source, source_record_id
),

record_values as (
    {%- for name, spec in rules.match_attributes.items() %}
    {#- the first alternative the record has all parts of; parts joined by a space #}
    {%- set alternatives = [] %}
    {%- for alternative in spec['from'] %}
        {%- do alternatives.append("field_" ~ (alternative | join(" || ' ' || field_"))) %}
    {%- endfor %}
    select
        source,
        source_record_id,
        {{ sql_literal(name) }} as match_attribute,
        {{ match_value(spec.compare_as, "coalesce(" ~ (alternatives | join(", ")) ~ ")") }} as match_value
    from records
    {{ "union all" if not loop.last }}
    {%- endfor %}
    {%- if not rules.match_attributes %}
    select
        cast(null as {{ string_type() }}) as source, cast(null as {{ string_type() }}) as source_record_id,
        cast(null as {{ string_type() }}) as match_attribute, cast(null as {{ string_type() }}) as match_value
    where false
    {%- endif %}
),

comparable as (
    select * from record_values
    where match_value is not null and match_value <> ''
),

values_guarded as (
    select
        match_attribute,
        match_value,
        count(*) as value_record_count,
        {{ value_guard('match_attribute', 'match_value', rules, only_types=rules.match_attributes) }} as guard
    from comparable
    group by match_attribute, match_value
),

final as (
    select
        comparable.source,
        comparable.source_record_id,
        comparable.match_attribute,
        comparable.match_value,
        values_guarded.value_record_count,
        values_guarded.guard
    from comparable
    inner join values_guarded
        on values_guarded.match_attribute = comparable.match_attribute
        and values_guarded.match_value = comparable.match_value
)

select * from final
