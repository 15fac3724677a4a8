{#- The identity rules from cx_pipeline/config/identity.yml, passed by Dagster as the `identity`
    var. At parse time (no var yet) an empty ruleset lets the project parse; a build without the
    var fails rather than silently linking nothing. -#}
{% macro identity_rules() %}
    {%- set rules = var('identity', none) -%}
    {%- if rules is none -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error(
                "The `identity` var is missing: run dbt through cx-pipeline / Dagster, which passes "
                ~ "cx_pipeline/config/identity.yml as --vars.") }}
        {%- endif -%}
        {%- set rules = {'match_rules': [], 'junk_values': {}, 'junk_patterns': {},
                         'max_records_per_value': {}, 'max_distinct_neighbours': {}} -%}
    {%- endif -%}
    {{ return(rules) }}
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
