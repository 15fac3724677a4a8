with source as (
    select * from {{ source('ingested', 'web_events') }}
),

renamed as (
    select
        -- ids
        source_record_id,
        event_id,
        cookie_id,
        email,
        -- event
        event_type,
        page_url,
        utm_source,
        -- timestamps
        event_ts as occurred_at
    from source
)

select * from renamed
