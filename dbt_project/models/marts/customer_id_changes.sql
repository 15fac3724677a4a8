-- Every merge and split of customers, per run: what a CRM or ad platform synced with old ids
-- needs to follow them. Appended on each run; a run that changes nothing adds nothing.
--   merged  from_customer_id is retired: its records now belong to customer_id
--   split   from_customer_id lives on, but record_count of its records now belong to customer_id
{{ config(materialized='incremental', on_schema_change='fail') }}

with assignments as (
    select * from {{ ref('int_identity__customer_ids') }}
    where run_id = {{ sql_literal(env_var('CX_RUN_ID', invocation_id)) }}
),

moves as (
    select
        run_id,
        previous_customer_id as from_customer_id,
        customer_id,
        count(*) as record_count,
        max(assigned_at) as changed_at
    from assignments
    where previous_customer_id is not null
        and previous_customer_id <> customer_id
    group by run_id, previous_customer_id, customer_id
),

ids_in_use as (
    select distinct customer_id from assignments
),

final as (
    select
        moves.run_id,
        moves.changed_at,
        case when ids_in_use.customer_id is null then 'merged' else 'split' end as change_type,
        moves.customer_id,
        moves.from_customer_id,
        moves.record_count
    from moves
    left join ids_in_use on ids_in_use.customer_id = moves.from_customer_id
    {%- if is_incremental() %}
    where moves.run_id not in (select run_id from {{ this }})
    {%- endif %}
)

select * from final
