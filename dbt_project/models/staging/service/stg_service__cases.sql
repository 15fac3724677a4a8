with source as (
    select * from {{ source('ingested', 'support_cases') }}
),

renamed as (
    select
        -- ids
        source_record_id,
        case_id,
        service_customer_no,
        phone,
        email,
        -- contact
        full_name,
        -- case
        case_channel,
        severity,
        status,
        csat,
        -- timestamps
        opened_at,
        closed_at
    from source
)

select * from renamed
