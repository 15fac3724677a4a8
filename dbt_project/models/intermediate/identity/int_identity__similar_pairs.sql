-- Pairs of records that satisfy a rule judged on pairs (one with `similar` or `not_different`
-- criteria): equal on the rule's `same` criteria (the blocking key, so only records sharing a key
-- are compared), similar enough on every `similar` attribute, not disagreeing on any
-- `not_different` type (only values of one kind can disagree: a work address never disagrees
-- with a private one) and, for `not_different` with `at_least`, not clearly different (clearly
-- different: both values present, names written in one writing system, and less similar than
-- `at_least`). Each pair appears once, the smaller record first. Similarity is computed on the
-- block's pairs first; the vetoes then only look at the few pairs that passed. A rule without
-- `similar` scores its pairs 1.0.
{%- set rules = identity_rules() %}
{%- set pair_rules = [] %}
{%- set veto_types = [] %}
{%- for rule in rules.match_rules %}
    {%- if is_pair_rule(rule) %}{% do pair_rules.append((loop.index, rule)) %}{% endif %}
    {%- for type in rule.not_different or [] if type not in veto_types %}{% do veto_types.append(type) %}{% endfor %}
{%- endfor %}

with usable as (
    select * from {{ ref('int_identity__match_values') }}
),

{% for type in veto_types %}
-- every record's values of {{ type }} by kind (identifier_kind), for the not_different vetoes
values_{{ loop.index }} as (
    select source, source_record_id, value_kind, {{ collect_values('match_value') }} as vals
    from (
        select source, source_record_id, match_value, {{ identifier_kind(type, 'match_value') }} as value_kind
        from usable
        where value_type = {{ sql_literal(type) }}
    ) as typed
    group by source, source_record_id, value_kind
),
{% endfor %}

{% for priority, rule in pair_rules %}
rule_{{ priority }}_records as (
    -- each record with its blocking key and the values its similar criteria compare
    select distinct
        keyed.source,
        keyed.source_record_id,
        keyed.block_key
        {%- for criterion in rule.similar %},
        s_{{ loop.index }}.match_value as similar_{{ loop.index }},
        {{ prefilter_key(rules.match_attributes[criterion.attribute].compare_as, 's_' ~ loop.index ~ '.match_value') }} as prefilter_{{ loop.index }}
        {%- endfor %}
    from ({{ rule_block_keys('usable', rule.same) }}) as keyed
    {%- for criterion in rule.similar %}
    inner join usable as s_{{ loop.index }}
        on s_{{ loop.index }}.source = keyed.source
        and s_{{ loop.index }}.source_record_id = keyed.source_record_id
        and s_{{ loop.index }}.value_type = {{ sql_literal(criterion.attribute) }}
    {%- endfor %}
),

{%- if rule.similar %}
rule_{{ priority }}_values as (
    -- the distinct values a block's records compare: a person's records repeat one name, so
    -- comparing values, not records, costs a third of the similarity work (1 M people: 7.9 M
    -- pairs of names share a postcode, 21.7 M pairs of records)
    select distinct
        block_key
        {%- for criterion in rule.similar %},
        similar_{{ loop.index }},
        prefilter_{{ loop.index }}
        {%- endfor %}
    from rule_{{ priority }}_records
),

rule_{{ priority }}_value_pairs as (
    -- {{ rule.name }}: same {{ rule.same | join(' and same ') }}
    {%- for criterion in rule.similar %}, {{ criterion.attribute }} similarity >= {{ criterion.at_least }}{% endfor %}
    -- each pair of a block's values once, the smaller first (a value with itself too: two records
    -- may carry it); the measures are symmetric
    select *
    from (
        select
            a.block_key
            {%- for criterion in rule.similar %},
            {%- set compare_as = rules.match_attributes[criterion.attribute].compare_as %}
            a.similar_{{ loop.index }} as similar_{{ loop.index }}_a,
            b.similar_{{ loop.index }} as similar_{{ loop.index }}_b,
            -- the costly comparison only where a cheap necessary condition holds (0 elsewhere)
            case when {{ similarity_prefilter(compare_as, 'a.prefilter_' ~ loop.index, 'b.prefilter_' ~ loop.index, criterion.at_least) }}
                then {{ match_similarity(compare_as, 'a.similar_' ~ loop.index, 'b.similar_' ~ loop.index) }}
                else 0.0 end as similarity_{{ loop.index }}
            {%- endfor %},
            least({% for criterion in rule.similar %}similarity_{{ loop.index }}, {% endfor %}1.0) as similarity
        from rule_{{ priority }}_values as a
        inner join rule_{{ priority }}_values as b
            on b.block_key = a.block_key
            and ({{ values_in_order(rule.similar | length) }})
    ) as compared
    where true
    {%- for criterion in rule.similar %}
        and similarity_{{ loop.index }} >= {{ criterion.at_least }}
    {%- endfor %}
),

rule_{{ priority }}_value_pairs_both_ways as (
    select block_key{% for _ in rule.similar %}, similar_{{ loop.index }}_a, similar_{{ loop.index }}_b{% endfor %}, similarity
    from rule_{{ priority }}_value_pairs
    union all
    select block_key{% for _ in rule.similar %}, similar_{{ loop.index }}_b, similar_{{ loop.index }}_a{% endfor %}, similarity
    from rule_{{ priority }}_value_pairs
    where not ({% for _ in rule.similar %}similar_{{ loop.index }}_a = similar_{{ loop.index }}_b{{ " and " if not loop.last }}{% endfor %})
),
{%- endif %}

