{#- The pseudonym of a normalised email or phone: HMAC-SHA256 under the key of
    cx_pipeline/config/privacy.yml (pseudonymisation.key_env), 64 lowercase hex characters; null
    stays null. The same value always gives the same pseudonym, so BI can still count, join and
    deduplicate. On DuckDB the function comes from the profile's plugin
    (cx_pipeline/privacy/dbt_plugin.py); another adapter needs its own implementation. -#}
{% macro pseudonymise(value) -%}
    {{ return(adapter.dispatch('pseudonymise', 'cx_pipeline')(value)) }}
{%- endmacro %}

{% macro duckdb__pseudonymise(value) -%}
    cx_pseudonym({{ value }})
{%- endmacro %}

{% macro default__pseudonymise(value) -%}
    {{ exceptions.raise_compiler_error(
        "pseudonymise() has no implementation for the " ~ target.type ~ " adapter: add a "
        ~ target.type ~ "__pseudonymise macro (an HMAC-SHA256 keyed by the pseudonymisation key) "
        ~ "before publishing marts from it; see docs/privacy.md") }}
{%- endmacro %}
