{#- The lifecycle rules from cx_pipeline/config/lifecycle.yml (the `lifecycle` var). -#}
{% macro lifecycle_rules() %}
    {{ return(rules_var('lifecycle', 'cx_pipeline/config/lifecycle.yml', {})) }}
{% endmacro %}

{#- The calendar day of a timestamp with time zone in the lifecycle's time zone. -#}
{% macro lifecycle_local_date(timestamp) -%}
    cast(timezone('{{ lifecycle_rules().timezone }}', {{ timestamp }}) as date)
{%- endmacro %}

{#- A SQL list of string literals: ('a', 'b'). An empty list never matches. -#}
{% macro sql_strings(values) -%}
    {%- if values -%}
        ({% for value in values %}'{{ value | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- else -%}
        (select null::varchar where false)
    {%- endif -%}
{%- endmacro %}

{#- True when a touchpoint is one of {source: [touchpoint type, ...]}. -#}
{% macro touchpoint_is(touchpoints, source='source', touchpoint_type='touchpoint_type') -%}
    {%- if touchpoints -%}
        ({% for name, types in touchpoints.items() -%}
            ({{ source }} = '{{ name }}' and {{ touchpoint_type }} in {{ sql_strings(types) }})
            {%- if not loop.last %} or {% endif %}
        {%- endfor %})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}
