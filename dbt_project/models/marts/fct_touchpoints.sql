-- One timeline across every channel: each accepted source row as a touchpoint, with its customer.
-- Incremental: a run merges (on touchpoint_id) only the touchpoints that are new or changed and
-- those whose record identity resolution moved to another customer this run (a merge, a split);
-- touchpoints whose source row is gone are deleted. A run with nothing new changes nothing, and
-- the result is row for row what a full build gives (tests/test_incremental.py).
-- `dbt build --full-refresh` rebuilds it whole.
-- depends_on: {{ ref('int_identity__customer_ids') }}
{{ config(
    materialized='incremental',
    unique_key='touchpoint_id',
    incremental_strategy=timeline_incremental_strategy(),
    on_schema_change='fail',
    post_hook=[
        "{% if is_incremental() %}delete from {{ this }} where touchpoint_id not in (select md5(source || ':' || source_record_id) from {{ ref('stg_cx__touchpoints') }}){% endif %}"
    ],
) }}

with touchpoints as (
    select
        md5(source || ':' || source_record_id) as touchpoint_id,
        *
    from {{ ref('stg_cx__touchpoints') }}
),

links as (
    select * from {{ ref('int_identity_links') }}
),

{%- if is_incremental() %}

-- the touchpoints not yet on the timeline as they are now (new rows, or a row delivered again
-- with other values)
new_or_changed as (
    select touchpoints.*
    from touchpoints
    left join {{ this }} as timeline
        on timeline.touchpoint_id = touchpoints.touchpoint_id
        and timeline.source = touchpoints.source
        and timeline.source_record_id = touchpoints.source_record_id
        and timeline.department is not distinct from touchpoints.department
        and timeline.channel is not distinct from touchpoints.channel
        and timeline.touchpoint_type is not distinct from touchpoints.touchpoint_type
        and timeline.occurred_at is not distinct from touchpoints.occurred_at
    where timeline.touchpoint_id is null
),

-- the records identity resolution gave a customer for the first time or moved this run
reassigned as (
    select source, source_record_id
    from {{ ref('int_identity__customer_ids') }}
    where run_id = {{ sql_literal(env_var('CX_RUN_ID', invocation_id)) }}
        and previous_customer_id is distinct from customer_id
),

changed as (
    select * from new_or_changed
    union
    select touchpoints.*
    from touchpoints
    inner join reassigned
        on reassigned.source = touchpoints.source
        and reassigned.source_record_id = touchpoints.source_record_id
),

{%- else %}

changed as (
    select * from touchpoints
),

{%- endif %}

final as (
    select
        -- ids
        changed.touchpoint_id,
        links.customer_id,
        changed.source,
        changed.source_record_id,
        -- classification
        changed.department,
        changed.channel,
        changed.touchpoint_type,
        -- timestamps
        changed.occurred_at
    from changed
    inner join links
        on changed.source = links.source
        and changed.source_record_id = links.source_record_id
)

select * from final
