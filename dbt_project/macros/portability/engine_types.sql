{#- Type names the models cast to, spelled for each engine. DuckDB keeps the names it always had;
    Spark needs a length for varchar and has one timestamp type, which is UTC-based like DuckDB's
    timestamp with time zone. -#}
{% macro string_type() -%}
    {{ return(adapter.dispatch('string_type', 'cx_pipeline')()) }}
{%- endmacro %}

{% macro default__string_type() -%}
    varchar
{%- endmacro %}

{% macro spark__string_type() -%}
    string
{%- endmacro %}

{% macro timestamp_tz_type() -%}
    {{ return(adapter.dispatch('timestamp_tz_type', 'cx_pipeline')()) }}
{%- endmacro %}

{% macro default__timestamp_tz_type() -%}
    timestamp with time zone
{%- endmacro %}

{% macro spark__timestamp_tz_type() -%}
    timestamp
{%- endmacro %}

{#- The contracts in the models' yml files declare DuckDB type names (the published marts are
    DuckDB tables). On Spark, dbt checks a contract by casting null to each declared type:
    translate the names Spark spells differently first, so the same contracts hold on both. -#}
{% macro spark_type_for(data_type) -%}
    {%- set spelled = data_type | trim | lower -%}
    {%- set spark_names = {
        'varchar': 'string',
        'text': 'string',
        'timestamp with time zone': 'timestamp',
        'timestamptz': 'timestamp',
        'integer': 'int',
    } -%}
    {{ return(spark_names.get(spelled, data_type)) }}
{%- endmacro %}

{% macro spark__get_empty_schema_sql(columns) %}
    {%- set translated = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set column = column.copy() if column is mapping else column.to_dict() -%}
        {%- if column.get('data_type') -%}
            {%- do column.update({'data_type': spark_type_for(column['data_type'])}) -%}
        {%- endif -%}
        {%- do translated.update({name: column}) -%}
    {%- endfor -%}
    {{ return(default__get_empty_schema_sql(translated)) }}
{% endmacro %}

{#- How a kept history (int_identity__customer_ids) takes a run's rows: replace the rows of the
    records seen again, keep the others. dbt-spark offers that (merge) only on Delta, Iceberg or
    Hudi tables; on its Parquet tables a first build works and a re-run must be a full refresh
    (docs/scale-out.md). -#}
{% macro history_incremental_strategy() -%}
    {{ return(adapter.dispatch('history_incremental_strategy', 'cx_pipeline')()) }}
{%- endmacro %}

{% macro default__history_incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__history_incremental_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{#- How the timeline (fct_touchpoints) takes a run's new and changed rows: merge on its key. The
    same limit as above on Spark's Parquet tables: a first build works, a re-run must be a full
    refresh (docs/scale-out.md). -#}
{% macro timeline_incremental_strategy() -%}
    {{ return(adapter.dispatch('timeline_incremental_strategy', 'cx_pipeline')()) }}
{%- endmacro %}

{% macro default__timeline_incremental_strategy() -%}
    {{ return('merge') }}
{%- endmacro %}

{% macro spark__timeline_incremental_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}
