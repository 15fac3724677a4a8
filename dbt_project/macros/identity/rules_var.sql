{#- A ruleset Dagster passes as a var from one of cx_pipeline/config/*.yml. At parse time (no var
    yet) `empty` lets the project parse; a build without the var fails rather than running with
    no rules. -#}
{% macro rules_var(name, config_file, empty) %}
    {%- set rules = var(name, none) -%}
    {%- if rules is none -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error(
                "The `" ~ name ~ "` var is missing: run dbt through cx-pipeline / Dagster, which "
                ~ "passes " ~ config_file ~ " as --vars.") }}
        {%- endif -%}
        {%- set rules = empty -%}
    {%- endif -%}
    {{ return(rules) }}
{% endmacro %}
