with source as (
    select * from {{ source('ingested', 'email_events') }}
),

renamed as (
    select
        -- ids
        source_record_id,
        event_id,
        campaign_id,
        email,
        -- event
        event_type,
        -- timestamps
        event_ts as occurred_at
    from source
)

select * from renamed
