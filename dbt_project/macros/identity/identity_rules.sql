{#- The identity rules from cx_pipeline/config/identity.yml (the `identity` var). -#}
{% macro identity_rules() %}
    {{ return(rules_var('identity', 'cx_pipeline/config/identity.yml', {
        'match_rules': [], 'match_attributes': {}, 'slip_keys': {}, 'kanji_variants': {}, 'personal_email_domains': [],
        'junk_values': {}, 'junk_patterns': {},
        'max_records_per_value': {}, 'max_distinct_neighbours': {}})) }}
{% endmacro %}

{#- A SQL string literal for a value from config. -#}
{% macro sql_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- Values from config as the list of an `in (...)`: null for none, so `x in (null)` holds for nothing. -#}
{% macro sql_list(values) -%}
    {%- for value in values %}{{ sql_literal(value) }}{{ ", " if not loop.last }}{% endfor %}
    {%- if not values %}null{% endif -%}
{%- endmacro %}

{#- A record's node in the identity graph: '0|<source>|<source_record_id>' (int_identity__customer_ids
    reads the record back from it; source names never contain '|'). The smallest node of a
    component names it, and the customer id is derived from that name. -#}
{% macro identity_record_node(source, source_record_id) -%}
    '0|' || {{ source }} || '|' || {{ source_record_id }}
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
        {{ sorted_words(regexp_replace_all(folded, not_letter_or_digit, "' '")) }}
    {%- elif compare_as == 'postal_code' -%}
        {{ regexp_replace_all(
            regexp_replace_first("upper(" ~ expression ~ ")", regex_literal('^[A-Z]{1,2}-([0-9])'), regex_group(1)),
            not_letter_or_digit, "''") }}
    {%- elif compare_as == 'organisation' -%}
        {{ regexp_replace_all("lower(" ~ expression ~ ")", not_letter_or_digit, "''") }}
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

{#- Regular-expression replacement of every match, or of the first one. `pattern` is a
    regex_literal; `replacement` a SQL string literal, naming groups with regex_group. DuckDB
    replaces every match only when told ('g'), Spark always does (its fourth argument is a
    position): the first-match form is only used with anchored patterns. -#}
{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'cx_pipeline')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}

{% macro regexp_replace_first(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}

{#- A replacement literal that is the regular expression's n-th group: \n in RE2, $n in Java. -#}
{% macro regex_group(n) -%}
    {{ return(adapter.dispatch('regex_group', 'cx_pipeline')(n)) }}
{%- endmacro %}

{% macro default__regex_group(n) -%}
    {{ regex_literal('\\' ~ n) }}
{%- endmacro %}

{% macro spark__regex_group(n) -%}
    {{ sql_literal('$' ~ n) }}
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

{#- A cheap necessary condition for match_similarity(a, b) >= at_least, so the costly comparison
    only runs on the pairs that pass it (in a CASE: engines push a plain AND into the join and
    may evaluate the costly side first). Names: the word-by-word similarity is at most the first
    words' similarity, and most people sharing a postcode differ in the first word already (at
    1 M people, 21.7 M candidate pairs share a postcode). -#}
{% macro similarity_prefilter(compare_as, a_key, b_key, at_least) -%}
    {%- if compare_as == 'person_name' -%}
        {{ string_similarity(a_key, b_key) }} >= {{ at_least }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- What similarity_prefilter compares, computed once per record: a name's first word. -#}
{% macro prefilter_key(compare_as, expression) -%}
    {%- if compare_as == 'person_name' -%}
        {{ first_word(expression) }}
    {%- else -%}
        cast(null as {{ string_type() }})
    {%- endif -%}
{%- endmacro %}

{% macro first_word(expression) -%}
    {{ return(adapter.dispatch('first_word', 'cx_pipeline')(expression)) }}
{%- endmacro %}

{% macro default__first_word(expression) -%}
    split_part({{ expression }}, ' ', 1)
{%- endmacro %}

{% macro spark__first_word(expression) -%}
    substring_index({{ expression }}, ' ', 1)
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

{#- Spark has no Jaro-Winkler built in: this is the same measure as DuckDB's
    jaro_winkler_similarity, in higher-order functions. Like DuckDB (since 2.0.1; 2.0.0 compared
    UTF-8 bytes) it compares characters: characters match within max(length)/2 - 1 positions,
    each at most once, first come first served; half the out-of-order matches (rounded down) are
    transpositions; the Winkler bonus of 0.1 per common leading character, at most 4, applies
    above a Jaro similarity of 0.7; an empty string scores 0. Compared with DuckDB on random
    strings in tests/test_spark_target.py.
    `a` and `b` may be lambda variables: the names used here start with jw_. -#}
{% macro spark__string_similarity(a, b) -%}
    {%- set len_a = "length(" ~ a ~ ")" -%}
    {%- set len_b = "length(" ~ b ~ ")" -%}
    {%- set window = "greatest(floor(greatest(" ~ len_a ~ ", " ~ len_b ~ ") / 2) - 1, 0)" -%}
    {#- for each character of a, the first unused matching position of b within the window -#}
    {%- set match_in_b -%}
        array_min(filter(sequence(1, {{ len_b }}), jw_j ->
            abs(jw_j - jw_i) <= {{ window }}
            and not element_at(jw_state.used, jw_j)
            and substr({{ b }}, jw_j, 1) = substr({{ a }}, jw_i, 1)))
    {%- endset -%}
    {%- set matched_a = "transform(jw_state.in_a, jw_p -> substr(" ~ a ~ ", jw_p, 1))" -%}
    {%- set matched_b = "transform(filter(sequence(1, " ~ len_b ~ "), jw_q -> element_at(jw_state.used, jw_q)), jw_q -> substr(" ~ b ~ ", jw_q, 1))" -%}
    {%- set matches = "size(jw_state.in_a)" -%}
    {%- set transpositions = "floor(size(filter(zip_with(" ~ matched_a ~ ", " ~ matched_b ~ ", (jw_x, jw_y) -> jw_x <> jw_y), jw_z -> jw_z)) / 2)" -%}
    {%- set prefix_max = "least(4, " ~ len_a ~ ", " ~ len_b ~ ")" -%}
    {%- set first_difference = "array_position(transform(sequence(1, " ~ prefix_max ~ "), jw_k -> substr(" ~ a ~ ", jw_k, 1) = substr(" ~ b ~ ", jw_k, 1)), false)" -%}
    {%- set prefix = "case when " ~ first_difference ~ " = 0 then " ~ prefix_max ~ " else " ~ first_difference ~ " - 1 end" -%}
    (case when {{ len_a }} = 0 or {{ len_b }} = 0 then 0.0 else
        element_at(transform(array(
            aggregate(
                sequence(1, {{ len_a }}),
                named_struct('used', array_repeat(false, {{ len_b }}), 'in_a', cast(array() as array<int>)),
                (jw_state, jw_i) -> element_at(transform(array({{ match_in_b }}), jw_m ->
                    case when jw_m is null then jw_state else named_struct(
                        'used', transform(jw_state.used, (jw_u, jw_n) -> jw_u or jw_n + 1 = jw_m),
                        'in_a', concat(jw_state.in_a, array(jw_i)))
                    end), 1),
                jw_state -> case when {{ matches }} = 0 then 0.0 else
                    ({{ matches }} / {{ len_a }} + {{ matches }} / {{ len_b }}
                     + ({{ matches }} - {{ transpositions }}) / {{ matches }}) / 3.0
                end)
        ), jw_jaro -> case when jw_jaro > 0.7 then jw_jaro + ({{ prefix }}) * 0.1 * (1.0 - jw_jaro) else jw_jaro end), 1)
    end)
{%- endmacro %}

{#- Whether a rule judges record pairs (int_identity__similar_pairs) rather than shared keys
    (int_identity__match_keys): it has `similar` criteria or vetoes. -#}
{% macro is_pair_rule(rule) -%}
    {{ return((rule.similar or rule.not_different or rule.not_dissimilar) | length > 0) }}
{%- endmacro %}

{#- Whether a's compared values (similar_1 .. similar_<n>) come before b's or equal them, in
    lexicographic order: each unordered pair of values, compared once. -#}
{% macro values_in_order(n, i=1) -%}
    {%- if i == n -%}
        a.similar_{{ i }} <= b.similar_{{ i }}
    {%- else -%}
        a.similar_{{ i }} < b.similar_{{ i }} or (a.similar_{{ i }} = b.similar_{{ i }} and ({{ values_in_order(n, i + 1) }}))
    {%- endif -%}
{%- endmacro %}

{#- An identifier value folded so that a value one typing slip away folds the same (identity.yml
    `slip_keys`): `swapped_letters` sorts the characters, `doubled_letters` writes a run of one
    character once. Only the part before an @ is folded; the domain is kept as it is. -#}
{% macro slip_key(slip, expression) -%}
    {%- set local = "split_part(" ~ expression ~ ", '@', 1)" -%}
    {%- set domain = "split_part(" ~ expression ~ ", '@', 2)" -%}
    {%- if slip == 'swapped_letters' -%}
        {{ sorted_characters(local) }} || '@' || {{ domain }}
    {%- elif slip == 'doubled_letters' -%}
        {{ without_repeats(local) }} || '@' || {{ domain }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown slip " ~ slip) }}
    {%- endif -%}
{%- endmacro %}

{% macro sorted_characters(expression) -%}
    {{ return(adapter.dispatch('sorted_characters', 'cx_pipeline')(expression)) }}
{%- endmacro %}

{% macro default__sorted_characters(expression) -%}
    array_to_string(list_sort(string_split({{ expression }}, '')), '')
{%- endmacro %}

{% macro spark__sorted_characters(expression) -%}
    array_join(array_sort(split({{ expression }}, '')), '')
{%- endmacro %}

{#- A run of one character written once (RE2 has no backreferences: DuckDB pairs each character
    with the one before it and drops those equal to it). -#}
{% macro without_repeats(expression) -%}
    {{ return(adapter.dispatch('without_repeats', 'cx_pipeline')(expression)) }}
{%- endmacro %}

{% macro default__without_repeats(expression) -%}
    array_to_string(list_transform(list_filter(
        list_zip(string_split({{ expression }}, ''), list_prepend(null, string_split({{ expression }}, '')), true),
        lambda pair: pair[2] is null or pair[1] <> pair[2]), lambda pair: pair[1]), '')
{%- endmacro %}

{% macro spark__without_repeats(expression) -%}
    regexp_replace({{ expression }}, {{ regex_literal('(.)\\1+') }}, '$1')
{%- endmacro %}

{#- The kind of an identifier value a `not_different` veto compares within: a person holds one
    value of each kind, so values of two kinds do not disagree. E-mail addresses are `private` at
    the consumer mail providers of identity.yml `personal_email_domains` and `work` elsewhere;
    every other type has one kind. -#}
{% macro identifier_kind(type, expression) -%}
    {%- set domains = identity_rules().personal_email_domains or [] -%}
    {%- if type == 'email' and domains -%}
        case when split_part({{ expression }}, '@', 2) in ({{ sql_list(domains) }}) then 'private' else 'work' end
    {%- else -%}
        'one'
    {%- endif -%}
{%- endmacro %}

{#- The writing system of a name: 'han' (any kanji), 'kana' (kana without kanji) or 'other'
    (Latin and the rest). A name written in another system than its pair (山田 花子, ヤマダ ハナコ,
    hanako yamada) cannot be compared without its reading, so it does not count as different. -#}
{% macro writing_system(expression) -%}
    case
        when {{ regexp_matches(expression, '[\\x{3400}-\\x{9fff}\\x{f900}-\\x{faff}]') }} then 'han'
        when {{ regexp_matches(expression, '[\\x{3040}-\\x{30ff}\\x{ff66}-\\x{ff9f}]') }} then 'kana'
        else 'other'
    end
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
        when {{ type_column }} = {{ sql_literal(type) }} and {{ value_column }} in ({{ sql_list(values) }}) then 'junk_value'
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
