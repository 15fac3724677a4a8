with source as (
    select * from {{ source('ingested', 'product_users') }}
),

renamed as (
    select
        -- ids
        source_record_id,
        login as app_login,
        account_id,
        -- person
        email,
        full_name,
        role,
        -- timestamps
        created_at
    from source
)

select * from renamed
