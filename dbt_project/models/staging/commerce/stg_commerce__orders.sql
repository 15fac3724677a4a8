with source as (
    select * from {{ source('ingested', 'orders') }}
),

renamed as (
    select
        -- ids
        source_record_id,
        order_id,
        email,
        phone,
        -- buyer
        full_name,
        postal_code,
        -- order
        amount,
        currency,
        status,
        -- timestamps
        ordered_at
    from source
)

select * from renamed
