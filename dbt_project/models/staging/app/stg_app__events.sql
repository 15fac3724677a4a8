with source as (
    select * from {{ source('ingested', 'app_events') }}
),

renamed as (
    select
        -- ids
        source_record_id,
        event_id,
        device_id,
        app_login,
        account_email as email,
        -- event
        event_type,
        platform,
        -- timestamps
        event_ts as occurred_at
    from source
)

select * from renamed
