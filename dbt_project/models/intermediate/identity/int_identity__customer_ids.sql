-- Which customer_id each record has, kept stable across runs. Kept from run to run (incremental):
-- on each run every current record is assigned again, reading the previous assignment first:
--   * a component whose records had no id yet gets 'cus_' + md5 of its smallest record, so the
--     same data in a new warehouse gives the same ids;
--   * each previous id goes to the component now holding most of its records (its heir);
--   * a component that is heir to several ids (a merge) keeps the one with most records; the
--     others are retired into it;
--   * a component that is heir to none but has records that had ids (split off) gets a new id.
-- previous_customer_id keeps the id each record had before this run: customer_id_changes reads
-- merges and splits from it. Records no longer in the data keep their last row here, so an id
-- comes back with its records. `dbt build --full-refresh` starts the history over.
{{ config(
    materialized='incremental',
    unique_key=['source', 'source_record_id'],
    incremental_strategy=history_incremental_strategy(),
) }}

with components as (
    select * from {{ ref('int_identity__components') }}
),

records as (
    -- record nodes are '0|<source>|<source_record_id>' (macro identity_record_node)
    select
        split_part(node_id, '|', 2) as source,
        substr(node_id, length(split_part(node_id, '|', 2)) + 4) as source_record_id,
        component_id
    from components
    where node_id like '0|%'
),

previous as (
    {%- if is_incremental() %}
    select source, source_record_id, customer_id as previous_customer_id
    from {{ this }}
    {%- else %}
    select
        cast(null as {{ string_type() }}) as source,
        cast(null as {{ string_type() }}) as source_record_id,
        cast(null as {{ string_type() }}) as previous_customer_id
    where false
    {%- endif %}
),

assigned_before as (
    select
        records.source,
        records.source_record_id,
        records.component_id,
        previous.previous_customer_id
    from records
    left join previous
        on previous.source = records.source
        and previous.source_record_id = records.source_record_id
),

-- how many records of each previous id each component holds now
overlap as (
    select component_id, previous_customer_id, count(*) as shared_records
    from assigned_before
    where previous_customer_id is not null
    group by component_id, previous_customer_id
),

heirs as (
    select component_id, previous_customer_id, shared_records
    from (
        select
            overlap.*,
            row_number() over (
                partition by previous_customer_id order by shared_records desc, component_id
            ) as heir_rank
        from overlap
    ) as ranked
    where heir_rank = 1
),

kept_ids as (
    select component_id, customer_id
    from (
        select
            component_id,
            previous_customer_id as customer_id,
            row_number() over (
                partition by component_id order by shared_records desc, previous_customer_id
            ) as kept_rank
        from heirs
    ) as ranked
    where kept_rank = 1
),

component_ids as (
    select
        components.component_id,
        coalesce(
            kept_ids.customer_id,
            -- split off: salted with an id it left, so it cannot take an id in use
            'cus_' || substr(md5(components.component_id || coalesce('|' || components.left_id, '')), 1, 16)
        ) as customer_id
    from (
        select component_id, min(previous_customer_id) as left_id
        from assigned_before
        group by component_id
    ) as components
    left join kept_ids on kept_ids.component_id = components.component_id
),

final as (
    select
        assigned_before.source,
        assigned_before.source_record_id,
        component_ids.customer_id,
        assigned_before.previous_customer_id,
        {{ sql_literal(env_var('CX_RUN_ID', invocation_id)) }} as run_id,
        cast(current_timestamp as {{ timestamp_tz_type() }}) as assigned_at
    from assigned_before
    inner join component_ids on component_ids.component_id = assigned_before.component_id
)

select * from final
