with source as (
    select * from {{ source('ingested', 'partner_referrals') }}
),

renamed as (
    select
        -- ids
        source_record_id,
        referral_id,
        email,
        -- referral
        partner_name,
        full_name,
        company,
        -- timestamps
        referred_at
    from source
)

select * from renamed
