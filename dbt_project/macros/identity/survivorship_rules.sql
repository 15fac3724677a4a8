{#- The survivorship rules from cx_pipeline/config/survivorship.yml, passed by Dagster as the
    `survivorship` var; empty at parse time, an error at build time when missing. -#}
{% macro survivorship_rules() %}
    {%- set rules = var('survivorship', none) -%}
    {%- if rules is none -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error(
                "The `survivorship` var is missing: run dbt through cx-pipeline / Dagster, which passes "
                ~ "cx_pipeline/config/survivorship.yml as --vars.") }}
        {%- endif -%}
        {%- set rules = {} -%}
    {%- endif -%}
    {{ return(rules) }}
{% endmacro %}
