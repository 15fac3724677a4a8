{#- The survivorship rules from cx_pipeline/config/survivorship.yml (the `survivorship` var). -#}
{% macro survivorship_rules() %}
    {{ return(rules_var('survivorship', 'cx_pipeline/config/survivorship.yml', {})) }}
{% endmacro %}
