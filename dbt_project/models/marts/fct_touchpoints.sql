-- One timeline across every channel: each accepted source row as a touchpoint, with its customer.
with touchpoints as (
    select * from {{ ref('stg_cx__touchpoints') }}
),

links as (
    select * from {{ ref('int_identity_links') }}
),

final as (
    select
        -- ids
        md5(touchpoints.source || ':' || touchpoints.source_record_id) as touchpoint_id,
        links.customer_id,
        touchpoints.source,
        touchpoints.source_record_id,
        -- classification
        touchpoints.department,
        touchpoints.channel,
        touchpoints.touchpoint_type,
        -- timestamps
        touchpoints.occurred_at
    from touchpoints
    inner join links
        on touchpoints.source = links.source
        and touchpoints.source_record_id = links.source_record_id
)

select * from final
