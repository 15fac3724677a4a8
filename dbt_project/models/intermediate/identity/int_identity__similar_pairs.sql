-- Pairs of records that satisfy a rule with `similar` criteria: equal on the rule's `same`
-- criteria (the blocking key, so only records sharing a key are compared), similar enough on
-- every `similar` attribute and not disagreeing on any `not_different` type. Each pair appears
-- once, the smaller record first.
{%- set rules = identity_rules() %}

{%- set similar_rules = [] %}
{%- for rule in rules.match_rules %}{% if rule.similar %}{% do similar_rules.append((loop.index, rule)) %}{% endif %}{% endfor %}

with usable as (
    select * from {{ ref('int_identity__match_values') }}
),

{% for priority, rule in similar_rules %}
rule_{{ priority }}_blocks as (
    select distinct source, source_record_id, block_key
    from ({{ rule_block_keys('usable', rule.same) }}) as keyed
),

rule_{{ priority }} as (
    -- {{ rule.name }}: same {{ rule.same | join(' and same ') }}
    {%- for criterion in rule.similar %}, {{ criterion.attribute }} similarity >= {{ criterion.at_least }}{% endfor %}
    select
        a.source as source_a,
        a.source_record_id as source_record_id_a,
        b.source as source_b,
        b.source_record_id as source_record_id_b,
        {{ priority }} as rule_priority,
        {{ sql_literal(rule.name) }} as match_rule,
        max(least(
            {%- for criterion in rule.similar %}
            {{ match_similarity(rules.match_attributes[criterion.attribute].compare_as, 'a_' ~ loop.index ~ '.match_value', 'b_' ~ loop.index ~ '.match_value') }}
            {{- ", " if not loop.last }}
            {%- endfor %}
            {%- if rule.similar | length == 1 %}, 1.0{% endif %}
        )) as similarity
    from rule_{{ priority }}_blocks as a
    inner join rule_{{ priority }}_blocks as b
        on b.block_key = a.block_key
        and (a.source < b.source or (a.source = b.source and a.source_record_id < b.source_record_id))
    {%- for criterion in rule.similar %}
    inner join usable as a_{{ loop.index }}
        on a_{{ loop.index }}.source = a.source
        and a_{{ loop.index }}.source_record_id = a.source_record_id
        and a_{{ loop.index }}.value_type = {{ sql_literal(criterion.attribute) }}
    inner join usable as b_{{ loop.index }}
        on b_{{ loop.index }}.source = b.source
        and b_{{ loop.index }}.source_record_id = b.source_record_id
        and b_{{ loop.index }}.value_type = {{ sql_literal(criterion.attribute) }}
    {%- endfor %}
    where
    {%- for criterion in rule.similar %}
        {{ match_similarity(rules.match_attributes[criterion.attribute].compare_as, 'a_' ~ loop.index ~ '.match_value', 'b_' ~ loop.index ~ '.match_value') }} >= {{ criterion.at_least }}
        {{- " and" if not loop.last }}
    {%- endfor %}
    {%- for type in rule.not_different or [] %}
        -- not different on {{ type }}: one record lacks it or they share a value
        and not (
            exists (
                select 1 from usable as va
                where va.source = a.source and va.source_record_id = a.source_record_id
                    and va.value_type = {{ sql_literal(type) }}
            )
            and exists (
                select 1 from usable as vb
                where vb.source = b.source and vb.source_record_id = b.source_record_id
                    and vb.value_type = {{ sql_literal(type) }}
            )
            and not exists (
                select 1 from usable as va inner join usable as vb on vb.match_value = va.match_value
                where va.source = a.source and va.source_record_id = a.source_record_id
                    and vb.source = b.source and vb.source_record_id = b.source_record_id
                    and va.value_type = {{ sql_literal(type) }} and vb.value_type = {{ sql_literal(type) }}
            )
        )
    {%- endfor %}
    group by a.source, a.source_record_id, b.source, b.source_record_id
),
{% endfor %}

final as (
    {%- for priority, rule in similar_rules %}
    select * from rule_{{ priority }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
    {%- if not similar_rules %}
    select
        cast(null as varchar) as source_a, cast(null as varchar) as source_record_id_a,
        cast(null as varchar) as source_b, cast(null as varchar) as source_record_id_b,
        cast(null as integer) as rule_priority, cast(null as varchar) as match_rule,
        cast(null as double) as similarity
    where false
    {%- endif %}
)

select * from final
