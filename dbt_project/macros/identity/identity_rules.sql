{#- The identity rules from cx_pipeline/config/identity.yml (the `identity` var). -#}
{% macro identity_rules() %}
    {{ return(rules_var('identity', 'cx_pipeline/config/identity.yml', {
        'match_rules': [], 'match_attributes': {}, 'kanji_variants': {}, 'junk_values': {}, 'junk_patterns': {},
        'max_records_per_value': {}, 'max_distinct_neighbours': {}})) }}
{% endmacro %}

{#- A SQL string literal for a value from config. -#}
{% macro sql_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- Regular-expression match, dispatched so other adapters can bring their own spelling. -#}
{% macro regexp_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_matches', 'cx_pipeline')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regexp_matches(expression, pattern) -%}
    regexp_matches({{ expression }}, {{ regex_literal(pattern) }})
{%- endmacro %}

{% macro spark__regexp_matches(expression, pattern) -%}
    ({{ expression }} rlike {{ regex_literal(pattern) }})
{%- endmacro %}

{#- Make an attribute comparable, as declared by `compare_as` in identity.yml `match_attributes`.
    \pL and \pN are any Unicode letter and digit (RE2 and Java regular expressions alike). -#}
{% macro match_value(compare_as, expression) -%}
    {%- set not_letter_or_digit = regex_literal('[^\\pL\\pN]+') -%}
    {%- if compare_as == 'person_name' -%}
        {%- set variants = identity_rules().kanji_variants or {} -%}
        {%- set folded = "translate(lower(" ~ expression ~ "), " ~ sql_literal(variants.keys() | join('')) ~ ", " ~ sql_literal(variants.values() | join('')) ~ ")" -%}
        {{ sorted_words("regexp_replace(" ~ folded ~ ", " ~ not_letter_or_digit ~ ", ' ', 'g')") }}
    {%- elif compare_as == 'postal_code' -%}
        regexp_replace(
            regexp_replace(upper({{ expression }}), {{ regex_literal('^[A-Z]{1,2}-([0-9])') }}, {{ regex_literal('\\1') }}),
            {{ not_letter_or_digit }}, '', 'g')
    {%- elif compare_as == 'organisation' -%}
        regexp_replace(lower({{ expression }}), {{ not_letter_or_digit }}, '', 'g')
    {%- elif compare_as == 'text' -%}
        lower(trim({{ expression }}))
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown compare_as " ~ compare_as) }}
    {%- endif -%}
{%- endmacro %}

{#- A string literal holding a regular expression: engines that read backslash escapes in
    string literals (Spark) need them doubled. -#}
{% macro regex_literal(pattern) -%}
    {{ return(adapter.dispatch('regex_literal', 'cx_pipeline')(pattern)) }}
{%- endmacro %}

{% macro default__regex_literal(pattern) -%}
    {{ sql_literal(pattern) }}
{%- endmacro %}

{% macro spark__regex_literal(pattern) -%}
    {{ sql_literal(pattern | replace('\\', '\\\\')) }}
{%- endmacro %}

{#- The words of a text in sorted order, one space apart: word order stops mattering. -#}
{% macro sorted_words(expression) -%}
    {{ return(adapter.dispatch('sorted_words', 'cx_pipeline')(expression)) }}
{%- endmacro %}

{% macro default__sorted_words(expression) -%}
    array_to_string(list_sort(string_split_regex(trim({{ expression }}), {{ regex_literal('\\s+') }})), ' ')
{%- endmacro %}

{% macro spark__sorted_words(expression) -%}
    array_join(array_sort(split(trim({{ expression }}), {{ regex_literal('\\s+') }})), ' ')
{%- endmacro %}

{#- Similarity of two values of a match attribute, in [0, 1]. Names (sorted words) are compared
    word by word and the least similar word counts: Jaro-Winkler forgives a slip in a long string
    but not a different family name, and short CJK names are all one-character differences.
    Names with a different number of words are not similar. -#}
{% macro match_similarity(compare_as, a, b) -%}
    {%- if compare_as == 'person_name' -%}
        {{ word_by_word_similarity(a, b) }}
    {%- else -%}
        {{ string_similarity(a, b) }}
    {%- endif -%}
{%- endmacro %}

{% macro word_by_word_similarity(a, b) -%}
    {{ return(adapter.dispatch('word_by_word_similarity', 'cx_pipeline')(a, b)) }}
{%- endmacro %}

{% macro default__word_by_word_similarity(a, b) -%}
    case when len(string_split({{ a }}, ' ')) = len(string_split({{ b }}, ' ')) then
        list_min(list_transform(
            list_zip(string_split({{ a }}, ' '), string_split({{ b }}, ' ')),
            lambda pair: jaro_winkler_similarity(pair[1], pair[2])))
    else 0.0 end
{%- endmacro %}

{% macro spark__word_by_word_similarity(a, b) -%}
    case when size(split({{ a }}, ' ')) = size(split({{ b }}, ' ')) then
        array_min(zip_with(split({{ a }}, ' '), split({{ b }}, ' '),
            (x, y) -> {{ spark__string_similarity('x', 'y') }}))
    else 0.0 end
{%- endmacro %}

{#- Similarity of two strings in [0, 1]: Jaro-Winkler where the engine has it. -#}
{% macro string_similarity(a, b) -%}
    {{ return(adapter.dispatch('string_similarity', 'cx_pipeline')(a, b)) }}
{%- endmacro %}

{% macro default__string_similarity(a, b) -%}
    jaro_winkler_similarity({{ a }}, {{ b }})
{%- endmacro %}

{% macro spark__string_similarity(a, b) -%}
    {#- Spark has no Jaro-Winkler: normalised Levenshtein is the closest built-in. -#}
    (1.0 - levenshtein({{ a }}, {{ b }}) / greatest(length({{ a }}), length({{ b }}), 1))
{%- endmacro %}

{#- Each record with its key under a rule's `same` criteria: the values of those types joined
    (a record with several values of a type gets a key per combination). -#}
{% macro rule_block_keys(values_relation, same) -%}
    select
        c0.source,
        c0.source_record_id,
        c0.match_value
        {%- for _ in same[1:] %} || '|' || c{{ loop.index }}.match_value{% endfor %} as block_key
    from {{ values_relation }} as c0
    {%- for type in same[1:] %}
    inner join {{ values_relation }} as c{{ loop.index }}
        on c{{ loop.index }}.source = c0.source
        and c{{ loop.index }}.source_record_id = c0.source_record_id
        and c{{ loop.index }}.value_type = {{ sql_literal(type) }}
    {%- endfor %}
    where c0.value_type = {{ sql_literal(same[0]) }}
{%- endmacro %}

{#- The distinct values of a group as a list, and whether two such lists share a value. -#}
{% macro collect_values(expression) -%}
    {{ return(adapter.dispatch('collect_values', 'cx_pipeline')(expression)) }}
{%- endmacro %}

{% macro default__collect_values(expression) -%}
    list(distinct {{ expression }})
{%- endmacro %}

{% macro spark__collect_values(expression) -%}
    collect_set({{ expression }})
{%- endmacro %}

{% macro lists_overlap(a, b) -%}
    {{ return(adapter.dispatch('lists_overlap', 'cx_pipeline')(a, b)) }}
{%- endmacro %}

{% macro default__lists_overlap(a, b) -%}
    list_has_any({{ a }}, {{ b }})
{%- endmacro %}

{% macro spark__lists_overlap(a, b) -%}
    arrays_overlap({{ a }}, {{ b }})
{%- endmacro %}

{#- The value guard of a grouped (type, value): junk_value, junk_pattern or too_many_records, as
    identity.yml `guards` declares per type; null when none applies. Used inside a query grouped
    by the type and value columns. `only_types` limits it to those types (default: every type). -#}
{% macro value_guard(type_column, value_column, rules, only_types=none) -%}
    case
    {%- for type, values in rules.junk_values.items() if only_types is none or type in only_types %}
        when {{ type_column }} = {{ sql_literal(type) }} and {{ value_column }} in (
            {%- for v in values %}{{ sql_literal(v) }}{{ ", " if not loop.last }}{% endfor -%}
        ) then 'junk_value'
    {%- endfor %}
    {%- for type, patterns in rules.junk_patterns.items() if only_types is none or type in only_types %}
        {%- for pattern in patterns %}
        when {{ type_column }} = {{ sql_literal(type) }} and {{ regexp_matches(value_column, pattern) }} then 'junk_pattern'
        {%- endfor %}
    {%- endfor %}
    {%- for type, limit in rules.max_records_per_value.items() if only_types is none or type in only_types %}
        when {{ type_column }} = {{ sql_literal(type) }} and count(*) > {{ limit }} then 'too_many_records'
    {%- endfor %}
        else null
    end
{%- endmacro %}
