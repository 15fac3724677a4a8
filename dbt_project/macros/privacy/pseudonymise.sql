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

{#- Spark has no HMAC function: commons-codec's (on Spark's classpath) through reflect(). The key
    is a session setting the profile reads from CX_PSEUDONYM_KEY (spark.cx.pseudonym.key), put in by
    Spark's variable substitution when the query runs: the compiled SQL holds `${...}`, not the key. -#}
{% macro spark__pseudonymise(value) -%}
    case
        when {{ value }} is null then null
        when length('${spark.cx.pseudonym.key}') < 32 then raise_error(
            'CX_PSEUDONYM_KEY is not set or shorter than 32 characters: the spark target reads it into spark.cx.pseudonym.key')
        else reflect('org.apache.commons.codec.digest.HmacUtils', 'hmacSha256Hex', '${spark.cx.pseudonym.key}', {{ value }})
    end
{%- endmacro %}

{% macro default__pseudonymise(value) -%}
    {{ exceptions.raise_compiler_error(
        "pseudonymise() has no implementation for the " ~ target.type ~ " adapter: add a "
        ~ target.type ~ "__pseudonymise macro (an HMAC-SHA256 keyed by the pseudonymisation key) "
        ~ "before publishing marts from it; see docs/privacy.md") }}
{%- endmacro %}
