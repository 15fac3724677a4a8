-- Which match key each record carries under each exact rule. A rule of `same` criteria only keys
-- a record by the tuple of its values; two records with the same key satisfy the rule. Rules
-- with `similar` or `not_different` criteria compare pairs instead (int_identity__similar_pairs).
{%- set rules = identity_rules() %}
{%- set exact_rules = [] %}
{%- for rule in rules.match_rules %}{% if not is_pair_rule(rule) %}{% do exact_rules.append((loop.index, rule)) %}{% endif %}{% endfor %}

with usable as (
    select * from {{ ref('int_identity__match_values') }}
),

{% for priority, rule in exact_rules %}
rule_{{ priority }} as (
    -- {{ rule.name }}: same {{ rule.same | join(' and same ') }}
    select
        source,
        source_record_id,
        {{ priority }} as rule_priority,
        {{ sql_literal(rule.name) }} as match_rule,
        {{ sql_literal(rule.name) }} || '|' || block_key as match_key
    from ({{ rule_block_keys('usable', rule.same) }}) as keyed
),
{% endfor %}

record_keys as (
    {%- for priority, rule in exact_rules %}
    select * from rule_{{ priority }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
    {%- if not exact_rules %}
    select
        cast(null as {{ string_type() }}) as source, cast(null as {{ string_type() }}) as source_record_id,
        cast(null as integer) as rule_priority, cast(null as {{ string_type() }}) as match_rule,
        cast(null as {{ string_type() }}) as match_key
    where false
    {%- endif %}
),

-- a record with several values of a type repeats a key; the rule is part of the key
distinct_keys as (
    select distinct source, source_record_id, rule_priority, match_rule, match_key
    from record_keys
),

-- a key carried by one record links nothing
shared_keys as (
    select match_key
    from distinct_keys
    group by match_key
    having count(*) > 1
),

final as (
    select
        distinct_keys.source,
        distinct_keys.source_record_id,
        distinct_keys.rule_priority,
        distinct_keys.match_rule,
        distinct_keys.match_key
    from distinct_keys
    inner join shared_keys on shared_keys.match_key = distinct_keys.match_key
)

select * from final
