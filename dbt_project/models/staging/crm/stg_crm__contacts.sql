with source as (
    select * from {{ source('ingested', 'crm_contacts') }}
),

renamed as (
    select
        -- ids
        source_record_id,
        crm_id,
        account_id,
        -- person
        company,
        first_name,
        last_name,
        email,
        phone,
        country,
        postal_code,
        -- pipeline state
        lead_source,
        stage,
        do_not_contact,
        opportunity_amount,
        -- timestamps
        created_at,
        updated_at,
        opportunity_created_at,
        contract_signed_at
    from source
)

select * from renamed
