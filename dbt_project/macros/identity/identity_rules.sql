{#- The identity rules from cx_pipeline/config/identity.yml (the `identity` var). -#}
{% macro identity_rules() %}
    {{ return(rules_var('identity', 'cx_pipeline/config/identity.yml', {
        'match_rules': [], 'junk_values': {}, 'junk_patterns': {},
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
    regexp_matches({{ expression }}, {{ sql_literal(pattern) }})
{%- endmacro %}

{% macro spark__regexp_matches(expression, pattern) -%}
    ({{ expression }} rlike {{ sql_literal(pattern) }})
{%- endmacro %}
