{#- The `ingested` sources are Parquet files the ingestion writes. dbt-duckdb reads them in place
    through each table's `external_location`; other engines get a view per table over its
    `parquet_path` (models/staging/_ingested__sources.yml), created before the run (on-run-start)
    so that source('ingested', ...) resolves to ingested.<table> everywhere. -#}
{% macro register_ingested_sources() %}
    {{ return(adapter.dispatch('register_ingested_sources', 'cx_pipeline')()) }}
{% endmacro %}

{% macro default__register_ingested_sources() %}
    {#- external_location does it -#}
    {{ return('') }}
{% endmacro %}

{% macro spark__register_ingested_sources() %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set ns = namespace(schema_created=false) -%}
    {%- for source in graph.sources.values() if source.source_name == 'ingested' -%}
        {%- set path = source.meta.get('parquet_path') -%}
        {%- if not path -%}
            {{ exceptions.raise_compiler_error(
                "source ingested." ~ source.name ~ " has no meta.parquet_path: Spark cannot read it") }}
        {%- endif -%}
        {%- if not ns.schema_created -%}
            {% do run_query('create schema if not exists ' ~ source.schema) %}
            {%- set ns.schema_created = true -%}
        {%- endif -%}
        {%- set path = path | replace('{name}', source.name) -%}
        {% do run_query(
            'create or replace view ' ~ source.schema ~ '.' ~ source.identifier
            ~ ' as select * from parquet.`' ~ path | replace('`', '``') ~ '`') %}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}
