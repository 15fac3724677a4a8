-- Every accepted source row as a touchpoint, as the registry's `touchpoint:` entries declare.
with source as (
    select * from {{ source('ingested', 'touchpoints') }}
),

renamed as (
    select
        source,
        source_record_id,
        department,
        channel,
        touchpoint_type,
        occurred_at
    from source
)

select * from renamed
