with source as (
    select * from {{ source('ingested', 'product_usage') }}
),

renamed as (
    select
        -- ids
        source_record_id,
        account_id,
        app_login,
        -- usage
        active_minutes,
        feature_events,
        -- timestamps
        usage_date
    from source
)

select * from renamed
