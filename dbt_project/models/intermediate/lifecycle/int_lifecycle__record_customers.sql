-- Which customer each accepted source record belongs to: the published identity links.
-- The `lifecycle_grouping` var may name a Parquet file of (source, source_record_id, customer_id)
-- instead, to judge the phase rules on another grouping of the same records: the phase accuracy
-- asset passes the sample's true people (cx_pipeline/lifecycle/accuracy.py).
{%- set grouping = var('lifecycle_grouping', none) %}
with links as (
    {% if grouping -%}
    select
        cast(source as varchar) as source,
        cast(source_record_id as varchar) as source_record_id,
        cast(customer_id as varchar) as customer_id
    from read_parquet('{{ grouping | replace("'", "''") }}')
    {%- else -%}
    select * from {{ ref('customer_identity_links') }}
    {%- endif %}
),

final as (
    select
        customer_id,
        source,
        source_record_id
    from links
)

select * from final