rule_{{ priority }}_similar as (
    -- {{ rule.name }}: the record pairs of a block{{ " whose values are similar enough" if rule.similar }}
    select
        source_a, source_record_id_a, source_b, source_record_id_b,
        max(similarity) as similarity
    from (
        select
            a.source as source_a,
            a.source_record_id as source_record_id_a,
            b.source as source_b,
            b.source_record_id as source_record_id_b,
            {{ "pairs.similarity" if rule.similar else "1.0 as similarity" }}
        {%- if rule.similar %}
        from rule_{{ priority }}_value_pairs_both_ways as pairs
        inner join rule_{{ priority }}_records as a
            on a.block_key = pairs.block_key
            {%- for _ in rule.similar %}
            and a.similar_{{ loop.index }} = pairs.similar_{{ loop.index }}_a
            {%- endfor %}
        inner join rule_{{ priority }}_records as b
            on b.block_key = pairs.block_key
            {%- for _ in rule.similar %}
            and b.similar_{{ loop.index }} = pairs.similar_{{ loop.index }}_b
            {%- endfor %}
        {%- else %}
        from rule_{{ priority }}_records as a
        inner join rule_{{ priority }}_records as b
            on b.block_key = a.block_key
        {%- endif %}
            and (a.source < b.source or (a.source = b.source and a.source_record_id < b.source_record_id))
    ) as compared
    group by source_a, source_record_id_a, source_b, source_record_id_b
),

{%- if rule.not_different %}
rule_{{ priority }}_conflicts as (
    -- pairs that disagree on a not_different type: both records hold values of one kind of it
    -- and share none (a record without it, or with values of another kind only, does not disagree)
    {%- for type in rule.not_different %}
    {%- set v = "values_" ~ (veto_types.index(type) + 1) %}
    select pairs.source_a, pairs.source_record_id_a, pairs.source_b, pairs.source_record_id_b
    from rule_{{ priority }}_similar as pairs
    inner join {{ v }} as a
        on a.source = pairs.source_a and a.source_record_id = pairs.source_record_id_a
    inner join {{ v }} as b
        on b.source = pairs.source_b and b.source_record_id = pairs.source_record_id_b
        and b.value_kind = a.value_kind
    where not {{ lists_overlap('a.vals', 'b.vals') }}
    {{ "union" if not loop.last }}
    {%- endfor %}
),
{%- endif %}

rule_{{ priority }}_vetoed_0 as (
    select
        pairs.source_a,
        pairs.source_record_id_a,
        pairs.source_b,
        pairs.source_record_id_b,
        {{ priority }} as rule_priority,
        {{ sql_literal(rule.name) }} as match_rule,
        pairs.similarity
    from rule_{{ priority }}_similar as pairs
    {%- if rule.not_different %}
    left join rule_{{ priority }}_conflicts as conflicts
        on conflicts.source_a = pairs.source_a and conflicts.source_record_id_a = pairs.source_record_id_a
        and conflicts.source_b = pairs.source_b and conflicts.source_record_id_b = pairs.source_record_id_b
    where conflicts.source_a is null
    {%- endif %}
),
{% for criterion in rule.not_dissimilar or [] %}
{%- set compare_as = rules.match_attributes[criterion.attribute].compare_as %}
rule_{{ priority }}_vetoed_{{ loop.index }} as (
    -- not clearly different on {{ criterion.attribute }}: one record lacks it, or some pair of their
    -- values is written in different systems or at least {{ criterion.at_least }} similar as a whole
    select pairs.source_a, pairs.source_record_id_a, pairs.source_b, pairs.source_record_id_b,
        pairs.rule_priority, pairs.match_rule, pairs.similarity
    from rule_{{ priority }}_vetoed_{{ loop.index0 }} as pairs
    left join usable as a
        on a.source = pairs.source_a and a.source_record_id = pairs.source_record_id_a
        and a.value_type = {{ sql_literal(criterion.attribute) }}
    left join usable as b
        on b.source = pairs.source_b and b.source_record_id = pairs.source_record_id_b
        and b.value_type = {{ sql_literal(criterion.attribute) }}
    group by pairs.source_a, pairs.source_record_id_a, pairs.source_b, pairs.source_record_id_b,
        pairs.rule_priority, pairs.match_rule, pairs.similarity
    having max(case
        when a.match_value is null or b.match_value is null then 1
        {%- if compare_as == 'person_name' %}
        when {{ writing_system('a.match_value') }} <> {{ writing_system('b.match_value') }} then 1
        {%- endif %}
        when {{ string_similarity('a.match_value', 'b.match_value') }} >= {{ criterion.at_least }} then 1
        else 0 end) = 1
),
{% endfor %}
rule_{{ priority }} as (
    select * from rule_{{ priority }}_vetoed_{{ (rule.not_dissimilar or []) | length }}
),
{% endfor %}

final as (
    {%- for priority, rule in pair_rules %}
    select * from rule_{{ priority }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
    {%- if not pair_rules %}
    select
        cast(null as {{ string_type() }}) as source_a, cast(null as {{ string_type() }}) as source_record_id_a,
        cast(null as {{ string_type() }}) as source_b, cast(null as {{ string_type() }}) as source_record_id_b,
        cast(null as integer) as rule_priority, cast(null as {{ string_type() }}) as match_rule,
        cast(null as double) as similarity
    where false
    {%- endif %}
)

select * from final
